"""Offline geocoding of French postcodes and communes.

The gazetteer is ``taxonomy/data/postcodes.csv``, built by
``tools/build_postcodes.py``: one row per (postcode, commune) of metropolitan
France and the overseas departments, with the coordinates of that commune for
that postcode. Within one postcode, rows are ordered by commune population
(largest first), so the first row is the commune people usually mean.

Sources (see ``NOTICE``): communes and postcodes from Etalab's
*découpage administratif* (INSEE COG and La Poste, Licence Ouverte 2.0);
coordinates from GeoNames postal codes (CC BY 4.0).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from anyascii import anyascii
from rapidfuzz import fuzz, process

from symbiose.geo import chord_for_km, unit_vectors

POSTCODES_PATH = Path(__file__).parent / "taxonomy" / "data" / "postcodes.csv"

_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_CEDEX = re.compile(r"\bcedex(\s+\d+)?\b")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PLACE_COLUMNS = ("postcode", "insee", "commune", "lat", "lon", "department")
_FUZZY_CUTOFF = 85.0  # rapidfuzz score (0-100) for a near-miss spelling of a commune


class GeocodeError(ValueError):
    """A postcode or commune that cannot be resolved; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Place:
    """A commune located by its postcode.

    ``ambiguous``: the postcode serves several communes and none was named, so
    the most populous one was taken. ``city_mismatch``: the city given is not
    one of the postcode's communes, so the postcode's main commune was taken.
    """

    postcode: str
    commune: str
    lat: float
    lon: float
    department: str
    insee: str
    ambiguous: bool = False
    city_mismatch: bool = False

    @property
    def label(self) -> str:
        """``"Fos-sur-Mer (13)"``: commune and department, as shown to users."""
        return f"{self.commune} ({self.department})"


def fold(text: str) -> str:
    """Matching key of a place name: no accents, case, punctuation or "Cedex";
    "St"/"Ste" spelt out ("ST-DENIS" and "Saint-Denis" both give "saint denis")."""
    s = _NON_ALNUM.sub(" ", anyascii(text).lower())
    s = _CEDEX.sub(" ", s)
    return " ".join(_ABBREVIATIONS.get(t, t) for t in s.split())


def normalise_postcode(value: object) -> str:
    """Five-digit French postcode from what a form or spreadsheet gives:
    ``"13 270"``, ``1000`` (lost leading zero), ``"13270.0"``, ``"F-13270"``."""
    if value is None:
        raise GeocodeError("missing postcode; expected a 5-digit French postcode such as '13270'")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    raw = str(value)
    s = re.sub(r"\s+", "", raw).upper()
    s = re.sub(r"^(FR?-?)", "", s)
    s = re.sub(r"\.0+$", "", s)
    if not s.isdigit() or len(s) not in (4, 5):
        raise GeocodeError(
            f"invalid postcode {raw!r}; expected a 5-digit French postcode such as '13270'"
        )
    return s.zfill(5)


class Gazetteer:
    """French postcodes and communes with their coordinates, loaded once from CSV."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else POSTCODES_PATH
        with self.path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            self._rows: list[list[str]] = list(reader)
        col = {name: i for i, name in enumerate(header)}
        self._cols = tuple(col[c] for c in _PLACE_COLUMNS)
        self._population = col.get("population")
        self._by_postcode: dict[str, list[int]] = {}
        self._by_name: dict[str, list[int]] = {}
        pc, name = col["postcode"], col["commune_folded"]
        self._folded = [r[name] for r in self._rows]
        for i, r in enumerate(self._rows):
            self._by_postcode.setdefault(r[pc], []).append(i)
            self._by_name.setdefault(r[name], []).append(i)
        self._names = list(self._by_name)
        self._tree = None  # built on first commune_at()

    def _place(self, i: int, **flags: bool) -> Place:
        r = self._rows[i]
        pc, insee, commune, lat, lon, dep = (r[c] for c in self._cols)
        return Place(pc, commune, float(lat), float(lon), dep, insee, **flags)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, postcode: object) -> bool:
        try:
            return normalise_postcode(postcode) in self._by_postcode
        except GeocodeError:
            return False

    def communes(self, postcode: str) -> list[Place]:
        """Every commune served by ``postcode`` (most populous first); empty if unknown."""
        return [self._place(i) for i in self._by_postcode.get(normalise_postcode(postcode), [])]

    def locate(self, postcode: str | int | float | None, city: str | None = None) -> Place:
        """The place of a postcode, narrowed to the commune named ``city`` when given.

        A postcode that serves no commune (CEDEX, company codes) is accepted when
        ``city`` names one commune of the same department area. Raises
        :class:`GeocodeError` for a malformed or unknown postcode, or for a city
        alone that matches no commune.
        """
        city_key = fold(city) if city and city.strip() else ""
        if postcode is None or (isinstance(postcode, str) and not postcode.strip()):
            if not city_key:
                raise GeocodeError("no postcode and no city; expected a French postcode or commune name")
            return self._locate_city(city, city_key)
        code = normalise_postcode(postcode)
        rows = self._by_postcode.get(code)
        if not rows:
            place = self._locate_special(code, city_key) if city_key else None
            if place is None:
                raise GeocodeError(
                    f"unknown French postcode {code!r}; expected the 5-digit postcode of a French commune"
                )
            return place
        if not city_key:
            return self._place(rows[0], ambiguous=len(rows) > 1)
        hit = self._match(city_key, rows)
        if hit is None:
            return self._place(rows[0], ambiguous=len(rows) > 1, city_mismatch=True)
        return self._place(hit)

    def _match(self, key: str, rows: list[int]) -> int | None:
        """Row among ``rows`` whose commune is ``key``: exact, then "Lyon 7e" style
        prefix, then the closest spelling above the fuzzy cut-off."""
        for i in rows:
            if self._folded[i] == key:
                return i
        for i in rows:
            if key.startswith(self._folded[i] + " "):
                return i
        best = process.extractOne(
            key, {i: self._folded[i] for i in rows}, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
        )
        return None if best is None else best[2]

    def _locate_special(self, code: str, key: str) -> Place | None:
        """A CEDEX or company postcode (``13776`` + "Fos-sur-Mer Cedex"): the commune
        of that name whose own postcodes share the first two digits, if exactly one."""
        rows = [i for i in self._by_name.get(key, []) if self._rows[i][self._cols[0]][:2] == code[:2]]
        if len({self._rows[i][self._cols[1]] for i in rows}) != 1:
            return None
        return self._place(rows[0])

    def _locate_city(self, city: str, key: str) -> Place:
        rows = self._by_name.get(key)
        if rows is None:
            best = process.extractOne(key, self._names, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
            if best is None:
                raise GeocodeError(
                    f"unknown French commune {city!r} and no postcode; expected a commune name "
                    "or a 5-digit postcode"
                )
            rows = self._by_name[best[0]]
        communes = {self._rows[i][self._cols[1]] for i in rows}
        main = rows[0] if self._population is None else max(rows, key=self._population_of)
        return self._place(main, ambiguous=len(communes) > 1)

    def _population_of(self, i: int) -> int:
        return int(self._rows[i][self._population] or 0)

    def commune_at(self, lat: float, lon: float, max_km: float = 25.0) -> Place | None:
        """The commune whose postcode point is nearest to (lat, lon), or None if
        none lies within ``max_km`` (a point at sea or abroad)."""
        if self._tree is None:
            from scipy.spatial import cKDTree

            lat_col, lon_col = self._cols[3], self._cols[4]
            lats = np.array([r[lat_col] for r in self._rows], dtype=float)
            lons = np.array([r[lon_col] for r in self._rows], dtype=float)
            self._tree = cKDTree(unit_vectors(lats, lons))
        dist, idx = self._tree.query(unit_vectors(lat, lon)[0])
        if not np.isfinite(dist) or dist > chord_for_km(max_km):
            return None
        return self._place(int(idx))


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    """The gazetteer shipped with the package, loaded once."""
    return Gazetteer()


__all__ = [
    "GeocodeError",
    "Gazetteer",
    "Place",
    "fold",
    "get_gazetteer",
    "normalise_postcode",
]
