"""Regions: several territories matched as one (a region, or all of France).

A region run matches the flows of all its territories together, so
synergies cross territory borders. Inside the run, companies and flows are
named ``<territory>/<id>`` (ids are unique per territory only). The result
is then written as one ordinary run per territory of the region
(``RunRow.region_run_id``), holding the synergies that involve at least one
of its companies:

* the territory's own companies keep their ids, companies of the other
  territories appear as ``<territory>/<id>``;
* a confidential company of another territory is anonymised in the copy
  (alias, anonymised label, coordinates rounded to 1 km), whatever the key:
  only its own territory may name it — confidentiality stays per territory;
* follow-up is owned by the territories involved: each keeps its own status
  and notes of a synergy (a synergy inside one territory keeps the same
  identity as in that territory's own runs, so its follow-up carries over).

The region view (admins and ``region`` keys) lists each synergy once, from
the copy of the first territory involved (in code order).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, select

from symbiose.domain import Company, Diagnostic, Flow, MatchResult, Participant, RouteStop, Synergy
from symbiose.ingest import Progress
from symbiose.privacy import (
    HiddenCompany,
    Redactor,
    anonymised_label,
    instance_secret,
    make_alias,
    naf_division,
)
from symbiose.services.runs import key_hash, load_diagnostic, match_diagnostic
from symbiose.services.territories import check_code, get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import (
    CompanyRow,
    FlowRow,
    FollowUpEventRow,
    FollowUpRow,
    RegionRow,
    RegionRunRow,
    RegionTerritoryRow,
    RunRow,
    SynergyRow,
    TerritoryRow,
    utcnow,
)

SEP = "/"


class RegionNotFound(LookupError):
    pass


def get_region(uow: UnitOfWork, code: str) -> RegionRow:
    row = uow.session.scalar(select(RegionRow).where(RegionRow.code == code))
    if row is None:
        raise RegionNotFound(code)
    return row


def create_region(uow: UnitOfWork, code: str, name: str | None, territories: Iterable[str]) -> RegionRow:
    """A region of existing territories (its members replaced if it exists); commits."""
    check_code(code)
    members = [get_territory(uow, t) for t in sorted(set(territories))]
    if not members:
        raise ValueError("a region needs at least one territory")
    row = uow.session.scalar(select(RegionRow).where(RegionRow.code == code))
    if row is None:
        row = RegionRow(code=code, name=name or code)
        uow.session.add(row)
        uow.session.flush()
    elif name:
        row.name = name
    uow.session.execute(delete(RegionTerritoryRow).where(RegionTerritoryRow.region_id == row.id))
    for t in members:
        uow.session.add(RegionTerritoryRow(region_id=row.id, territory_id=t.id))
    uow.commit()
    return row


def region_item(uow: UnitOfWork, row: RegionRow) -> dict[str, Any]:
    uow.session.refresh(row)
    return {"code": row.code, "name": row.name, "territories": [t.code for t in row.territories]}


def list_regions(uow: UnitOfWork, codes: set[str] | None = None) -> list[dict[str, Any]]:
    """``[{code, name, territories}]``, optionally limited to ``codes``."""
    rows = uow.session.scalars(select(RegionRow).order_by(RegionRow.code)).all()
    return [region_item(uow, r) for r in rows if codes is None or r.code in codes]


# --------------------------------------------------------------------------
# the region's diagnostic: every territory's flows, ids qualified
# --------------------------------------------------------------------------


def qualify(territory: str, ident: str) -> str:
    return f"{territory}{SEP}{ident}"


def load_region_diagnostic(uow: UnitOfWork, code: str) -> Diagnostic:
    """The flows of every territory of the region as one diagnostic (ids ``<territory>/<id>``)."""
    region = get_region(uow, code)
    companies: list[Company] = []
    flows: list[Flow] = []
    for t in region.territories:
        d = load_diagnostic(uow, t.code)
        companies.extend(replace(c, id=qualify(t.code, c.id), territory=t.code) for c in d.companies)
        flows.extend(replace(f, id=qualify(t.code, f.id), company_id=qualify(t.code, f.company_id)) for f in d.flows)
    return Diagnostic(territory=region.code, companies=tuple(companies), flows=tuple(flows))


def _territory_of(ident: str) -> str:
    return ident.split(SEP, 1)[0]


def _involved(s: Synergy) -> set[str]:
    return {_territory_of(p.company_id) for p in (*s.suppliers, *s.receivers)}


# --------------------------------------------------------------------------
# one territory's copy
# --------------------------------------------------------------------------


def foreign_redactor(uow: UnitOfWork, territories: Iterable[TerritoryRow]) -> Redactor:
    """What hides the confidential companies of ``territories`` in another territory's copy
    (their ids qualified, aliases as in their own territory)."""
    secret = None
    hidden, aliases, coords = [], {}, []
    for t in territories:
        rows = uow.session.execute(
            select(CompanyRow.id, CompanyRow.external_id, CompanyRow.name, CompanyRow.naf, CompanyRow.postcode,
                   CompanyRow.city, CompanyRow.lat, CompanyRow.lon)
            .where(CompanyRow.territory_id == t.id, CompanyRow.confidential.is_(True))
        ).all()
        if not rows:
            continue
        secret = secret or instance_secret(uow.url)
        for r in rows:
            hidden.append(HiddenCompany(
                external_id=qualify(t.code, r.external_id), name=r.name,
                alias=qualify(t.code, make_alias(secret, t.code, "company", r.external_id)),
                label=anonymised_label(r.naf, r.postcode, r.city, r.lat, r.lon), naf_division=naf_division(r.naf),
                city=r.city,
            ))
            coords.extend(v for v in (r.lat, r.lon) if v is not None)
        pks = [r.id for r in rows]
        for uid, lat, lon in uow.session.execute(
            select(FlowRow.uid, FlowRow.lat, FlowRow.lon).where(FlowRow.company_id.in_(pks))
        ):
            aliases[qualify(t.code, uid)] = qualify(t.code, make_alias(secret, t.code, "flow", uid))
            coords.extend(v for v in (lat, lon) if v is not None)
    return Redactor(hidden, aliases, coords)


def _localiser(territory: str):
    own = re.compile(rf"(^|>){re.escape(territory + SEP)}")

    def local(value: Any) -> Any:
        if isinstance(value, str):
            return own.sub(r"\1", value)
        if isinstance(value, dict):
            return {k: local(v) for k, v in value.items()}
        if isinstance(value, list):
            return [local(v) for v in value]
        return value

    return local


def _local_synergy(s: Synergy, territory: str) -> Synergy:
    """The synergy with the territory's own companies and flows under their own ids."""
    prefix = territory + SEP

    def ident(x: str | None) -> str | None:
        return x[len(prefix):] if x is not None and x.startswith(prefix) else x

    return replace(
        s,
        suppliers=tuple(Participant(ident(p.company_id), ident(p.flow_id)) for p in s.suppliers),
        receivers=tuple(Participant(ident(p.company_id), ident(p.flow_id)) for p in s.receivers),
        route=tuple(RouteStop(ident(r.company_id), r.lat, r.lon, r.quantity, r.label) for r in s.route),
    )


def _store_copy(
    uow: UnitOfWork, run: RunRow, territory: TerritoryRow, synergies: list[Synergy], hide: Redactor,
    header: dict[str, Any],
) -> None:
    """Write one territory's copy of a region run (as :func:`symbiose.services.runs._store_result`)."""
    from symbiose.report.synergy_json import synergy_to_dict

    local = _localiser(territory.code)
    s = uow.session
    known = set(s.scalars(select(FollowUpRow.key_hash).where(FollowUpRow.territory_id == territory.id)).all())
    plan = [x for x in synergies if x.in_plan]
    for syn in synergies:
        mine = _local_synergy(syn, territory.code)
        payload = local(hide.scrub(synergy_to_dict(syn)))
        company_ids = sorted({p.company_id for p in (*mine.suppliers, *mine.receivers)})
        kh = key_hash(mine.key)
        s.add(SynergyRow(
            territory_id=territory.id, run_id=run.id, public_id=syn.id, key=mine.key, key_hash=kh,
            type=str(syn.type), resource=syn.resource, rank=syn.rank, score=syn.score, in_plan=syn.in_plan,
            quantity=syn.quantity, tonnes_diverted=syn.tonnes_diverted, savings_eur=syn.savings_eur,
            co2_avoided_t=syn.co2_avoided_t, company_ids=[hide.text(c) for c in company_ids], payload=payload,
        ))
        if kh not in known:
            followup = FollowUpRow(territory_id=territory.id, key_hash=kh, status="proposed")
            followup.events.append(FollowUpEventRow(
                status="proposed", note=f"proposée par l'appariement régional n° {run.region_run_id}", actor=run.actor))
            s.add(followup)
            known.add(kh)
    run.summary = {
        **header["summary"],
        "synergies": len(plan),
        "tonnes_diverted": round(sum(x.tonnes_diverted for x in plan), 3),
        "savings_eur": round(sum(x.savings_eur for x in plan), 2),
        "co2_avoided_t": round(sum(x.co2_avoided_t for x in plan), 3),
    }
    run.result = {**header, "summary": run.summary, "region": header["territory"], "territory": territory.code}


def create_region_run(uow: UnitOfWork, code: str, actor: str | None = None) -> int:
    region = get_region(uow, code)
    run = RegionRunRow(region_id=region.id, status="queued", actor=actor)
    uow.session.add(run)
    uow.commit()
    return run.id


def execute_region_run(
    url: str | None, run_id: int, progress: Progress | None = None, scheduler: str | None = None
) -> MatchResult | None:
    """Run a queued region run to ``done`` (or ``failed``): one matching, one copy per territory."""
    from symbiose.report.synergy_json import run_header

    with UnitOfWork(url) as uow:
        run = uow.session.get(RegionRunRow, run_id)
        if run is None or run.status != "queued":
            return None
        run.status, run.started_at = "running", utcnow()
        region_id = run.region_id
        uow.commit()
    try:
        with UnitOfWork(url) as uow:
            region = uow.session.get(RegionRow, region_id)
            code = region.code
            diagnostic = load_region_diagnostic(uow, code)
        result = match_diagnostic(diagnostic, progress=progress, scheduler=scheduler)
        header = run_header(result)
        with UnitOfWork(url) as uow:
            region = uow.session.get(RegionRow, region_id)
            run = uow.session.get(RegionRunRow, run_id)
            members = list(region.territories)
            # read before writing: the redactors may create the instance secret in their own transaction
            hides = {t.id: foreign_redactor(uow, [m for m in members if m.id != t.id]) for t in members}
            for t in members:
                mine = [s for s in result.synergies if t.code in _involved(s)]
                t_run = RunRow(territory_id=t.id, status="done", actor=run.actor, region_run_id=run.id,
                               started_at=run.started_at, finished_at=utcnow())
                uow.session.add(t_run)
                uow.session.flush()
                _store_copy(uow, t_run, t, mine, hides[t.id], header)
            run.summary, run.result = header["summary"], header
            run.status, run.finished_at = "done", utcnow()
            uow.commit()
        return result
    except Exception as exc:  # noqa: BLE001 - a failed run records its error
        with UnitOfWork(url) as uow:
            run = uow.session.get(RegionRunRow, run_id)
            run.status, run.finished_at = "failed", utcnow()
            run.error = f"{type(exc).__name__}: {exc}"
            uow.commit()
        traceback.print_exc()
        return None


def run_region_match(
    uow: UnitOfWork, code: str, *, actor: str | None = None, progress: Progress | None = None,
    scheduler: str | None = None,
) -> tuple[int, MatchResult | None]:
    """Match a region now and record it (``symbiose match --region``)."""
    run_id = create_region_run(uow, code, actor)
    return run_id, execute_region_run(uow.url, run_id, progress, scheduler)


# --------------------------------------------------------------------------
# the region view
# --------------------------------------------------------------------------


def region_run_view(run: RegionRunRow, code: str) -> dict[str, Any]:
    from symbiose.services.queries import iso

    return {"id": run.id, "region": code, "status": run.status, "created_at": iso(run.created_at),
            "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
            "summary": run.summary if run.status == "done" else None,
            "error": run.error if run.status == "failed" else None}


def get_region_run(uow: UnitOfWork, code: str, run_id: int) -> dict[str, Any]:
    region = get_region(uow, code)
    run = uow.session.get(RegionRunRow, run_id)
    if run is None or run.region_id != region.id:
        raise LookupError(run_id)
    return region_run_view(run, code)


def region_synergies(
    uow: UnitOfWork, code: str, *, anonymise: bool, page: int = 1, size: int = 50, type: str | None = None,
) -> dict[str, Any]:
    """The latest done region run's synergies, each once (from the first territory involved, in code
    order), by rank; ``anonymise`` hides every confidential company (``region`` keys)."""
    from symbiose.privacy import load_redactor

    region = get_region(uow, code)
    run_id = uow.session.scalar(
        select(RegionRunRow.id).where(RegionRunRow.region_id == region.id, RegionRunRow.status == "done")
        .order_by(RegionRunRow.id.desc()).limit(1)
    )
    empty = {"items": [], "total": 0, "page": page, "size": size, "run": None}
    if run_id is None:
        return empty
    q = (
        select(SynergyRow, TerritoryRow.code)
        .join(RunRow, SynergyRow.run_id == RunRow.id)
        .join(TerritoryRow, TerritoryRow.id == RunRow.territory_id)
        .where(RunRow.region_run_id == run_id)
        .order_by(SynergyRow.rank, TerritoryRow.code)
    )
    if type:
        q = q.where(SynergyRow.type == type)
    seen: set[str] = set()
    rows = []
    for syn, t_code in uow.session.execute(q):
        if syn.public_id in seen:
            continue
        seen.add(syn.public_id)
        rows.append((syn, t_code))
    chosen = rows[(page - 1) * size: page * size]
    items = []
    for syn, t_code in chosen:
        payload = dict(syn.payload)
        if anonymise:
            payload = load_redactor(uow, syn.territory_id, t_code).scrub(payload)
        items.append({**payload, "territory": t_code})
    return {"items": items, "total": len(rows), "page": page, "size": size, "run": run_id}
