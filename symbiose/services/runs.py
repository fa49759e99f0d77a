"""Matching runs: from a file (no database) or from a territory's stored
flows, recorded with their synergies; follow-up survives re-runs."""

from __future__ import annotations

import hashlib
import traceback
from pathlib import Path

from sqlalchemy import select, update

from symbiose.domain import Company, Diagnostic, Direction, Flow, Issue, MatchResult
from symbiose.ingest import Progress
from symbiose.services.imports import read_file
from symbiose.services.territories import get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import CompanyRow, FlowRow, FollowUpEventRow, FollowUpRow, RunRow, SynergyRow, utcnow


class InputRejected(ValueError):
    """The diagnostic file has blocking errors."""

    def __init__(self, errors: tuple[Issue, ...]):
        super().__init__(f"{len(errors)} blocking error(s)")
        self.errors = errors


def key_hash(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def match_diagnostic(
    diagnostic: Diagnostic, *, progress: Progress | None = None, warnings: tuple[Issue, ...] = (),
    scheduler: str | None = None,
) -> MatchResult:
    """Match a diagnostic here, or on the Dask cluster ``scheduler`` (else ``SYMBIOSE_DASK_SCHEDULER``
    when set); the result is the same."""
    import os

    from symbiose.matching import match

    scheduler = scheduler or os.environ.get("SYMBIOSE_DASK_SCHEDULER") or None
    if not scheduler:
        return match(diagnostic, progress=progress, warnings=warnings)
    from symbiose.distributed import DaskEngine, dask_client

    with dask_client(scheduler) as client:
        return match(diagnostic, progress=progress, warnings=warnings, engine=DaskEngine(client))


def match_file(
    path: Path, *, territory: str | None = None, progress: Progress | None = None, scheduler: str | None = None
) -> MatchResult:
    """Read a diagnostic and match it, touching no database (``symbiose match FILE``)."""
    code = territory or Path(path).stem
    parsed = read_file(Path(path), territory=code)
    if parsed.errors:
        raise InputRejected(parsed.errors)
    return match_diagnostic(parsed.diagnostic, progress=progress, warnings=parsed.warnings, scheduler=scheduler)


def load_diagnostic(uow: UnitOfWork, territory: str) -> Diagnostic:
    """The stored companies and flows of a territory as a domain :class:`Diagnostic`."""
    t = get_territory(uow, territory)
    s = uow.session
    companies = s.scalars(select(CompanyRow).where(CompanyRow.territory_id == t.id).order_by(CompanyRow.external_id)).all()
    by_pk = {c.id: c.external_id for c in companies}
    flows = s.scalars(select(FlowRow).where(FlowRow.territory_id == t.id).order_by(FlowRow.uid)).all()
    return Diagnostic(
        territory=t.code,
        companies=tuple(
            Company(id=c.external_id, name=c.name, lat=c.lat, lon=c.lon, postcode=c.postcode, city=c.city,
                    naf=c.naf, confidential=c.confidential, territory=t.code)
            for c in companies
        ),
        flows=tuple(
            Flow(id=f.uid, company_id=by_pk[f.company_id], direction=Direction(f.direction), resource=f.resource,
                 quantity=f.quantity, unit=f.unit, lat=f.lat, lon=f.lon, text=f.text, confidence=f.confidence,
                 raw_quantity=f.raw_quantity, raw_unit=f.raw_unit, period=f.period, hazardous=f.hazardous,
                 ewc=f.ewc, temperature_c=f.temperature_c, concentration_pct=f.concentration_pct,
                 cost_eur_per_unit=f.cost_eur_per_unit, months=f.months, label=f.label, notes=f.notes,
                 attributes=dict(f.attributes or {}))
            for f in flows
        ),
    )


def create_run(uow: UnitOfWork, territory: str, actor: str | None = None) -> int:
    """A queued run for ``territory`` (committed); returns its id."""
    t = get_territory(uow, territory)
    run = RunRow(territory_id=t.id, status="queued", actor=actor)
    uow.session.add(run)
    uow.commit()
    return run.id


def _store_result(uow: UnitOfWork, run: RunRow, result: MatchResult) -> None:
    from symbiose.report.synergy_json import result_to_dict

    doc = result_to_dict(result)
    s = uow.session
    known = {
        row.key_hash
        for row in s.scalars(select(FollowUpRow).where(FollowUpRow.territory_id == run.territory_id)).all()
    }
    for syn, payload in zip(result.synergies, doc["synergies"], strict=True):
        kh = key_hash(syn.key)
        company_ids = sorted({p.company_id for p in (*syn.suppliers, *syn.receivers)})
        s.add(SynergyRow(
            territory_id=run.territory_id, run_id=run.id, public_id=syn.id, key=syn.key, key_hash=kh,
            type=str(syn.type), resource=syn.resource, rank=syn.rank, score=syn.score, in_plan=syn.in_plan,
            quantity=syn.quantity, tonnes_diverted=syn.tonnes_diverted, savings_eur=syn.savings_eur,
            co2_avoided_t=syn.co2_avoided_t, company_ids=company_ids, payload=payload,
        ))
        if kh not in known:  # first proposal: the follow-up history starts here
            followup = FollowUpRow(territory_id=run.territory_id, key_hash=kh, status="proposed")
            followup.events.append(FollowUpEventRow(status="proposed", note=f"proposée par l'appariement n° {run.id}", actor=run.actor))
            s.add(followup)
            known.add(kh)
    run.summary = doc["summary"]
    run.result = {k: v for k, v in doc.items() if k != "synergies"}


def execute_run(
    url: str | None, run_id: int, progress: Progress | None = None, scheduler: str | None = None
) -> MatchResult | None:
    """Run a queued run to ``done`` (or ``failed`` with the error); safe to call from a worker."""
    with UnitOfWork(url) as uow:
        run = uow.session.get(RunRow, run_id)
        if run is None or run.status not in ("queued",):
            return None
        run.status, run.started_at = "running", utcnow()
        territory = run.territory_id
        uow.commit()
    try:
        with UnitOfWork(url) as uow:
            from symbiose.store.orm import TerritoryRow

            code = uow.session.get(TerritoryRow, territory).code
            diagnostic = load_diagnostic(uow, code)
        result = match_diagnostic(diagnostic, progress=progress, scheduler=scheduler)
        with UnitOfWork(url) as uow:
            run = uow.session.get(RunRow, run_id)
            _store_result(uow, run, result)
            run.status, run.finished_at = "done", utcnow()
            uow.commit()
        return result
    except Exception as exc:  # noqa: BLE001 - a failed run records its error instead of crashing the worker
        with UnitOfWork(url) as uow:
            run = uow.session.get(RunRow, run_id)
            run.status, run.finished_at = "failed", utcnow()
            run.error = f"{type(exc).__name__}: {exc}"
            uow.commit()
        traceback.print_exc()
        return None


def run_match(
    uow: UnitOfWork, territory: str, *, actor: str | None = None, progress: Progress | None = None,
    scheduler: str | None = None,
) -> tuple[int, MatchResult | None]:
    """Match a territory's stored flows now and record the run (``symbiose match --territory``)."""
    run_id = create_run(uow, territory, actor)
    return run_id, execute_run(uow.url, run_id, progress, scheduler)


def fail_interrupted_runs(uow: UnitOfWork, reason: str = "interrompu par un redémarrage du serveur") -> int:
    """Mark runs left ``queued``/``running`` by a stopped server as ``failed``; returns how many."""
    res = uow.session.execute(
        update(RunRow).where(RunRow.status.in_(("queued", "running"))).values(status="failed", error=reason, finished_at=utcnow())
    )
    uow.commit()
    return res.rowcount or 0


def export_flow_graph(diagnostic: Diagnostic, result: MatchResult, path: Path) -> Path:
    """Write the flow graph (GraphML or node-link JSON by suffix): the run's valued candidates, its plan on the edges."""
    from symbiose.candidates import generate_candidates
    from symbiose.domain import Allocation, Solution
    from symbiose.graph import build_graph, export_graph
    from symbiose.taxonomy import get_taxonomy
    from symbiose.valuation import value_candidates

    tax = get_taxonomy()
    candidates, _ = generate_candidates(diagnostic, tax, nearest=result.solver.get("nearest"))  # as the run did
    allocations = {}
    for s in result.synergies:
        cid = s.details.get("candidate_id")
        if cid and s.in_plan:
            allocations[cid] = Allocation(cid, s.quantity, s.savings_eur, s.co2_avoided_t)
    plan = Solution(status=str(result.solver.get("status", "")), objective_eur=float(result.solver.get("objective_eur", 0.0)),
                    best_bound_eur=float(result.solver.get("best_bound_eur", 0.0)), allocations=allocations)
    return export_graph(build_graph(diagnostic, value_candidates(candidates, diagnostic, tax), plan), path)
