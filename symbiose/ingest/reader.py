"""A whole diagnostic: the table, its headers, every row, then the companies
and flows they describe (rows of one company merged, duplicate flows added)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from symbiose.classify import get_classifier
from symbiose.domain import Company, Diagnostic, Flow, Issue, flow_key
from symbiose.explain.issues import is_warning, issue
from symbiose.ingest.headers import header_errors, map_headers
from symbiose.ingest.rows import STEPS, STEPS_AFTER, RowEnv, RowInput, RowValues
from symbiose.ingest.table import read_table
from symbiose.taxonomy import Taxonomy, get_taxonomy
from symbiose.units import to_yearly

Progress = Callable[[int, int], None]
Corrections = Callable[[str], Mapping[str, str]]  # territory code -> {correction key: code}
MAX_ROWS = 2_000_000


@dataclass(frozen=True, slots=True)
class ClassifiedText:
    """A row whose resource was read from text or an EWC code (``text`` empty then)."""

    row: int
    text: str
    code: str
    confidence: float
    source: str = "text"  # text, ewc or correction


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
    columns: dict[str, str] = field(default_factory=dict)  # column -> its header as the file wrote it

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Builder:
    territory: str
    companies: dict[str, Company] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    flow_rows: dict[str, int] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    classified: list[ClassifiedText] = field(default_factory=list)

    def note(self, issues: list[Issue]) -> None:
        for item in issues:
            (self.warnings if is_warning(item) else self.errors).append(item)

    def add(self, row: RowInput, v: RowValues) -> None:
        """The row's company and flow, merged with earlier rows."""
        company = Company(
            id=v.company_id, name=v.company_name, lat=v.lat, lon=v.lon, postcode=v.postcode, city=v.city,
            naf=v.naf, confidential=v.confidential, territory=row.get("territory") or self.territory,
        )
        known = self.companies.get(v.company_id)
        if known is None:
            self.companies[v.company_id] = company
        else:
            if known.name != v.company_name:
                self.warnings.append(issue("company.renamed", row=row.number, column=row.column("company_name"),
                                           value=v.company_name, company=v.company_id, known=known.name))
            if company.confidential and not known.confidential:
                self.companies[v.company_id] = replace(known, confidential=True)
            if known.naf is None and v.naf is not None:
                self.companies[v.company_id] = replace(self.companies[v.company_id], naf=v.naf)
        label, notes = row.get("label"), row.get("notes")
        fid = flow_key(v.company_id, v.direction, v.code, label or v.text)
        flow = Flow(
            id=fid, company_id=v.company_id, direction=v.direction, resource=v.code,
            quantity=v.yearly.quantity, unit=v.yearly.unit, lat=v.lat, lon=v.lon, text=v.text,
            confidence=round(v.confidence, 3), raw_quantity=v.quantity, raw_unit=row.get("unit"), period=v.period,
            hazardous=v.hazardous, ewc=v.ewc, temperature_c=v.temperature_c, concentration_pct=v.concentration_pct,
            cost_eur_per_unit=v.cost, months=v.months, label=label, notes=notes,
            attributes=v.extras,
        )
        if fid in self.flows:
            prev = self.flows[fid]
            self.warnings.append(issue("flow.duplicate", row=row.number, column=row.column("resource"), value=v.text,
                                       first_row=self.flow_rows[fid]))
            flow = replace(prev, quantity=prev.quantity + flow.quantity)
        else:
            self.flow_rows[fid] = row.number
        self.flows[fid] = flow


def _cost_per_canonical_unit(v: RowValues, tax: Taxonomy) -> float | None:
    """The reported € per reported unit as € per canonical unit of the resource."""
    if v.cost is None:
        return None
    one = v.unit_size if v.unit_size is not None else to_yearly(1.0, v.unit, "once", tax.resources.get(v.code)).quantity
    return v.cost / one if one > 0 else None


def read_diagnostic(
    source: Path | str | bytes,
    *,
    territory: str,
    filename: str | None = None,
    taxonomy: Taxonomy | None = None,
    progress: Progress | None = None,
    corrections: Corrections | None = None,
) -> ParsedDiagnostic:
    """Read and check a whole diagnostic; never raises on bad content.

    ``corrections(territory)`` gives the animators' corrections of that
    territory (``{correction key: code}``), applied before classifying."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        filename = filename or path.name
        data = path.read_bytes()
    else:
        data = source
    tax = taxonomy or get_taxonomy()
    table, notes = read_table(data, filename)
    b = _Builder(territory=territory)
    b.note(notes)
    while table and not any(c.strip() for c in table[0]):
        table = table[1:]  # leading blank lines
    if not table and not b.errors:
        b.errors.append(issue("file.empty", row=1))
    ignored: list[str] = []
    written: dict[str, str] = {}
    rows_seen = 0
    if table and not b.errors:
        headers = map_headers(table[0])
        ignored = [name for _, name in headers.ignored]
        written = dict(headers.written)
        b.note(headers.issues)
        b.errors.extend(header_errors(headers))
        body = table[1:]
        if not b.errors and len(body) > MAX_ROWS:
            b.errors.append(issue("file.too_many_rows", value=str(len(body)), maximum=MAX_ROWS))
        elif not b.errors:
            env = RowEnv(tax, get_classifier(), corrections or (lambda _t: {}), territory)
            rows_seen = _read_rows(b, body, headers, env, progress)
    if not b.errors and table and rows_seen == 0:
        b.warnings.append(issue("file.no_rows"))
    b.errors.sort(key=lambda i: (i.row or 0, i.column or ""))
    return ParsedDiagnostic(
        diagnostic=Diagnostic(
            territory=territory,
            companies=tuple(sorted(b.companies.values(), key=lambda c: c.id)),
            flows=tuple(b.flows.values()),
        ),
        errors=tuple(b.errors),
        warnings=tuple(b.warnings),
        classified=tuple(b.classified),
        ignored_columns=tuple(ignored),
        rows=rows_seen,
        flow_rows=b.flow_rows,
        columns=written,
    )


def _read_rows(b: _Builder, body: list[list[str]], headers, env: RowEnv, progress: Progress | None) -> int:
    total = len(body)
    seen = 0
    for n, cells in enumerate(body):
        if progress and n % 500 == 0:
            progress(n, total)
        if not any(c.strip() for c in cells):
            continue
        seen += 1
        row = RowInput(n + 2, cells, headers)
        v = RowValues()
        errors_before = len(b.errors)
        for step in STEPS:
            b.note(step(row, v, env))
        if len(b.errors) == errors_before:
            for step in STEPS_AFTER:
                b.note(step(row, v, env))
        if v.classified:
            b.classified.append(ClassifiedText(row.number, v.text, v.code, round(v.confidence, 3), v.source))
        if len(b.errors) == errors_before:
            v.cost = _cost_per_canonical_unit(v, env.taxonomy)
            b.add(row, v)
    if progress:
        progress(total, total)
    return seen
