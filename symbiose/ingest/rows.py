"""One row of a diagnostic, read in named steps.

Each step reads one concern of the row (the company, the direction, the
quantity, the location, …), stores what it parsed on :class:`RowValues`
and returns its issues; :data:`STEPS` runs them in order. An issue names the
column as the file wrote it. Errors block the import; warnings do not
(``symbiose.explain.issues.WARNINGS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from symbiose.classify import LOW_CONFIDENCE
from symbiose.domain import ALL_MONTHS, UNKNOWN_RESOURCE, Direction, Issue
from symbiose.explain.issues import issue
from symbiose.geocode import GeocodeError, get_gazetteer
from symbiose.ingest.cells import (
    DOTTED_THOUSANDS,
    CellError,
    parse_bool,
    parse_direction,
    parse_ewc,
    parse_months,
    parse_naf,
    parse_number,
    parse_postcode,
)
from symbiose.ingest.headers import HeaderMap
from symbiose.ingest.resources import resolve_resource
from symbiose.taxonomy import Taxonomy
from symbiose.units import UnitError, normalise_period, normalise_unit, to_yearly, to_yearly_stated

MAX_QUANTITY = 1e9  # per row and period: beyond any real site, a typo or a unit slip
# longest text a stored column holds (store/orm.py; tests/test_ingest.py checks they agree):
# checked while reading, so SQLite and PostgreSQL refuse the same rows
MAX_LENGTH = {"company_id": 128, "company_name": 512, "city": 128, "unit": 32}


@dataclass(frozen=True)
class RowInput:
    """A row's cells, with where each column is and how the file named it."""

    number: int  # as numbered in the file, header = 1
    cells: list[str]
    headers: HeaderMap

    def get(self, name: str) -> str:
        i = self.headers.index.get(name)
        return self.cells[i].strip() if i is not None and i < len(self.cells) else ""

    def column(self, name: str) -> str:
        return self.headers.column(name)

    def extras(self) -> dict[str, str]:
        return {h: self.cells[i] for i, h in self.headers.ignored if i < len(self.cells) and self.cells[i].strip()}


@dataclass
class RowValues:
    """What the steps read from one row (``None``: absent or unreadable)."""

    company_id: str = ""
    company_name: str = ""
    direction: Direction | None = None
    quantity: float | None = None
    unit: str | None = None
    period: str | None = None
    lat: float | None = None
    lon: float | None = None
    postcode: str | None = None
    city: str | None = None
    ewc: str | None = None
    hazardous: bool = False
    naf: str | None = None
    temperature_c: float | None = None
    concentration_pct: float | None = None
    cost: float | None = None
    months: int = ALL_MONTHS
    confidential: bool = False
    text: str = ""
    code: str = UNKNOWN_RESOURCE
    confidence: float = 0.0
    alternatives: tuple[tuple[str, float], ...] = ()
    source: str = "text"
    classified: bool = False  # listed in the report's ``classified``
    yearly: Any = None
    unit_size: float | None = None  # canonical units per counted item, when read through a stated size
    extras: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowEnv:
    """What every row is read against."""

    taxonomy: Taxonomy
    classifier: Any
    corrections: Callable[[str], Mapping[str, str]]
    territory: str


Step = Callable[[RowInput, RowValues, RowEnv], list[Issue]]


def _at(row: RowInput, name: str, code: str, value: Any = None, /, **params: Any) -> Issue:
    return issue(code, row=row.number, column=row.column(name), value=value, **params)


def _cell(row: RowInput, name: str, parse: Callable[[str], Any], issues: list[Issue]) -> Any:
    """``parse`` of the cell ``name`` (``None`` when empty, or unreadable with its issue added)."""
    text = row.get(name)
    if not text:
        return None
    try:
        return parse(text)
    except CellError as exc:
        issues.append(_at(row, name, exc.code, text, **exc.params))
        return None


def _length(row: RowInput, name: str, text: str) -> list[Issue]:
    limit = MAX_LENGTH[name]
    return [_at(row, name, "text.too_long", text, maximum=limit, length=len(text))] if len(text) > limit else []


def read_company(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """Company id and name: present, within the stored lengths."""
    issues: list[Issue] = []
    v.company_id, v.company_name = row.get("company_id"), row.get("company_name")
    if not v.company_id:
        issues.append(_at(row, "company_id", "company_id.missing", ""))
    if not v.company_name:
        issues.append(_at(row, "company_name", "company_name.missing", ""))
    return issues + _length(row, "company_id", v.company_id) + _length(row, "company_name", v.company_name)


def read_direction(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """``out``/``sortant`` or ``in``/``entrant``."""
    try:
        v.direction = parse_direction(row.get("direction"))
    except CellError as exc:
        return [_at(row, "direction", exc.code, row.get("direction"))]
    return []


def read_quantity(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """A number ≥ 0 and at most a billion; ``1.250`` is read as 1,25 with a warning."""
    text = row.get("quantity")
    if not text:
        return [_at(row, "quantity", "quantity.missing", "")]
    try:
        v.quantity = parse_number(text, minimum=0)
    except CellError as exc:
        return [_at(row, "quantity", exc.code, text, **exc.params)]
    if v.quantity > MAX_QUANTITY:
        v.quantity = None
        return [_at(row, "quantity", "quantity.too_large", text)]
    if DOTTED_THOUSANDS.fullmatch(text):
        return [_at(row, "quantity", "quantity.dotted", text, read=v.quantity)]
    return []


def read_unit(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """One of the units of the format."""
    text = row.get("unit")
    try:
        v.unit = normalise_unit(text)
    except UnitError:
        return [_at(row, "unit", "unit.invalid", text)]
    return _length(row, "unit", text)


def read_period(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """``year`` when empty, else one of the periods of the format."""
    try:
        v.period = normalise_period(row.get("period"))
    except UnitError:
        return [_at(row, "period", "period.invalid", row.get("period"))]
    return []


def read_location(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """Coordinates, or a postcode (and commune) located offline."""
    issues: list[Issue] = []
    lat_t, lon_t, post_t, city = row.get("lat"), row.get("lon"), row.get("postcode"), row.get("city")
    issues += _length(row, "city", city)
    v.city = city or None
    if lat_t or lon_t:
        v.lat = _cell(row, "lat", lambda t: parse_number(t, minimum=-90, maximum=90), issues)
        v.lon = _cell(row, "lon", lambda t: parse_number(t, minimum=-180, maximum=180), issues)
        if bool(lat_t) != bool(lon_t):
            issues.append(_at(row, "lon" if lat_t else "lat", "coordinates.incomplete", ""))
    if post_t:
        v.postcode = _cell(row, "postcode", parse_postcode, issues)
    if lat_t or lon_t:
        return issues
    if not post_t:
        return issues + [_at(row, "postcode", "location.missing", "")]
    if v.postcode is None:
        return issues
    try:
        place = get_gazetteer().locate(v.postcode, city or None)
    except GeocodeError:
        return issues + [_at(row, "postcode", "postcode.unknown", post_t)]
    v.lat, v.lon, v.city = place.lat, place.lon, place.commune or v.city
    if getattr(place, "city_mismatch", False) and city:
        issues.append(_at(row, "city", "city.mismatch", city, postcode=v.postcode, commune=place.commune))
    return issues


def read_waste_codes(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """The EWC code (``*`` or the List of Waste marks it hazardous) and the hazardous flag."""
    issues: list[Issue] = []
    parsed = _cell(row, "ewc", parse_ewc, issues)
    labels = env.taxonomy.ewc_labels
    if parsed:
        v.ewc, v.hazardous = parsed
        if labels and v.ewc not in labels:
            issues.append(_at(row, "ewc", "ewc.not_listed", row.get("ewc")))
        elif labels and labels[v.ewc][1]:
            v.hazardous = True
    flag = _cell(row, "hazardous", parse_bool, issues)
    v.hazardous = bool(flag) or v.hazardous
    return issues


def read_naf(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """A NAF rev. 2 code, normalised to ``20.13B``."""
    issues: list[Issue] = []
    v.naf = _cell(row, "naf", parse_naf, issues)
    return issues


def read_measures(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """Temperature (°C) and concentration (mass %), when given."""
    issues: list[Issue] = []
    v.temperature_c = _cell(row, "temperature_c", lambda t: parse_number(t, minimum=-273, maximum=3000), issues)
    v.concentration_pct = _cell(
        row, "concentration_pct", lambda t: parse_number(t.rstrip("%"), minimum=0, maximum=100), issues)
    return issues


def read_cost(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """What one unit costs the company today (€, negative when it sells)."""
    issues: list[Issue] = []
    v.cost = _cell(row, "cost_eur_per_unit", lambda t: parse_number(t.replace("€", "")), issues)
    return issues


def read_flags(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """Months of availability and confidentiality."""
    issues: list[Issue] = []
    months = _cell(row, "months", parse_months, issues)
    v.months = ALL_MONTHS if months is None else months
    v.confidential = bool(_cell(row, "confidential", parse_bool, issues))
    v.extras = row.extras()
    return issues


def read_resource(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """The resource: a code, a correction, the classified text, or the EWC code alone."""
    v.text = row.get("resource")
    if not v.text and not v.ewc:
        if row.get("ewc"):
            return []  # the EWC cell is unreadable: its own error says so
        return [_at(row, "resource", "resource.missing", "")]
    territory = row.get("territory") or env.territory
    found = resolve_resource(
        v.text, taxonomy=env.taxonomy, classifier=env.classifier, corrections=env.corrections(territory),
        ewc=v.ewc, naf=v.naf, temperature_c=v.temperature_c, concentration_pct=v.concentration_pct,
        unit=row.get("unit") or None, direction=v.direction, description=row.get("label") or None,
    )
    v.code, v.confidence, v.alternatives, v.source = found.code, found.confidence, found.alternatives, found.source
    v.classified = found.source != "code"
    if found.source in ("code", "correction"):
        return []
    shown = v.text or row.get("ewc")
    column = "resource" if v.text else "ewc"
    if v.code == UNKNOWN_RESOURCE:
        return [_at(row, column, "resource.unknown", shown)]
    if v.confidence < LOW_CONFIDENCE:
        return [_at(row, column, "resource.low_confidence", shown, code=v.code, confidence=round(v.confidence, 2))]
    return []


def read_yearly(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """The yearly amount in the resource's unit; a unit the guessed resource is not counted in
    picks the best alternative that is (or ``unknown``), a code written as such is an error."""
    tax = env.taxonomy
    resource = tax.resources.get(v.code)
    unit_text = row.get("unit")
    try:
        v.yearly = to_yearly(v.quantity, v.unit, v.period, resource)
        return []
    except UnitError:
        pass
    stated = _stated(row, v, tax, resource)
    if stated is not None:  # "3 bacs de 660 L", "24 appareils, ~25 kg pièce": counted through the stated size
        v.yearly, v.unit_size = stated, stated.quantity / v.quantity if v.quantity else None
        return [_at(row, "unit", "unit.stated_size", unit_text, quantity=v.quantity, unit=unit_text, code=v.code,
                    described=_described(row)[:60], amount=round(stated.quantity, 3), canonical=stated.unit)]
    if v.source == "code":
        counted = to_yearly(1.0, v.unit, "once", None).unit
        if resource is not None and resource.unit == "t" and counted == "unit":
            return [_at(row, "unit", "unit.no_unit_mass", unit_text, code=v.code)]
        return [_at(row, "unit", "unit.not_convertible", unit_text, unit=unit_text, code=v.code,
                    target=resource.unit if resource else "?")]
    shown = v.text or row.get("ewc")
    for alt, conf in v.alternatives:  # a weak alternative is enough: the unit itself is strong evidence
        if alt in tax.resources and conf >= 0.15:
            try:
                v.yearly = to_yearly(v.quantity, v.unit, v.period, tax.resources[alt])
            except UnitError:
                continue
            before, v.code, v.confidence = v.code, alt, conf
            return [_at(row, "resource", "resource.unit_fallback", shown, code=before, unit=unit_text, fallback=alt)]
    before, v.code = v.code, UNKNOWN_RESOURCE
    v.yearly = to_yearly(v.quantity, v.unit, v.period, None)
    return [_at(row, "resource", "resource.unit_unknown", shown, code=before, unit=unit_text)]


def _described(row: RowInput) -> str:
    """What a row says of its items' size: its notes, label and resource text."""
    return " ; ".join(t for t in (row.get("notes"), row.get("label"), row.get("resource")) if t)


def _stated(row: RowInput, v: RowValues, tax: Any, resource: Any) -> Any:
    """The yearly amount of a count of items through the size the row states, else None."""
    density = tax.parameters.get("container_bulk_density_t_per_m3")
    return to_yearly_stated(v.quantity, v.unit, v.period, resource, _described(row), density.value if density else None)


def read_zero(row: RowInput, v: RowValues, env: RowEnv) -> list[Issue]:
    """A zero quantity is kept but left out of matching."""
    if v.yearly is None:  # the yearly amount could not be computed: its own error says why
        return []
    return [_at(row, "quantity", "quantity.zero", row.get("quantity"))] if v.yearly.quantity == 0 else []


# every row is read by these steps, in this order; the second list runs only on a row without errors
STEPS: tuple[Step, ...] = (
    read_company, read_direction, read_quantity, read_unit, read_period, read_location,
    read_waste_codes, read_naf, read_measures, read_cost, read_flags, read_resource,
)
STEPS_AFTER: tuple[Step, ...] = (read_yearly, read_zero)
