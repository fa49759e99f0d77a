"""Reading a flow diagnostic (CSV or XLSX, ``diagnostic-format.md``).

:func:`read_diagnostic` checks the whole file and returns a
:class:`ParsedDiagnostic`: the companies and flows it describes, every
blocking row error and every warning. It never writes anything and never
raises on bad input: the service layer decides what to store.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from symbiose.classify import LOW_CONFIDENCE, UNKNOWN_THRESHOLD, get_classifier
from symbiose.domain import (
    ALL_MONTHS,
    UNKNOWN_RESOURCE,
    Company,
    Diagnostic,
    Direction,
    Flow,
    Issue,
    flow_key,
    months_mask,
)
from symbiose.geocode import GeocodeError, get_gazetteer, normalise_postcode
from symbiose.taxonomy import Taxonomy, get_taxonomy
from symbiose.text import fold, header_key
from symbiose.units import EXPECTED_UNITS, UnitError, normalise_period, normalise_unit, to_yearly, to_yearly_stated

Progress = Callable[[int, int], None]
MAX_ROWS = 2_000_000
MAX_QUANTITY = 1e9  # per row and period: beyond any real site, a typo or a unit slip

# canonical column -> accepted header spellings (matched with text.header_key)
COLUMNS: dict[str, tuple[str, ...]] = {
    "company_id": ("company_id", "siret", "id_entreprise"),
    "company_name": ("company_name", "entreprise", "raison_sociale"),
    "direction": ("direction", "sens"),
    "resource": ("resource", "ressource", "flux"),
    "quantity": ("quantity", "quantite"),
    "unit": ("unit", "unite"),
    "period": ("period", "periode", "frequence"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "longitude", "lng"),
    "postcode": ("postcode", "code_postal", "cp"),
    "city": ("city", "commune", "ville"),
    "territory": ("territory", "territoire", "zone"),
    "naf": ("naf", "code_naf", "ape", "code_ape"),
    "ewc": ("ewc", "code_dechet", "ced", "code_ced"),
    "hazardous": ("hazardous", "dangereux"),
    "temperature_c": ("temperature_c", "temperature"),
    "concentration_pct": ("concentration_pct", "concentration"),
    "cost_eur_per_unit": ("cost_eur_per_unit", "cout_unitaire"),
    "months": ("months", "mois_disponibles"),
    "confidential": ("confidential", "confidentiel"),
    "label": ("label", "description", "libelle"),
    "notes": ("notes", "remarques"),
}
REQUIRED = ("company_id", "company_name", "direction", "resource", "quantity", "unit")
_HEADER_INDEX = {header_key(alias): col for col, aliases in COLUMNS.items() for alias in aliases}

DIRECTIONS = {
    "out": Direction.OUT, "sortant": Direction.OUT, "sortie": Direction.OUT, "output": Direction.OUT, "s": Direction.OUT,
    "in": Direction.IN, "entrant": Direction.IN, "entree": Direction.IN, "input": Direction.IN, "e": Direction.IN,
}
BOOLEANS = {
    "true": True, "vrai": True, "oui": True, "yes": True, "1": True, "o": True, "y": True, "x": True,
    "false": False, "faux": False, "non": False, "no": False, "0": False, "n": False, "": False,
}


@dataclass(frozen=True, slots=True)
class ClassifiedText:
    row: int
    text: str
    code: str
    confidence: float


@dataclass(frozen=True)
class ParsedDiagnostic:
    """What a diagnostic file says, checked whole: nothing is written yet."""

    diagnostic: Diagnostic
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    classified: tuple[ClassifiedText, ...]
    ignored_columns: tuple[str, ...] = ()
    rows: int = 0
    flow_rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class _RowError(Exception):
    def __init__(self, column: str, value: Any, expected: str):
        super().__init__(expected)
        self.issue = Issue(None, column, _show(value), expected)


def _show(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


# --------------------------------------------------------------------------
# Reading a table
# --------------------------------------------------------------------------


def _is_xlsx(data: bytes, filename: str | None) -> bool:
    return data[:4] == b"PK\x03\x04" or bool(filename and filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _read_xlsx(data: bytes) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    names = book.sheet_names
    wanted = next((n for n in names if fold(n) in ("flux", "flows")), names[0] if names else None)
    if wanted is None:
        return []
    sheet = book.get_sheet_by_name(wanted)
    rows = [[_cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ():  # a merged cell means its value on every row it spans
        if r0 < len(rows) and c0 < len(rows[r0]):
            value = rows[r0][c0]
            for r in range(r0, min(r1, len(rows) - 1) + 1):
                rows[r].extend([""] * (c1 + 1 - len(rows[r])))
                for c in range(c0, c1 + 1):
                    rows[r][c] = value
    return rows


def _decode(data: bytes) -> tuple[str, Issue | None]:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        return data.decode("utf-16"), Issue(None, None, None, "the file is UTF-16; read as such (UTF-8 is expected)")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        return text, Issue(None, None, None, "the file is not UTF-8; read as Windows-1252 (Excel's French export)")


def _read_csv(text: str) -> list[list[str]]:
    text = text.replace("\x00", "")
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=lambda s: (counts[s], s == ";"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    return [row for row in reader]


def read_table(data: bytes, filename: str | None = None) -> tuple[list[list[str]], list[Issue]]:
    """Rows of cells as text (header first); a file that cannot be read gives an error issue."""
    notes: list[Issue] = []
    try:
        if _is_xlsx(data, filename):
            return _read_xlsx(data), notes
        text, note = _decode(data)
        if note:
            notes.append(note)
        return _read_csv(text), notes
    except Exception:  # noqa: BLE001 - any unreadable file becomes a row error, never a traceback
        kind = "XLSX" if _is_xlsx(data, filename) else "CSV"
        return [], [Issue(1, "file", None, f"the file cannot be read as {kind}; expected a UTF-8 CSV or an XLSX workbook")]


# --------------------------------------------------------------------------
# Cell parsers: each returns the value or raises _RowError(column, value, expected)
# --------------------------------------------------------------------------

_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_DOTTED_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")  # "1.250": 1,25 in English, 1 250 in a French sheet


def parse_number(text: str, column: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """French or English number: ``1 250,5``, ``1250.5``, ``1.250,5``."""
    raw = text
    s = _NUMBER_SPACES.sub("", text.strip())
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    else:
        s = s.replace(",", ".")
    try:
        value = float(s)
    except ValueError:
        raise _RowError(column, raw, "expected a number (e.g. 1 250,5)") from None
    if not math.isfinite(value):
        raise _RowError(column, raw, "expected a finite number")
    if minimum is not None and value < minimum:
        raise _RowError(column, raw, f"expected a number ≥ {minimum:g}")
    if maximum is not None and value > maximum:
        raise _RowError(column, raw, f"expected a number ≤ {maximum:g}")
    return value


def parse_bool(text: str, column: str) -> bool:
    key = fold(text)
    if key in BOOLEANS:
        return BOOLEANS[key]
    raise _RowError(column, text, "expected true/false, oui/non or 1/0")


def parse_months(text: str) -> int:
    """``1-12``, ``5-9``, ``11,12,1,2``, ``11-2`` (wraps) → month bit mask."""
    if not text.strip():
        return ALL_MONTHS
    months: set[int] = set()
    try:
        for part in re.split(r"[,;/ ]+", text.strip()):
            if not part:
                continue
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if not (1 <= a <= 12 and 1 <= b <= 12):
                    raise ValueError
                span = range(a, b + 1) if a <= b else [*range(a, 13), *range(1, b + 1)]
                months.update(span)
            else:
                m = int(part)
                if not 1 <= m <= 12:
                    raise ValueError
                months.add(m)
    except ValueError:
        raise _RowError("months", text, "expected months 1 to 12 such as 1-12, 5-9 or 11,12,1,2") from None
    if not months:
        raise _RowError("months", text, "expected months 1 to 12 such as 1-12, 5-9 or 11,12,1,2")
    return months_mask(months)


def parse_ewc(text: str) -> tuple[str, bool]:
    """``15 01 03*`` → (``150103``, hazardous)."""
    hazardous = "*" in text
    digits = re.sub(r"[\s.\-*]", "", text)
    if len(digits) != 6 or not digits.isdigit():
        raise _RowError("ewc", text, "expected a six-digit European waste code such as 15 01 03 (with * if hazardous)")
    return digits, hazardous


def parse_naf(text: str) -> str:
    """``2013B`` / ``20.13B`` / ``20.13b`` → ``20.13B``."""
    s = re.sub(r"[\s.]", "", text).upper()
    if not re.fullmatch(r"\d{4}[A-Z]?|\d{2,3}", s):
        raise _RowError("naf", text, "expected a NAF rev. 2 code such as 20.13B")
    return f"{s[:2]}.{s[2:]}" if len(s) > 2 else s


def parse_postcode(text: str) -> str:
    """A five-digit French postcode (spreadsheet spellings accepted)."""
    try:
        return normalise_postcode(text)
    except GeocodeError:
        raise _RowError("postcode", text, "expected a five-digit French postcode") from None


# --------------------------------------------------------------------------
# The whole file
# --------------------------------------------------------------------------


@dataclass
class _Builder:
    territory: str
    taxonomy: Taxonomy
    companies: dict[str, Company] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    flow_rows: dict[str, int] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    classified: list[ClassifiedText] = field(default_factory=list)


def _map_headers(header: list[str]) -> tuple[dict[str, int], list[str], list[Issue]]:
    index: dict[str, int] = {}
    unknown: list[str] = []
    issues: list[Issue] = []
    for i, name in enumerate(header):
        col = _HEADER_INDEX.get(header_key(name))
        if col is None:
            if name.strip():
                unknown.append(name.strip())
            continue
        if col in index:
            issues.append(Issue(1, name, name, f"expected each column once; {col} appears twice"))
            continue
        index[col] = i
    return index, unknown, issues


def read_diagnostic(
    source: Path | str | bytes,
    *,
    territory: str,
    filename: str | None = None,
    taxonomy: Taxonomy | None = None,
    progress: Progress | None = None,
) -> ParsedDiagnostic:
    """Read and check a whole diagnostic; never raises on bad content."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        filename = filename or path.name
        data = path.read_bytes()
    else:
        data = source
    tax = taxonomy or get_taxonomy()
    table, notes = read_table(data, filename)
    b = _Builder(territory=territory, taxonomy=tax)
    for note in notes:
        (b.errors if note.row == 1 else b.warnings).append(note)
    while table and not any(c.strip() for c in table[0]):
        table = table[1:]  # leading blank lines
    if not table and not b.errors:
        b.errors.append(Issue(1, None, None, "expected a header row and one row per flow; the file is empty"))
    ignored: list[str] = []
    rows_seen = 0
    if table and not b.errors:
        index, ignored, header_issues = _map_headers(table[0])
        b.errors.extend(header_issues)
        for col in REQUIRED:
            if col not in index:
                aliases = ", ".join(COLUMNS[col][1:])
                b.errors.append(Issue(1, col, None, f"expected a column {col} (or {aliases})"))
        if not (("lat" in index and "lon" in index) or "postcode" in index):
            lone = "lon" if "lat" in index else "lat" if "lon" in index else None
            if lone:
                b.errors.append(Issue(1, lone, None, f"expected a column {lone} beside {'lat' if lone == 'lon' else 'lon'} (or a postcode column)"))
            else:
                b.errors.append(Issue(1, "postcode", None, "expected location columns: lat and lon, or postcode (code_postal)"))
        for name in ignored:
            b.warnings.append(Issue(1, name, name, "unknown column kept as an attribute, not used"))
        if not b.errors:
            body = table[1:]
            if len(body) > MAX_ROWS:
                b.errors.append(Issue(None, None, str(len(body)), f"expected at most {MAX_ROWS} rows"))
            else:
                rows_seen = _read_rows(b, body, index, table[0], ignored, progress)
    if not b.errors and table and rows_seen == 0:
        b.warnings.append(Issue(None, None, None, "the file has a header but no flow rows: nothing to import"))
    if b.errors:
        b.errors.sort(key=lambda i: (i.row or 0, i.column or ""))
    diagnostic = Diagnostic(
        territory=territory,
        companies=tuple(sorted(b.companies.values(), key=lambda c: c.id)),
        flows=tuple(b.flows.values()),
    )
    return ParsedDiagnostic(
        diagnostic=diagnostic,
        errors=tuple(b.errors),
        warnings=tuple(b.warnings),
        classified=tuple(b.classified),
        ignored_columns=tuple(ignored),
        rows=rows_seen,
        flow_rows=b.flow_rows,
    )


def _read_rows(
    b: _Builder,
    body: list[list[str]],
    index: dict[str, int],
    header: list[str],
    ignored: list[str],
    progress: Progress | None,
) -> int:
    classifier = get_classifier()
    extra_idx = [(i, h.strip()) for i, h in enumerate(header) if h.strip() in ignored]
    total = len(body)
    seen = 0
    for n, cells in enumerate(body):
        row_no = n + 2  # header is row 1
        if progress and n % 500 == 0:
            progress(n, total)
        if not any(c.strip() for c in cells):
            continue
        seen += 1

        def get(col: str, cells: list[str] = cells) -> str:
            i = index.get(col)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        row_errors: list[Issue] = []
        try:
            _read_row(b, row_no, get, {h: cells[i] for i, h in extra_idx if i < len(cells) and cells[i].strip()}, classifier, row_errors)
        except _RowError as exc:
            row_errors.append(exc.issue)
        for issue in row_errors:
            b.errors.append(Issue(row_no, issue.column, issue.value, issue.message))
    if progress:
        progress(total, total)
    return seen


def _collect(errors: list[Issue], fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except _RowError as exc:
        errors.append(exc.issue)
        return None


def _read_row(
    b: _Builder,
    row_no: int,
    get: Callable[[str], str],
    extras: dict[str, str],
    classifier: Any,
    errors: list[Issue],
) -> None:
    tax = b.taxonomy
    company_id, name = get("company_id"), get("company_name")
    if not company_id:
        errors.append(Issue(None, "company_id", "", "expected a company id (SIRET or the file's own id)"))
    if not name:
        errors.append(Issue(None, "company_name", "", "expected the company's name"))
    direction_text = get("direction")
    direction = DIRECTIONS.get(fold(direction_text))
    if direction is None:
        errors.append(Issue(None, "direction", direction_text, "expected out (sortant) or in (entrant)"))
    text = get("resource")
    if not text:
        errors.append(Issue(None, "resource", "", "expected a taxonomy code or a description of the resource"))
    q_text = get("quantity")
    quantity = _collect(errors, lambda: parse_number(q_text, "quantity", minimum=0, maximum=MAX_QUANTITY)) if q_text else None
    if not q_text:
        errors.append(Issue(None, "quantity", "", "expected a number ≥ 0"))
    elif quantity is not None and _DOTTED_THOUSANDS.fullmatch(q_text):
        b.warnings.append(Issue(row_no, "quantity", q_text, f"ambiguous number read as {quantity:g}; write it without a dot if thousands were meant"))
    unit_text = get("unit")
    unit = None
    try:
        unit = normalise_unit(unit_text)
    except UnitError:
        errors.append(Issue(None, "unit", unit_text, EXPECTED_UNITS))
    period = None
    try:
        period = normalise_period(get("period"))
    except UnitError:
        errors.append(Issue(None, "period", get("period"), "expected year (an), month (mois), week (semaine), day (jour) or once (ponctuel)"))

    lat = lon = None
    lat_t, lon_t = get("lat"), get("lon")
    if lat_t or lon_t:
        lat = _collect(errors, lambda: parse_number(lat_t, "lat", minimum=-90, maximum=90)) if lat_t else None
        lon = _collect(errors, lambda: parse_number(lon_t, "lon", minimum=-180, maximum=180)) if lon_t else None
        if bool(lat_t) != bool(lon_t):
            missing = "lon" if lat_t else "lat"
            errors.append(Issue(None, missing, "", "expected both lat and lon (WGS84 degrees)"))
    postcode_text, city = get("postcode"), get("city")
    postcode = None
    if postcode_text:
        postcode = _collect(errors, lambda: parse_postcode(postcode_text))
    if lat is None and lon is None and not (lat_t or lon_t):
        if postcode is None and not postcode_text:
            errors.append(Issue(None, "postcode", "", "expected a location: lat and lon, or a French postcode"))
    place = None
    if postcode is not None and (lat is None or lon is None) and not (lat_t or lon_t):
        try:
            place = get_gazetteer().locate(postcode, city or None)
        except GeocodeError:
            errors.append(Issue(None, "postcode", postcode_text, "expected the postcode of a French commune; this one is unknown"))
        else:
            lat, lon = place.lat, place.lon
            if getattr(place, "city_mismatch", False) and city:
                b.warnings.append(Issue(row_no, "city", city, f"commune not found for postcode {postcode}; located at {place.commune}"))

    ewc = None
    hazardous = False
    if get("ewc"):
        parsed = _collect(errors, lambda: parse_ewc(get("ewc")))
        if parsed:
            ewc, hazardous = parsed
            if tax.ewc_labels and ewc not in tax.ewc_labels:
                b.warnings.append(Issue(row_no, "ewc", get("ewc"), "code not in the European List of Waste"))
            elif tax.ewc_labels and tax.ewc_labels[ewc][1]:
                hazardous = True
    if get("hazardous"):
        flag = _collect(errors, lambda: parse_bool(get("hazardous"), "hazardous"))
        hazardous = bool(flag) or hazardous
    naf = _collect(errors, lambda: parse_naf(get("naf"))) if get("naf") else None
    temperature = _collect(errors, lambda: parse_number(get("temperature_c"), "temperature_c", minimum=-273, maximum=3000)) if get("temperature_c") else None
    concentration = _collect(errors, lambda: parse_number(get("concentration_pct").rstrip("%"), "concentration_pct", minimum=0, maximum=100)) if get("concentration_pct") else None
    cost = _collect(errors, lambda: parse_number(get("cost_eur_per_unit").replace("€", ""), "cost_eur_per_unit")) if get("cost_eur_per_unit") else None
    months = _collect(errors, lambda: parse_months(get("months"))) if get("months") else ALL_MONTHS
    confidential = _collect(errors, lambda: parse_bool(get("confidential"), "confidential")) if get("confidential") else False
    row_territory = get("territory") or b.territory
    label, notes = get("label"), get("notes")

    # resource: a taxonomy code as such, else classified free text
    code = UNKNOWN_RESOURCE
    confidence = 0.0
    alternatives: tuple[tuple[str, float], ...] = ()
    if text:
        if text.strip().lower() in tax.resources:
            code, confidence = text.strip().lower(), 1.0
        else:
            result = classifier.classify(text, ewc=ewc, naf=naf, temperature_c=temperature, concentration_pct=concentration)
            confidence = float(result.confidence)
            alternatives = tuple(result.alternatives)
            code = result.code if result.code != UNKNOWN_RESOURCE and confidence >= UNKNOWN_THRESHOLD else UNKNOWN_RESOURCE
            b.classified.append(ClassifiedText(row_no, text, code, round(confidence, 3)))
            if code == UNKNOWN_RESOURCE:
                b.warnings.append(Issue(row_no, "resource", text, "could not be classified: imported as unknown, to review"))
            elif confidence < LOW_CONFIDENCE:
                b.warnings.append(Issue(row_no, "resource", text, f"low-confidence classification as {code} ({confidence:.2f}), to review"))
    if errors:
        return

    resource = tax.resources.get(code)
    described = " ; ".join(t for t in (notes, label, text) if t)  # "3 bacs de 660 L", "~25 kg pièce"
    density = tax.parameters.get("container_bulk_density_t_per_m3")
    stated = None
    try:
        yearly = to_yearly(quantity, unit, period, resource)
    except UnitError as exc:
        stated = to_yearly_stated(quantity, unit, period, resource, described, density.value if density else None)
        # the unit is a signal too: "eaux chaudes" in MWh is heat, not water
        fallback = None if stated is not None else _alternative_for_unit(tax, alternatives, quantity, unit, period)
        if stated is not None:
            yearly = stated
            b.warnings.append(Issue(row_no, "unit", unit_text, (
                f"{quantity:g} {unit_text} of {code} counted through the size the row states "
                f"({described[:60]}): {yearly.quantity:.6g} {yearly.unit}/year, to check")))
        elif fallback is not None:
            b.warnings.append(Issue(row_no, "resource", text, f"{code} is not counted in {unit_text}: classified as {fallback[0]} instead, to review"))
            code, confidence, yearly = fallback
            resource = tax.resources[code]
        elif confidence < 1.0:
            # a guess from free text that the unit contradicts: keep the row, for review
            b.warnings.append(Issue(row_no, "resource", text, f"{code} is not counted in {unit_text}: imported as unknown, to review"))
            code, resource = UNKNOWN_RESOURCE, None
            yearly = to_yearly(quantity, unit, period, None)
        else:
            errors.append(Issue(None, "unit", unit_text, str(exc)))
            return
        b.classified[-1] = ClassifiedText(row_no, text, code, round(confidence, 3))
    if resource is not None and resource.hazardous:
        hazardous = True
    if yearly.quantity == 0:
        b.warnings.append(Issue(row_no, "quantity", q_text, "zero quantity: kept, but left out of matching"))
    if cost is not None:
        # the reported € per reported unit becomes € per canonical unit (per year of 1 reported unit)
        one_unit = None if stated is None else to_yearly_stated(
            1.0, unit, "once", resource, described, density.value if density else None)
        one = (one_unit or to_yearly(1.0, unit, "once", resource)).quantity
        cost = cost / one if one > 0 else None

    company = Company(
        id=company_id, name=name, lat=lat, lon=lon, postcode=postcode,
        city=(place.commune if place is not None else city) or None, naf=naf,
        confidential=bool(confidential), territory=row_territory,
    )
    known = b.companies.get(company_id)
    if known is None:
        b.companies[company_id] = company
    else:
        if known.name != name:
            b.warnings.append(Issue(row_no, "company_name", name, f"company {company_id} is already named {known.name!r}; first name kept"))
        if company.confidential and not known.confidential:
            b.companies[company_id] = replace(known, confidential=True)
        if known.naf is None and naf is not None:
            b.companies[company_id] = replace(b.companies[company_id], naf=naf)

    fid = flow_key(company_id, direction, code, label or text)
    flow = Flow(
        id=fid, company_id=company_id, direction=direction, resource=code,
        quantity=yearly.quantity, unit=yearly.unit, lat=lat, lon=lon, text=text,
        confidence=round(confidence, 3), raw_quantity=quantity, raw_unit=unit_text, period=period,
        hazardous=hazardous, ewc=ewc, temperature_c=temperature, concentration_pct=concentration,
        cost_eur_per_unit=cost, months=months, label=label, notes=notes, attributes=extras,
    )
    if fid in b.flows:
        prev = b.flows[fid]
        b.warnings.append(Issue(row_no, "resource", text, f"same company, direction, resource and label as row {b.flow_rows[fid]}: quantities added"))
        flow = replace(prev, quantity=prev.quantity + flow.quantity)
    else:
        b.flow_rows[fid] = row_no
    b.flows[fid] = flow


def _alternative_for_unit(tax: Taxonomy, alternatives, quantity: float, unit: str, period: str):
    """The best alternative classification whose canonical unit accepts ``unit``
    (a weak alternative is enough: the unit itself is strong evidence)."""
    for alt, conf in alternatives:
        if alt in tax.resources and conf >= 0.15:
            try:
                return alt, conf, to_yearly(quantity, unit, period, tax.resources[alt])
            except UnitError:
                continue
    return None


def issues_as_dicts(issues: Iterable[Issue]) -> list[dict[str, Any]]:
    """The ``errors``/``warnings`` shape of the import report."""
    return [{"row": i.row, "column": i.column, "value": i.value, "message": i.message} for i in issues]
