"""Reading the firm list of a pre-diagnostic (``docs/prediagnostic.md``).

A SIRENE-like CSV or XLSX: one row per establishment with its SIRET, name,
NAF/APE code, INSEE size band (``tranche d'effectif salarié``) or headcount,
and a location. The file is checked whole, with the diagnostic's cell
parsers and row-error style (row, column as written, value, what was
expected); :func:`read_firms` never raises on bad content.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symbiose.domain import Issue
from symbiose.geocode import GeocodeError, get_gazetteer
from symbiose.explain.issues import issue
from symbiose.ingest import parse_bool, parse_naf, parse_number, parse_postcode, read_table
from symbiose.ingest.cells import CellError
from symbiose.text import header_key

MAX_FIRMS = 200_000

# canonical column -> accepted header spellings (INSEE's Sirene names included)
FIRM_COLUMNS: dict[str, tuple[str, ...]] = {
    "company_id": ("siret", "company_id", "id_entreprise", "siren"),
    "company_name": ("raison_sociale", "company_name", "entreprise", "nom", "denomination",
                     "denominationUniteLegale", "enseigne1Etablissement", "enseigne"),
    "naf": ("naf", "code_naf", "ape", "code_ape", "activite_principale", "activitePrincipaleEtablissement"),
    "size_band": ("tranche_effectif", "tranche_effectif_salarie", "tranche_effectifs", "trancheEffectifsEtablissement",
                  "tefet", "size_band"),
    "employees": ("effectif", "effectifs", "headcount", "employees", "nb_salaries", "salaries"),
    "address": ("adresse", "address", "adresse_complete"),
    "postcode": ("code_postal", "postcode", "cp", "codePostalEtablissement"),
    "city": ("commune", "city", "ville", "libelleCommuneEtablissement"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "longitude", "lng"),
    "confidential": ("confidentiel", "confidential"),
}
REQUIRED = ("company_id", "company_name", "naf")
_INDEX = {header_key(alias): col for col, aliases in FIRM_COLUMNS.items() for alias in aliases}
_SIRET = re.compile(r"\d{14}")



@dataclass(frozen=True, slots=True)
class Firm:
    """One establishment of the list."""

    id: str
    name: str
    naf: str | None
    row: int
    size_band: str | None = None
    employees: float | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    confidential: bool = False


@dataclass
class ParsedFirms:
    firms: list[Firm] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _as_issue(exc: Exception, row: int, column: str, value: str) -> Issue:
    """A cell parser's error as a row issue (its message code and parameters)."""
    if isinstance(exc, CellError):
        return issue(exc.code, row=row, column=column, value=value, **exc.params)
    return Issue(row, column, value, str(exc))


def _band(text: str, bands: set[str]) -> str | None:
    code = text.strip().upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code  # "1" written by a spreadsheet for "01"
    return code if code in bands else None


def read_firms(source: Path | bytes, *, filename: str | None = None, bands: set[str] | None = None) -> ParsedFirms:
    """Read and check a whole firm list; ``bands`` are the accepted INSEE size-band codes."""
    from symbiose.prediagnostic.profiles import get_profiles

    if isinstance(source, Path):
        filename = filename or source.name
        data = source.read_bytes()
    else:
        data = source
    bands = bands if bands is not None else set(get_profiles().data.size_bands)
    out = ParsedFirms()
    table, notes = read_table(data, filename)
    for note in notes:
        (out.errors if note.row == 1 else out.warnings).append(note)
    while table and not any(c.strip() for c in table[0]):
        table = table[1:]
    if not table:
        if not out.errors:
            out.errors.append(issue("firms.empty", row=1))
        return out
    header = table[0]
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        col = _INDEX.get(header_key(name))
        if col is None:
            continue
        if col in index:
            out.errors.append(issue("header.duplicate", row=1, column=name, value=name, field=col,
                                    first=header[index[col]].strip()))
            continue
        index[col] = i
    for col in REQUIRED:
        if col not in index:
            out.errors.append(issue("header.missing", row=1, column=col, field=col,
                                    aliases=", ".join(FIRM_COLUMNS[col][1:4])))
    if not (("lat" in index and "lon" in index) or "postcode" in index or "city" in index):
        out.errors.append(issue("header.missing_location", row=1, column="postcode"))
    if out.errors:
        return out
    body = table[1:]
    if len(body) > MAX_FIRMS:
        out.errors.append(issue("file.too_many_rows", value=str(len(body)), maximum=MAX_FIRMS))
        return out
    names = {col: header[i].strip() for col, i in index.items()}
    seen: dict[str, int] = {}
    for n, cells in enumerate(body):
        row = n + 2
        if not any(c.strip() for c in cells):
            continue
        firm = _read_row(row, cells, index, names, bands, out)
        if firm is None:
            continue
        if firm.id in seen:
            out.warnings.append(issue("firm.duplicate", row=row, column=names["company_id"], value=firm.id,
                                      first_row=seen[firm.id]))
            continue
        seen[firm.id] = row
        out.firms.append(firm)
    if not out.errors and not out.firms:
        out.warnings.append(issue("firms.no_rows"))
    return out


def _read_row(row: int, cells: list[str], index: dict[str, int], names: dict[str, str], bands: set[str],
              out: ParsedFirms) -> Firm | None:
    def get(col: str) -> str:
        i = index.get(col)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    errors: list[Issue] = []

    def attempt(col: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - the parsers raise row errors carrying an Issue
            errors.append(_as_issue(exc, row, names.get(col, col), get(col)))
            return None

    fid = re.sub(r"\s", "", get("company_id"))
    if not fid:
        errors.append(issue("company_id.missing", row=row, column=names["company_id"], value=""))
    elif not _SIRET.fullmatch(fid):
        out.warnings.append(issue("firm.not_siret", row=row, column=names["company_id"], value=fid))
    name = get("company_name")
    if not name:
        errors.append(issue("company_name.missing", row=row, column=names["company_name"], value=""))
    naf = attempt("naf", lambda: parse_naf(get("naf"))) if get("naf") else None
    if not get("naf"):
        out.warnings.append(issue("firm.no_naf", row=row, column=names["naf"]))
    band = None
    if get("size_band"):
        band = _band(get("size_band"), bands)
        if band is None:
            errors.append(issue("firm.size_band", row=row, column=names["size_band"], value=get("size_band")))
    employees = attempt("employees", lambda: parse_number(get("employees"), "employees", minimum=0, maximum=1e6)) if get("employees") else None
    if band is None and employees is None and not any(e.row == row for e in errors):
        out.warnings.append(issue("firm.no_size", row=row, column=names.get("size_band", names.get("employees", "tranche_effectif"))))
    lat = attempt("lat", lambda: parse_number(get("lat"), "lat", minimum=-90, maximum=90)) if get("lat") else None
    lon = attempt("lon", lambda: parse_number(get("lon"), "lon", minimum=-180, maximum=180)) if get("lon") else None
    if (lat is None) != (lon is None) and not errors:
        errors.append(issue("coordinates.incomplete", row=row, column=names.get("lat" if lat is None else "lon", "lat"), value=""))
    postcode = attempt("postcode", lambda: parse_postcode(get("postcode"))) if get("postcode") else None
    city = get("city") or None
    if lat is None or lon is None:
        lat = lon = None
        if postcode or city:
            try:
                place = get_gazetteer().locate(postcode, city)
                lat, lon, city = place.lat, place.lon, city or place.commune
            except GeocodeError:
                errors.append(issue("postcode.unknown", row=row, column=names.get("postcode", names.get("city", "postcode")),
                                    value=postcode or city))
        elif not errors:
            errors.append(issue("location.missing", row=row, column=names.get("postcode", "postcode"), value=""))
    confidential = bool(attempt("confidential", lambda: parse_bool(get("confidential")))) if get("confidential") else False
    if errors:
        out.errors.extend(errors)
        return None
    return Firm(id=fid, name=name, naf=naf, row=row, size_band=band, employees=employees,
                address=get("address") or None, postcode=postcode, city=city, lat=lat, lon=lon,
                confidential=confidential)
