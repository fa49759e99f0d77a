"""Pre-diagnostic operations the CLI and the API share: store the probable
flows of a firm list, rank the visits, confirm a probable flow at a visit.

Probable flows are stored as flows with ``status = "probable"``, their
probability and quantity range; matching runs, territory counts and the
synergy JSON read declared flows only. A declared flow of the same firm,
direction and resource family always wins: the probable one becomes
``superseded`` (kept, never shown). A visit turns a probable flow into a
declared one and keeps the trace (:class:`~symbiose.store.orm.FlowVisitRow`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from symbiose.domain import Company, Direction, Flow, Issue, flow_key
from symbiose.ingest import issues_as_dicts
from symbiose.prediagnostic import ProbableFlow, get_profiles, predict_firm, read_firms, resource_family
from symbiose.prediagnostic.firms import Firm
from symbiose.prediagnostic.visits import VisitPlan, probable_flow_id, rank_visits
from symbiose.privacy import Redactor
from symbiose.services.territories import check_code, ensure_territory, get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import (
    DECLARED,
    PROBABLE,
    SUPERSEDED,
    CompanyRow,
    FlowRow,
    FlowVisitRow,
    TerritoryRow,
    VisitRankingRow,
    utcnow,
)
from symbiose.taxonomy import get_taxonomy
from symbiose.units import UnitError, normalise_period, to_yearly


class VisitError(ValueError):
    """A visit confirmation that cannot be applied (unknown flow, bad quantity or unit)."""

    def __init__(self, field: str, value: Any, message: str):
        super().__init__(message)
        self.field, self.value, self.message = field, value, message


@dataclass
class PrediagnosticReport:
    territory: str
    written: bool = False
    firms: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    probable_synergies: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape (``cli.md``: ``{"firms": [...]}``) plus territory, errors and warnings."""
        return {
            "territory": self.territory, "written": self.written, "firms": self.firms,
            "errors": issues_as_dicts(self.errors), "warnings": issues_as_dicts(self.warnings),
            "probable_synergies": self.probable_synergies,
        }


# --------------------------------------------------------------------------
# Store <-> domain
# --------------------------------------------------------------------------


def _company(row: CompanyRow, territory: str) -> Company:
    return Company(id=row.external_id, name=row.name, lat=row.lat, lon=row.lon, postcode=row.postcode, city=row.city,
                   naf=row.naf, confidential=row.confidential, territory=territory)


def _declared_flow(f: FlowRow, company_id: str) -> Flow:
    return Flow(id=f.uid, company_id=company_id, direction=Direction(f.direction), resource=f.resource,
                quantity=f.quantity, unit=f.unit, lat=f.lat, lon=f.lon, text=f.text, confidence=f.confidence,
                hazardous=f.hazardous, ewc=f.ewc, temperature_c=f.temperature_c,
                concentration_pct=f.concentration_pct, cost_eur_per_unit=f.cost_eur_per_unit, months=f.months,
                label=f.label, attributes=dict(f.attributes or {}))


def _probable(f: FlowRow, company_id: str) -> ProbableFlow:
    a = f.attributes or {}
    return ProbableFlow(company_id, f.resource, f.direction, float(f.probability or 0.0), float(f.quantity_low or 0.0),
                        float(f.quantity_high or 0.0), f.unit, str(a.get("source", "")), str(a.get("profile", "")))


def supersede_probable(uow: UnitOfWork, territory_ids: Iterable[int]) -> int:
    """Mark ``superseded`` every probable flow a declared flow of the same firm, direction and
    resource family replaces; returns how many. Does not commit."""
    tax = get_taxonomy()
    s = uow.session
    n = 0
    for tid in territory_ids:
        probable = s.scalars(select(FlowRow).where(FlowRow.territory_id == tid, FlowRow.status == PROBABLE)).all()
        if not probable:  # the usual import: no pre-diagnostic in this territory
            continue
        declared = {
            (company, direction, resource_family(resource, tax))
            for company, direction, resource in s.execute(
                select(FlowRow.company_id, FlowRow.direction, FlowRow.resource)
                .where(FlowRow.territory_id == tid, FlowRow.status == DECLARED))
        }
        for r in probable:
            if (r.company_id, r.direction, resource_family(r.resource, tax)) in declared:
                r.status = SUPERSEDED
                n += 1
    return n


# --------------------------------------------------------------------------
# Pre-diagnostic of a firm list
# --------------------------------------------------------------------------


def _upsert_company(uow: UnitOfWork, t: TerritoryRow, firm: Firm, existing: CompanyRow | None) -> CompanyRow:
    if existing is None:
        existing = CompanyRow(territory_id=t.id, external_id=firm.id, name=firm.name, lat=firm.lat, lon=firm.lon,
                              postcode=firm.postcode, city=firm.city, naf=firm.naf, confidential=firm.confidential)
        uow.session.add(existing)
    else:  # a firm already known from a diagnostic keeps what the diagnostic said
        existing.naf = existing.naf or firm.naf
        existing.lat = existing.lat if existing.lat is not None else firm.lat
        existing.lon = existing.lon if existing.lon is not None else firm.lon
        existing.confidential = existing.confidential or firm.confidential
    existing.size_band, existing.employees = firm.size_band, firm.employees
    return existing


def run_prediagnostic(
    uow: UnitOfWork, source: Path | bytes, *, territory: str, filename: str | None = None, actor: str | None = None,
    dry_run: bool = False, create_territory: bool = True, time_limit_s: float = 10.0,
) -> PrediagnosticReport:
    """Read a firm list, store each firm's probable flows and the new visit ranking.

    Nothing is written when the list has a blocking error or on a dry run.
    Re-running replaces the probable flows of the listed firms (declared and
    confirmed flows are never touched).
    """
    check_code(territory)
    parsed = read_firms(source if isinstance(source, bytes) else Path(source), filename=filename)
    report = PrediagnosticReport(territory=territory, errors=list(parsed.errors), warnings=list(parsed.warnings))
    if parsed.errors:
        return report
    tax, profiles = get_taxonomy(), get_profiles()
    predicted: dict[str, list[ProbableFlow]] = {}
    for firm in parsed.firms:
        flows, warnings = predict_firm(firm, profiles, tax)
        predicted[firm.id] = flows
        report.warnings.extend(warnings)
    if create_territory:
        t = ensure_territory(uow, territory)
    else:
        t = get_territory(uow, territory)
    s = uow.session
    s.flush()
    companies = {r.external_id: r for r in s.scalars(select(CompanyRow).where(CompanyRow.territory_id == t.id))}
    rows = {}
    for firm in parsed.firms:
        rows[firm.id] = _upsert_company(uow, t, firm, companies.get(firm.id))
    s.flush()
    pks = [r.id for r in rows.values()]
    for old in s.scalars(select(FlowRow).where(FlowRow.company_id.in_(pks), FlowRow.status.in_((PROBABLE, SUPERSEDED)))):
        s.delete(old)
    s.flush()
    for firm in parsed.firms:
        row = rows[firm.id]
        for pf in predicted[firm.id]:
            s.add(FlowRow(
                territory_id=t.id, company_id=row.id, uid=probable_flow_id(firm.id, pf.direction, pf.resource),
                direction=pf.direction, resource=pf.resource, text="", confidence=1.0, quantity=pf.quantity,
                unit=pf.unit, lat=row.lat, lon=row.lon, label="", notes="", months=0xFFF,
                attributes={"source": pf.source, "profile": pf.profile}, status=PROBABLE,
                probability=pf.probability, quantity_low=pf.quantity_low, quantity_high=pf.quantity_high,
            ))
    s.flush()
    supersede_probable(uow, [t.id])
    s.flush()
    ranking = _store_ranking(uow, t, actor, time_limit_s=time_limit_s)
    listed = set(rows)
    report.firms = [f for f in ranking["firms"] if f["company_id"] in listed]
    report.probable_synergies = ranking["probable_synergies"]
    if dry_run:
        uow.rollback()
        return report
    report.written = True
    uow.commit()
    return report


# --------------------------------------------------------------------------
# Visit ranking
# --------------------------------------------------------------------------


def visit_plan(uow: UnitOfWork, t: TerritoryRow, *, time_limit_s: float = 10.0) -> VisitPlan:
    """The territory's declared and probable flows matched together, firms ranked for a visit."""
    s = uow.session
    companies = s.scalars(select(CompanyRow).where(CompanyRow.territory_id == t.id).order_by(CompanyRow.external_id)).all()
    ext = {c.id: c.external_id for c in companies}
    flows = s.scalars(select(FlowRow).where(FlowRow.territory_id == t.id, FlowRow.status.in_((DECLARED, PROBABLE)))
                      .order_by(FlowRow.uid)).all()
    declared = [_declared_flow(f, ext[f.company_id]) for f in flows if f.status == DECLARED]
    probable: dict[str, list[ProbableFlow]] = defaultdict(list)
    for f in flows:
        if f.status == PROBABLE:
            probable[ext[f.company_id]].append(_probable(f, ext[f.company_id]))
    for items in probable.values():
        items.sort(key=lambda p: (-p.probability, p.direction, p.resource))
    return rank_visits([_company(c, t.code) for c in companies], declared, probable, territory=t.code,
                       time_limit_s=time_limit_s)


def plan_to_dict(plan: VisitPlan, territory: str) -> dict[str, Any]:
    """The stored / served form of a visit plan (firm items in the CLI's JSON shape, plus name and value)."""
    from symbiose.report.synergy_json import synergy_to_dict

    firms = []
    for i in sorted(plan.items, key=lambda i: (i.visit_rank is None, i.visit_rank or 0, i.company_id)):
        if i.visited and not i.probable_flows:
            continue
        firms.append({
            "company_id": i.company_id, "name": i.name, "naf": i.naf, "visited": i.visited,
            "probable_flows": [{**p.to_dict(), "flow_id": probable_flow_id(p.company_id, p.direction, p.resource)}
                               for p in i.probable_flows],
            "visit_rank": i.visit_rank,
            "expected_value_eur": i.expected_value_eur, "reason": i.reason, "synergies": i.synergies,
        })
    synergies = [synergy_to_dict(s) for s in plan.probable_synergies if s.in_plan]
    return {"territory": territory, "generated_at": plan.result.generated_at, "firms": firms,
            "probable_synergies": synergies}


def _store_ranking(uow: UnitOfWork, t: TerritoryRow, actor: str | None, *, time_limit_s: float = 10.0) -> dict[str, Any]:
    result = plan_to_dict(visit_plan(uow, t, time_limit_s=time_limit_s), t.code)
    uow.session.add(VisitRankingRow(territory_id=t.id, actor=actor, result=result))
    uow.session.flush()
    return result


def refresh_visits(uow: UnitOfWork, territory: str, actor: str | None = None) -> dict[str, Any]:
    """Recompute and store the territory's visit ranking (committed)."""
    t = get_territory(uow, territory)
    result = _store_ranking(uow, t, actor)
    uow.commit()
    return result


def latest_visits(uow: UnitOfWork, territory: str, *, redactor: Redactor | None = None) -> dict[str, Any] | None:
    """The latest stored visit ranking, ``None`` when the territory has had no pre-diagnostic.

    For a portal caller, a confidential firm appears under its anonymised
    label, without its probable flows nor the reason that describes them.
    """
    t = get_territory(uow, territory)
    row = uow.session.scalar(select(VisitRankingRow).where(VisitRankingRow.territory_id == t.id)
                             .order_by(VisitRankingRow.id.desc()).limit(1))
    if row is None:
        return None
    result = dict(row.result)
    if redactor is not None and redactor.active:
        firms = []
        for f in result["firms"]:
            if redactor.is_hidden(f["company_id"]):
                f = {**f, "name": redactor.hidden[f["company_id"]].label, "probable_flows": [],
                     "reason": "entreprise confidentielle", "synergies": []}
            firms.append(redactor.scrub(f))
        hidden_flows = {f.uid for f in uow.session.scalars(select(FlowRow).join(CompanyRow, CompanyRow.id == FlowRow.company_id)
                        .where(FlowRow.territory_id == t.id, FlowRow.status == PROBABLE, CompanyRow.confidential.is_(True)))}
        synergies = [redactor.scrub(s) for s in result.get("probable_synergies", [])
                     if not set(s.get("details", {}).get("probable_flows", [])) & hidden_flows]
        result = {**result, "firms": firms, "probable_synergies": synergies}
    return result


# --------------------------------------------------------------------------
# A visit confirms (or rules out) a probable flow
# --------------------------------------------------------------------------


def confirm_visit(
    uow: UnitOfWork, territory: str, flow_id: str, *, quantity: float | None, unit: str | None = None,
    period: str | None = None, exists: bool = True, note: str | None = None, actor: str | None = None,
    refresh: bool = True,
) -> dict[str, Any]:
    """Turn the probable flow ``flow_id`` into a declared one (``exists=False``: the visit found no such
    flow; it becomes ``superseded``). The trace keeps what was guessed and what was found. Commits."""
    t = get_territory(uow, territory)
    s = uow.session
    row = s.scalar(select(FlowRow).where(FlowRow.territory_id == t.id, FlowRow.uid == flow_id))
    if row is None or row.status != PROBABLE:
        raise VisitError("flow_id", flow_id, "expected the id of a probable flow of this territory")
    company = s.get(CompanyRow, row.company_id)
    guessed = {"probability": row.probability, "quantity_low": row.quantity_low, "quantity_high": row.quantity_high,
               "quantity": row.quantity, "unit": row.unit, **{k: v for k, v in (row.attributes or {}).items()}}
    found: dict[str, Any] = {"exists": exists}
    if exists:
        if quantity is None or quantity < 0:
            raise VisitError("quantity", quantity, "expected the quantity found at the visit (a number ≥ 0)")
        try:
            per = normalise_period(period)
            yearly = to_yearly(float(quantity), unit or row.unit, per, get_taxonomy().get(row.resource))
        except (UnitError, ValueError) as exc:
            raise VisitError("unit", unit, str(exc)) from None
        uid = flow_key(company.external_id, row.direction, row.resource, "")
        clash = s.scalar(select(FlowRow).where(FlowRow.territory_id == t.id, FlowRow.uid == uid))
        if clash is not None:
            raise VisitError("flow_id", flow_id, "a declared flow of this firm already has this resource")
        row.uid, row.status = uid, DECLARED
        row.quantity, row.unit, row.raw_quantity, row.raw_unit, row.period = (
            yearly.quantity, yearly.unit, float(quantity), unit or row.unit, per)
        row.probability = row.quantity_low = row.quantity_high = None
        row.attributes = {**(row.attributes or {}), "prediagnostic": guessed}
        found.update(quantity=yearly.quantity, unit=yearly.unit, raw_quantity=float(quantity), raw_unit=unit or row.unit,
                     period=per, flow_id=uid)
    else:
        row.status = SUPERSEDED
    company.updated_at = utcnow()
    s.add(FlowVisitRow(territory_id=t.id, flow_id=row.id, flow_uid=flow_id, company_external_id=company.external_id,
                       resource=row.resource, direction=row.direction, probable=guessed, declared=found, note=note,
                       actor=actor))
    s.flush()
    supersede_probable(uow, [t.id])
    if refresh:
        _store_ranking(uow, t, actor)
    uow.commit()
    return {"flow_id": flow_id, "company_id": company.external_id, "resource": row.resource,
            "direction": row.direction, "status": row.status, "probable": guessed, "declared": found}


def visit_trace(uow: UnitOfWork, territory: str, *, redactor: Redactor | None = None) -> list[dict[str, Any]]:
    """Every visit confirmation of the territory, oldest first; a portal caller sees none of a confidential firm's."""
    t = get_territory(uow, territory)
    rows = uow.session.scalars(select(FlowVisitRow).where(FlowVisitRow.territory_id == t.id).order_by(FlowVisitRow.id))
    if redactor is not None and redactor.active:
        return [redactor.scrub(item) for item in visit_trace(uow, territory) if not redactor.is_hidden(item["company_id"])]
    return [{"flow_id": r.flow_uid, "company_id": r.company_external_id, "resource": r.resource,
             "direction": r.direction, "probable": r.probable, "declared": r.declared, "note": r.note,
             "actor": r.actor, "at": r.at.isoformat() + "Z"} for r in rows]
