"""Matching runs: from a file (no database) or from a territory's stored
flows, recorded with their synergies; follow-up survives re-runs."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from symbiose.domain import Company, Diagnostic, Direction, Flow, Issue, MatchResult
from symbiose.ingest import Progress
from symbiose.services.imports import read_file
from symbiose.services.territories import get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import DECLARED, CompanyRow, FlowRow, FollowUpEventRow, FollowUpRow, RunRow, SynergyRow, utcnow


log = logging.getLogger("symbiose.runs")


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
    flows = s.scalars(select(FlowRow).where(FlowRow.territory_id == t.id, FlowRow.status == DECLARED).order_by(FlowRow.uid)).all()
    with_flows = {f.company_id for f in flows}  # firms known only from a pre-diagnostic are not matched
    companies = [c for c in s.scalars(select(CompanyRow).where(CompanyRow.territory_id == t.id).order_by(CompanyRow.external_id))
                 if c.id in with_flows]
    by_pk = {c.id: c.external_id for c in companies}
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
    """A queued run for ``territory`` (committed); returns its id.

    One queued run per territory is enough: while one waits, a new request joins
    it (its id is returned) instead of queuing another run of the same data."""
    return queue_run(uow, territory, actor)[0]


def queue_run(uow: UnitOfWork, territory: str, actor: str | None = None) -> tuple[int, bool]:
    """``(run id, True)`` for a new queued run, ``(id, False)`` when a queued one is joined."""
    t = get_territory(uow, territory)
    for _ in range(5):
        waiting = uow.session.scalar(
            select(RunRow.id).where(RunRow.territory_id == t.id, RunRow.status == "queued").limit(1)
        )
        if waiting is not None:
            return waiting, False
        run = RunRow(territory_id=t.id, status="queued", actor=actor)
        uow.session.add(run)
        try:
            uow.commit()
            return run.id, True
        except IntegrityError:  # another request queued one at the same instant (uq_runs_one_queued): join it
            uow.rollback()
    raise RuntimeError("could not queue a run")


_territory_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_guard = threading.Lock()


def _territory_lock(url: str, territory_id: int) -> threading.Lock:
    """Runs of one territory execute one at a time in this process (they write the same follow-ups)."""
    with _locks_guard:
        return _territory_locks.setdefault((url, territory_id), threading.Lock())


RUN_FAILED = ("l'appariement a échoué (incident n° {ref}) ; relancez-le, et si l'échec se répète, "
              "transmettez ce numéro à l'administrateur : le détail est dans le journal du serveur")


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
    """Run a queued run to ``done`` (or ``failed`` with the error); safe to call from a worker.

    Runs of one territory are serialised; a run another worker already took is left alone."""
    with UnitOfWork(url) as uow:
        run = uow.session.get(RunRow, run_id)
        if run is None or run.status not in ("queued",):
            return None
        territory = run.territory_id
    with _territory_lock(uow.url, territory):
        return _execute_locked(uow.url, run_id, territory, progress, scheduler)


def _execute_locked(
    url: str, run_id: int, territory: int, progress: Progress | None, scheduler: str | None
) -> MatchResult | None:
    with UnitOfWork(url) as uow:
        moved = uow.session.execute(
            update(RunRow).where(RunRow.id == run_id, RunRow.status == "queued")
            .values(status="running", started_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        uow.commit()
        if moved != 1:  # another worker took it
            return None
    try:
        with UnitOfWork(url) as uow:
            from symbiose.store.orm import TerritoryRow

            code = uow.session.get(TerritoryRow, territory).code
            diagnostic = load_diagnostic(uow, code)
        result = match_diagnostic(diagnostic, progress=progress, scheduler=scheduler)
        for attempt in (1, 2, 3):
            try:
                with UnitOfWork(url) as uow:
                    run = uow.session.get(RunRow, run_id)
                    _store_result(uow, run, result)
                    run.status, run.finished_at = "done", utcnow()
                    uow.commit()
                break
            except IntegrityError:  # a run of another process stored the same new follow-ups first
                if attempt == 3:
                    raise
        return result
    except Exception:  # noqa: BLE001 - a failed run records its error instead of crashing the worker
        ref = secrets.token_hex(4)
        log.exception("run %s failed (incident %s)", run_id, ref)
        with UnitOfWork(url) as uow:
            run = uow.session.get(RunRow, run_id)
            run.status, run.finished_at = "failed", utcnow()
            run.error = RUN_FAILED.format(ref=ref)  # users read a short French sentence; details go to the log
            uow.commit()
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
