"""Importing a diagnostic into a territory: checked whole, written in one
transaction or not at all, idempotent on re-import."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from symbiose.domain import Company, Flow, Issue
from symbiose.explain.issues import issue, issues_as_dicts
from symbiose.ingest import Corrections, ParsedDiagnostic, Progress, read_diagnostic
from symbiose.services.territories import check_code, ensure_territory
from symbiose.store import UnitOfWork
from symbiose.store.bulk import bulk_insert
from symbiose.store.orm import CompanyRow, FlowRow, ImportRow, TerritoryRow


@dataclass
class ImportReport:
    """What an import did (or would do): the ``symbiose import --json`` object."""

    territory: str
    written: bool
    companies: int
    flows: int
    created: dict[str, int] = field(default_factory=lambda: {"companies": 0, "flows": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"companies": 0, "flows": 0})
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    classified: list[dict[str, Any]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    import_id: int | None = None
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "territory": self.territory,
            "written": self.written,
            "dry_run": self.dry_run,
            "companies": self.companies,
            "flows": self.flows,
            "created": dict(self.created),
            "updated": dict(self.updated),
            "errors": issues_as_dicts(self.errors),
            "warnings": issues_as_dicts(self.warnings),
            "classified": list(self.classified),
            "ignored_columns": list(self.ignored_columns),
            "import_id": self.import_id,
        }


def read_file(source: Path | bytes, *, territory: str, filename: str | None = None, progress: Progress | None = None,
              corrections: Corrections | None = None) -> ParsedDiagnostic:
    """Read and check a diagnostic without touching any database (``corrections``: see ``read_diagnostic``)."""
    return read_diagnostic(source, territory=territory, filename=filename, progress=progress, corrections=corrections)


def _plain_rows(items: tuple[Any, ...] | list[Any]) -> list[dict[str, Any]]:
    """Flat dataclasses as dicts (``asdict`` recurses and copies: slow for 100 000 rows)."""
    if not items:
        return []
    names = [f.name for f in fields(items[0])]
    return [{n: getattr(item, n) for n in names} for item in items]


def _report(parsed: ParsedDiagnostic, territory: str, *, dry_run: bool) -> ImportReport:
    return ImportReport(
        territory=territory,
        written=False,
        companies=len(parsed.diagnostic.companies),
        flows=len(parsed.diagnostic.flows),
        errors=list(parsed.errors),
        warnings=list(parsed.warnings),
        classified=_plain_rows(parsed.classified),
        ignored_columns=list(parsed.ignored_columns),
        dry_run=dry_run,
    )


_COMPANY_FIELDS = ("name", "lat", "lon", "postcode", "city", "naf", "confidential")
_FLOW_FIELDS = (
    "direction", "resource", "text", "confidence", "quantity", "unit", "raw_quantity", "raw_unit", "period",
    "lat", "lon", "hazardous", "ewc", "temperature_c", "concentration_pct", "cost_eur_per_unit", "months",
    "label", "notes", "attributes",
)


def _company_values(c: Company) -> dict[str, Any]:
    return {f: getattr(c, f) for f in _COMPANY_FIELDS}


def _flow_values(f: Flow) -> dict[str, Any]:
    values = {name: getattr(f, name) for name in _FLOW_FIELDS}
    values["direction"] = str(f.direction)
    return values


def _assign(row: CompanyRow | FlowRow, values: dict[str, Any]) -> bool:
    """Set ``values`` on a stored row; True when any of them changed (an update to report)."""
    changed = any(getattr(row, k) != v for k, v in values.items())
    for k, v in values.items():
        setattr(row, k, v)
    return changed


def import_diagnostic(
    uow: UnitOfWork,
    source: Path | bytes,
    *,
    territory: str,
    filename: str | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    create_territory: bool = True,
    single_territory: bool = False,
) -> ImportReport:
    """Check a diagnostic and, when it has no blocking error and this is no dry run, write it.

    Companies are keyed by ``company_id`` and flows by the spec's key, so a
    second import of the same file updates in place. Nothing is written when
    any row has a blocking error. ``single_territory``: a row naming another
    territory than ``territory`` is a blocking error (an API key writes only
    into its own territory).
    """
    check_code(territory)
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if filename is None and not isinstance(source, bytes):
        filename = Path(source).name
    from symbiose.services.review import corrections_reader

    parsed = read_file(data, territory=territory, filename=filename, progress=progress,
                       corrections=corrections_reader(uow))
    report = _report(parsed, territory, dry_run=dry_run)
    if parsed.errors:
        return report
    if single_territory:
        first_row = {}
        for f in parsed.diagnostic.flows:
            first_row.setdefault(f.company_id, parsed.flow_rows.get(f.id))
        for c in parsed.diagnostic.companies:
            if (c.territory or territory) != territory:
                report.errors.append(issue("territory.other", row=first_row.get(c.id), column=parsed.columns.get("territory", "territory"),
                                           value=c.territory, expected=territory))
        if report.errors:
            report.errors.sort(key=lambda i: (i.row or 0, i.column or ""))
            return report
    for attempt in (1, 2, 3):
        try:
            return _write(uow, data, parsed, _report(parsed, territory, dry_run=dry_run), territory=territory,
                          filename=filename, dry_run=dry_run, actor=actor, create_territory=create_territory)
        except IntegrityError:
            # another import created the same territory, company or flow meanwhile: start the write
            # again, it now sees those rows and updates them in place (the file was checked already)
            uow.rollback()
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


def _write(
    uow: UnitOfWork, data: bytes, parsed: ParsedDiagnostic, report: ImportReport, *, territory: str,
    filename: str | None, dry_run: bool, actor: str | None, create_territory: bool,
) -> ImportReport:
    """Write a checked diagnostic in one transaction (rolled back on a dry run or a territory error)."""
    session = uow.session
    territories: dict[str, TerritoryRow] = {}
    first_row = {}
    for f in parsed.diagnostic.flows:
        first_row.setdefault(f.company_id, parsed.flow_rows.get(f.id))
    row_of = {}
    for c in parsed.diagnostic.companies:
        row_of.setdefault(c.territory or territory, first_row.get(c.id))
    for code in sorted({c.territory or territory for c in parsed.diagnostic.companies} | {territory}):
        try:
            check_code(code)
        except ValueError:
            report.errors.append(issue("territory.invalid", row=row_of.get(code), column=parsed.columns.get("territory", "territory"), value=code))
            continue
        if create_territory:
            territories[code] = ensure_territory(uow, code)
        else:
            row = session.scalar(select(TerritoryRow).where(TerritoryRow.code == code))
            if row is None:
                report.errors.append(issue("territory.unknown", row=row_of.get(code), column=parsed.columns.get("territory", "territory"), value=code))
                continue
            territories[code] = row
    if report.errors:
        uow.rollback()
        return report
    companies_by_territory: dict[int, dict[str, CompanyRow]] = {}
    for t in territories.values():
        rows = session.scalars(select(CompanyRow).where(CompanyRow.territory_id == t.id)).all()
        companies_by_territory[t.id] = {r.external_id: r for r in rows}
    main = territories[territory]
    record = ImportRow(
        territory_id=main.id, filename=filename[-512:] if filename else None, sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data), actor=actor, report={},
    )
    session.add(record)
    session.flush()
    company_rows: dict[str, CompanyRow] = {}
    new_companies: list[dict[str, Any]] = []
    for c in parsed.diagnostic.companies:
        t = territories[c.territory or territory]
        existing = companies_by_territory[t.id].get(c.id)
        values = _company_values(c)
        if existing is None:
            new_companies.append({"territory_id": t.id, "external_id": c.id, **values})
            report.created["companies"] += 1
        else:
            report.updated["companies"] += int(_assign(existing, values))
            company_rows[c.id] = existing
    session.flush()
    if new_companies:  # written in bulk, then read back for their ids
        bulk_insert(session, CompanyRow, new_companies)
        for t in territories.values():
            for r in session.scalars(select(CompanyRow).where(CompanyRow.territory_id == t.id)).all():
                company_rows.setdefault(r.external_id, r)
    flows_by_territory: dict[int, dict[str, FlowRow]] = {}
    for t in territories.values():
        rows = session.scalars(select(FlowRow).where(FlowRow.territory_id == t.id)).all()
        flows_by_territory[t.id] = {r.uid: r for r in rows}
    new_flows: list[dict[str, Any]] = []
    for f in parsed.diagnostic.flows:
        company = company_rows[f.company_id]
        existing = flows_by_territory[company.territory_id].get(f.id)
        values = _flow_values(f)
        if existing is None:
            new_flows.append({"territory_id": company.territory_id, "company_id": company.id, "uid": f.id,
                              "import_id": record.id, **values})
            report.created["flows"] += 1
        else:
            changed = _assign(existing, values)
            if changed or existing.company_id != company.id:
                existing.company_id = company.id
                existing.import_id = record.id  # the import that last changed this flow
            report.updated["flows"] += int(changed)
    if dry_run:
        uow.rollback()
        return report
    session.flush()
    bulk_insert(session, FlowRow, new_flows)
    from symbiose.services.prediagnostic import supersede_probable

    supersede_probable(uow, [t.id for t in territories.values()])  # declared flows win over probable ones
    report.written = True
    report.import_id = record.id
    record.report = report.to_dict()
    uow.commit()
    return report
