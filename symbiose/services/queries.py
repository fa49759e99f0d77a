"""Read side of a territory for the HTTP API and reports: companies, flows,
runs, the latest run's synergies with their follow-up, indicators and map.

Every function takes a :class:`~symbiose.store.UnitOfWork`, the territory (its
code or its row) and, for callers who must not see confidential companies, a
:class:`~symbiose.privacy.Redactor`; it returns plain JSON-ready objects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from symbiose.domain import FollowUpStatus, SynergyType
from symbiose.privacy import Redactor, round_coordinate
from symbiose.report.geojson import territory_geojson
from symbiose.services.runs import load_diagnostic
from symbiose.services.territories import get_territory, latest_done_run_id
from symbiose.store import UnitOfWork
from symbiose.store.orm import (
    CompanyRow,
    ConsentRow,
    FlowRow,
    FollowUpEventRow,
    FollowUpRow,
    ImportRow,
    RunRow,
    SynergyRow,
    TerritoryRow,
)
from symbiose.text import fold


class NotFound(LookupError):
    """A run or synergy that does not exist in this territory."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: ``{"items", "total", "page", "size"}``."""

    items: list[dict[str, Any]]
    total: int
    page: int
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "total": self.total, "page": self.page, "size": self.size}


def iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) datetime as ISO 8601 with ``Z``."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def _territory(uow: UnitOfWork, territory: str | TerritoryRow) -> TerritoryRow:
    return territory if isinstance(territory, TerritoryRow) else get_territory(uow, territory)


def _offset(page: int, size: int) -> int:
    return (page - 1) * size


def code_prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` is the taxonomy code ``prefix`` or one of its descendants."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(column == prefix, column.like(escaped + ".%", escape="\\"))


def _months(mask: int) -> list[int]:
    return [m + 1 for m in range(12) if mask >> m & 1]


# --------------------------------------------------------------------------
# Companies and flows
# --------------------------------------------------------------------------


def consents_by_key(uow: UnitOfWork, territory_id: int, key_hashes: set[str] | None = None) -> dict[str, set[str]]:
    """Companies that consented to be named, by synergy key hash (all of the territory's, or these)."""
    query = select(ConsentRow.key_hash, ConsentRow.company_external_id).where(ConsentRow.territory_id == territory_id)
    if key_hashes is not None:
        query = query.where(ConsentRow.key_hash.in_(key_hashes))
    out: dict[str, set[str]] = defaultdict(set)
    for key_hash, company in uow.session.execute(query):
        out[key_hash].add(company)
    return out


def company_item(row: CompanyRow, flows: int) -> dict[str, Any]:
    """A company as listed (before any redaction)."""
    return {
        "id": row.external_id, "name": row.name, "lat": row.lat, "lon": row.lon, "postcode": row.postcode,
        "city": row.city, "naf": row.naf, "confidential": bool(row.confidential), "flows": flows,
    }


def list_companies(
    uow: UnitOfWork, territory: str | TerritoryRow, *, q: str | None = None, page: int = 1, size: int = 50,
    redactor: Redactor | None = None,
) -> Page:
    """Companies in import order; ``q`` searches names ignoring case and accents
    (an anonymised company is found by its label, never by its name)."""
    t = _territory(uow, territory)
    s = uow.session
    base = select(CompanyRow).where(CompanyRow.territory_id == t.id).order_by(CompanyRow.id)
    portal = redactor is not None and redactor.active
    if portal:  # ordered by what the portal sees, so that no hidden firm sits between its neighbours
        needle = fold(q) if q and q.strip() else ""
        every = sorted(
            (r for r in s.scalars(base) if needle in fold(redactor.display_name(r.external_id, r.name))),
            key=lambda r: redactor.shown_id(r.external_id),
        )
        total, rows = len(every), every[_offset(page, size): _offset(page, size) + size]
    elif q and q.strip():
        needle = fold(q)
        shown = redactor.display_name if redactor is not None else (lambda _id, name: name)
        matching = [r for r in s.scalars(base) if needle in fold(shown(r.external_id, r.name))]
        total, rows = len(matching), matching[_offset(page, size): _offset(page, size) + size]
    else:
        total = s.scalar(select(func.count()).select_from(CompanyRow).where(CompanyRow.territory_id == t.id)) or 0
        rows = list(s.scalars(base.offset(_offset(page, size)).limit(size)))
    counts: dict[int, int] = {}
    if rows:
        counts = dict(s.execute(
            select(FlowRow.company_id, func.count())
            .where(FlowRow.company_id.in_([r.id for r in rows]), FlowRow.status == "declared")
            .group_by(FlowRow.company_id)
        ).all())
    items = [company_item(r, counts.get(r.id, 0)) for r in rows]
    if redactor is not None and redactor.active:
        items = [redactor.company(i) for i in items]
    return Page(items, total, page, size)


def _flow_item(f: FlowRow, company: CompanyRow) -> dict[str, Any]:
    return {
        "id": f.uid, "company_id": company.external_id, "company_name": company.name, "direction": f.direction,
        "resource": f.resource, "text": f.text, "label": f.label, "confidence": f.confidence,
        "quantity": f.quantity, "unit": f.unit, "raw_quantity": f.raw_quantity, "raw_unit": f.raw_unit,
        "period": f.period, "lat": f.lat, "lon": f.lon, "hazardous": bool(f.hazardous), "ewc": f.ewc,
        "temperature_c": f.temperature_c, "concentration_pct": f.concentration_pct,
        "cost_eur_per_unit": f.cost_eur_per_unit, "months": _months(f.months), "notes": f.notes,
        "attributes": dict(f.attributes or {}),
        "status": f.status, "probability": f.probability, "quantity_low": f.quantity_low, "quantity_high": f.quantity_high,
    }


def list_flows(
    uow: UnitOfWork, territory: str | TerritoryRow, *, direction: str | None = None, resource: str | None = None,
    company_id: str | None = None, page: int = 1, size: int = 50, redactor: Redactor | None = None,
    status: str | None = None,
) -> Page:
    """Flows in import order, filtered by direction, resource code prefix, company and status
    (``declared`` or ``probable``; both by default, a superseded probable flow never).
    Portal callers never see the probable flows of a confidential company."""
    t = _territory(uow, territory)
    s = uow.session
    where: list[ColumnElement[bool]] = [FlowRow.territory_id == t.id]
    where.append(FlowRow.status == status if status else FlowRow.status.in_(("declared", "probable")))
    if redactor is not None and redactor.active:
        where.append(or_(FlowRow.status != "probable", CompanyRow.confidential.is_(False)))
    if direction:
        where.append(FlowRow.direction == direction)
    if resource:
        where.append(code_prefix(FlowRow.resource, resource))
    if company_id is not None:
        wanted = redactor.company_filter(company_id) if redactor is not None else company_id
        where.append(CompanyRow.external_id == wanted)
    joined = select(FlowRow, CompanyRow).join(CompanyRow, CompanyRow.id == FlowRow.company_id).where(*where)
    if redactor is not None and redactor.active:  # ordered by what the portal sees (see list_companies)
        every = [redactor.flow(_flow_item(f, c)) for f, c in s.execute(joined.order_by(FlowRow.id)).all()]
        every.sort(key=lambda i: (i["company_id"], i["id"]))
        return Page(every[_offset(page, size): _offset(page, size) + size], len(every), page, size)
    total = s.scalar(
        select(func.count()).select_from(FlowRow).join(CompanyRow, CompanyRow.id == FlowRow.company_id).where(*where)
    ) or 0
    rows = s.execute(joined.order_by(FlowRow.id).offset(_offset(page, size)).limit(size)).all()
    return Page([_flow_item(f, c) for f, c in rows], total, page, size)


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


def run_view(run: RunRow, territory_code: str) -> dict[str, Any]:
    """A run: ``status``, ``summary`` when done, ``error`` when failed."""
    return {
        "id": run.id, "territory": territory_code, "status": run.status, "created_at": iso(run.created_at),
        "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
        "summary": run.summary if run.status == "done" else None,
        "error": run.error if run.status == "failed" else None,
    }


def get_run(uow: UnitOfWork, territory: str | TerritoryRow, run_id: int) -> dict[str, Any]:
    t = _territory(uow, territory)
    run = uow.session.get(RunRow, run_id)
    if run is None or run.territory_id != t.id:
        raise NotFound(f"run {run_id}")
    return run_view(run, t.code)


def list_runs(uow: UnitOfWork, territory: str | TerritoryRow, *, page: int = 1, size: int = 50) -> Page:
    """Runs of a territory, newest first."""
    t = _territory(uow, territory)
    s = uow.session
    total = s.scalar(select(func.count()).select_from(RunRow).where(RunRow.territory_id == t.id)) or 0
    rows = s.scalars(
        select(RunRow).where(RunRow.territory_id == t.id).order_by(RunRow.id.desc())
        .offset(_offset(page, size)).limit(size)
    ).all()
    return Page([run_view(r, t.code) for r in rows], total, page, size)


# --------------------------------------------------------------------------
# Synergies with follow-up
# --------------------------------------------------------------------------

_FOLLOW_JOIN = and_(FollowUpRow.territory_id == SynergyRow.territory_id, FollowUpRow.key_hash == SynergyRow.key_hash)
_STATUS = func.coalesce(FollowUpRow.status, FollowUpStatus.PROPOSED.value)


def synergy_version(uow: UnitOfWork, territory: str | TerritoryRow) -> tuple[Any, ...]:
    """What the synergy views of a territory depend on: its latest finished run,
    its last follow-up event and its last consent (changes whenever any of them does)."""
    t = _territory(uow, territory)
    events = select(FollowUpEventRow.id).join(FollowUpRow, FollowUpRow.id == FollowUpEventRow.followup_id).where(
        FollowUpRow.territory_id == t.id).subquery()
    consents = select(ConsentRow.id).where(ConsentRow.territory_id == t.id).subquery()
    # maximum and count: a transaction that commits a lower id after a higher one still changes the count
    return tuple(uow.session.execute(select(
        select(func.max(RunRow.id)).where(RunRow.territory_id == t.id, RunRow.status == "done").scalar_subquery(),
        select(func.max(events.c.id)).scalar_subquery(), select(func.count()).select_from(events).scalar_subquery(),
        select(func.max(consents.c.id)).scalar_subquery(), select(func.count()).select_from(consents).scalar_subquery(),
    )).one())


def map_version(uow: UnitOfWork, territory: str | TerritoryRow) -> tuple[Any, ...]:
    """What the territory's map depends on: :func:`synergy_version`, its imports, its companies
    (count, last change) and its flows (count, last id)."""
    t = _territory(uow, territory)
    data = tuple(uow.session.execute(select(
        select(func.max(ImportRow.id)).where(ImportRow.territory_id == t.id).scalar_subquery(),
        select(func.count()).select_from(CompanyRow).where(CompanyRow.territory_id == t.id).scalar_subquery(),
        select(func.max(CompanyRow.updated_at)).where(CompanyRow.territory_id == t.id).scalar_subquery(),
        select(func.count()).select_from(FlowRow).where(FlowRow.territory_id == t.id).scalar_subquery(),
        select(func.max(FlowRow.id)).where(FlowRow.territory_id == t.id).scalar_subquery(),
    )).one())
    return (*synergy_version(uow, t), *data)


def find_synergy(uow: UnitOfWork, territory: TerritoryRow, public_id: str) -> SynergyRow:
    """The synergy ``public_id`` (``S-0001``) of the territory's latest finished run."""
    run_id = latest_done_run_id(uow, territory.id)
    row = None
    if run_id is not None:
        row = uow.session.scalar(
            select(SynergyRow).where(SynergyRow.run_id == run_id, SynergyRow.public_id == public_id)
        )
    if row is None:
        raise NotFound(f"synergy {public_id}")
    return row


_VIEW_COLUMNS = (
    SynergyRow.territory_id, SynergyRow.key_hash, SynergyRow.company_ids, SynergyRow.payload,
    FollowUpRow.id.label("follow_id"), FollowUpRow.status.label("follow_status"),
    FollowUpRow.note.label("follow_note"), FollowUpRow.updated_at.label("follow_updated_at"),
)


def _views(uow: UnitOfWork, rows: list[Any], redactor: Redactor | None) -> list[dict[str, Any]]:
    """Synergy payloads (rows of ``_VIEW_COLUMNS``) plus ``status``, ``note``, ``history`` and ``consents``."""
    if not rows:
        return []
    s = uow.session
    follow_ids = [r.follow_id for r in rows if r.follow_id is not None]
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if follow_ids:
        for followup_id, status, note, actor, at in s.execute(
            select(FollowUpEventRow.followup_id, FollowUpEventRow.status, FollowUpEventRow.note,
                   FollowUpEventRow.actor, FollowUpEventRow.at)
            .where(FollowUpEventRow.followup_id.in_(follow_ids)).order_by(FollowUpEventRow.id)
        ):
            events[followup_id].append({"status": status, "note": note, "actor": actor, "at": iso(at)})
    consents = consents_by_key(uow, rows[0].territory_id, {r.key_hash for r in rows})
    out = []
    for r in rows:
        given = consents.get(r.key_hash, set())
        item = {
            **r.payload,
            "status": r.follow_status or FollowUpStatus.PROPOSED.value,
            "note": r.follow_note,
            "status_updated_at": iso(r.follow_updated_at),
            "history": events.get(r.follow_id, []),
            "consents": sorted(given),
        }
        if redactor is not None and redactor.active:
            item = redactor.synergy(item, named=set(r.company_ids) <= given)
        out.append(item)
    return out


def list_synergies(
    uow: UnitOfWork, territory: str | TerritoryRow, *, type: str | None = None, resource: str | None = None,
    company_id: str | None = None, status: str | None = None, min_score: float | None = None,
    page: int = 1, size: int = 50, redactor: Redactor | None = None, in_plan: bool | None = None,
) -> Page:
    """The latest finished run's synergies by rank, with their follow-up; empty before any run.
    ``in_plan``: only the optimised plan (``True``) or only the options left out of it (``False``)."""
    t = _territory(uow, territory)
    s = uow.session
    run_id = latest_done_run_id(uow, t.id)
    if run_id is None:
        return Page([], 0, page, size)
    where: list[ColumnElement[bool]] = [SynergyRow.run_id == run_id]
    if type:
        where.append(SynergyRow.type == type)
    if resource:
        where.append(code_prefix(SynergyRow.resource, resource))
    if status:
        where.append(_STATUS == status)
    if min_score is not None:
        where.append(SynergyRow.score >= min_score)
    if in_plan is not None:
        where.append(SynergyRow.in_plan.is_(in_plan))
    order = (SynergyRow.rank, SynergyRow.id)
    views = select(*_VIEW_COLUMNS).outerjoin(FollowUpRow, _FOLLOW_JOIN)
    if company_id is not None:
        wanted = redactor.company_filter(company_id) if redactor is not None else company_id
        # through an alias, a synergy that names the company (every party consented) must not
        # answer: it would tie the alias to the name and unmask the company everywhere else.
        # Consents are read for every portal filter, so that no id answers faster than another.
        portal = redactor is not None and redactor.active
        via_alias = portal and wanted != company_id
        consents = consents_by_key(uow, t.id) if portal else {}
        ids = [
            sid for sid, companies, key_hash in s.execute(
                select(SynergyRow.id, SynergyRow.company_ids, SynergyRow.key_hash).outerjoin(FollowUpRow, _FOLLOW_JOIN)
                .where(*where).order_by(*order)
            )
            if wanted in (companies or ()) and not (via_alias and set(companies or ()) <= consents.get(key_hash, set()))
        ]
        total, chosen = len(ids), ids[_offset(page, size): _offset(page, size) + size]
        rows = s.execute(views.where(SynergyRow.id.in_(chosen)).order_by(*order)).all() if chosen else []
    else:
        counted = select(func.count()).select_from(SynergyRow)
        if status:
            counted = counted.outerjoin(FollowUpRow, _FOLLOW_JOIN)
        total = s.scalar(counted.where(*where)) or 0
        rows = s.execute(views.where(*where).order_by(*order).offset(_offset(page, size)).limit(size)).all()
    return Page(_views(uow, rows, redactor), total, page, size)


def get_synergy(
    uow: UnitOfWork, territory: str | TerritoryRow, public_id: str, *, redactor: Redactor | None = None
) -> dict[str, Any]:
    """One synergy of the latest finished run, with its follow-up."""
    t = _territory(uow, territory)
    row = find_synergy(uow, t, public_id)
    view = uow.session.execute(
        select(*_VIEW_COLUMNS).outerjoin(FollowUpRow, _FOLLOW_JOIN).where(SynergyRow.id == row.id)
    ).one()
    return _views(uow, [view], redactor)[0]


# --------------------------------------------------------------------------
# Indicators and map
# --------------------------------------------------------------------------


def _zero() -> dict[str, float]:
    return {"synergies": 0, "tonnes_diverted": 0.0, "savings_eur": 0.0, "co2_avoided_t": 0.0}


def _add(acc: dict[str, float], n: int, tonnes: float | None, eur: float | None, co2: float | None) -> None:
    acc["synergies"] += n
    acc["tonnes_diverted"] += tonnes or 0.0
    acc["savings_eur"] += eur or 0.0
    acc["co2_avoided_t"] += co2 or 0.0


def _rounded(acc: dict[str, float]) -> dict[str, float]:
    return {
        "synergies": int(acc["synergies"]), "tonnes_diverted": round(acc["tonnes_diverted"], 3),
        "savings_eur": round(acc["savings_eur"], 2), "co2_avoided_t": round(acc["co2_avoided_t"], 3),
    }


def indicators(uow: UnitOfWork, territory: str | TerritoryRow) -> dict[str, Any]:
    """Synergies, tonnes diverted, € saved and tCO2e avoided, in total, by follow-up status and by type.

    Counted: the latest finished run's synergies in the optimised plan, plus
    any of its synergies an animator has taken up (status beyond ``proposed``).
    Rejected synergies appear under their status only, not in the total nor by type.
    """
    t = _territory(uow, territory)
    run_id = latest_done_run_id(uow, t.id)
    total = _zero()
    by_status = {st.value: _zero() for st in FollowUpStatus}
    by_type = {ty.value: _zero() for ty in SynergyType}
    generated_at = None
    if run_id is not None:
        generated_at = (uow.session.get(RunRow, run_id).result or {}).get("generated_at")
        rows = uow.session.execute(
            select(SynergyRow.type, _STATUS, func.count(), func.sum(SynergyRow.tonnes_diverted),
                   func.sum(SynergyRow.savings_eur), func.sum(SynergyRow.co2_avoided_t))
            .outerjoin(FollowUpRow, _FOLLOW_JOIN)
            .where(SynergyRow.run_id == run_id, or_(SynergyRow.in_plan.is_(True), _STATUS != FollowUpStatus.PROPOSED.value))
            .group_by(SynergyRow.type, _STATUS)
        ).all()
        for kind, status, n, tonnes, eur, co2 in rows:
            live = status != FollowUpStatus.REJECTED.value  # abandoned leads count in their status only
            targets = [by_status.setdefault(status, _zero())]
            if live:
                targets += [total, by_type.setdefault(kind, _zero())]
            for acc in targets:
                _add(acc, n, tonnes, eur, co2)
    return {
        "territory": t.code,
        "run_id": run_id,
        "generated_at": generated_at,
        "total": _rounded(total),
        "by_status": {k: _rounded(v) for k, v in by_status.items()},
        "by_type": {k: _rounded(v) for k, v in by_type.items()},
    }


def territory_map(uow: UnitOfWork, territory: str | TerritoryRow, *, redactor: Redactor | None = None) -> dict[str, Any]:
    """The GeoJSON map of the territory: its companies and the latest run's synergies with their status."""
    t = _territory(uow, territory)
    diagnostic = load_diagnostic(uow, t.code)
    run_id = latest_done_run_id(uow, t.id)
    synergies: list[dict[str, Any]] = []
    named: dict[str, bool] = {}
    if run_id is not None:
        pairs = uow.session.execute(
            select(SynergyRow, _STATUS).outerjoin(FollowUpRow, _FOLLOW_JOIN)
            .where(SynergyRow.run_id == run_id, or_(SynergyRow.in_plan.is_(True), _STATUS != FollowUpStatus.PROPOSED.value))
            .order_by(SynergyRow.rank, SynergyRow.id)
        ).all()
        consents = consents_by_key(uow, t.id) if redactor is not None and redactor.active else {}
        for row, status in pairs:
            synergies.append({**row.payload, "status": status})
            named[row.public_id] = set(row.company_ids) <= consents.get(row.key_hash, set())
    redact = None
    if redactor is not None and redactor.active:
        def redact(feature: dict[str, Any]) -> dict[str, Any]:
            props = feature["properties"]
            if props["kind"] == "company":
                if not redactor.is_hidden(props["id"]):
                    return redactor.scrub(feature)
                shown = redactor.company({"id": props["id"], "name": props["name"], "naf": props["naf"]})
                geometry = feature["geometry"]
                if geometry is not None:
                    lon, lat = geometry["coordinates"]
                    geometry = {"type": "Point", "coordinates": [round_coordinate(lon), round_coordinate(lat)]}
                return redactor.scrub({**feature, "geometry": geometry, "properties": {**props, **{
                    k: shown[k] for k in ("id", "name", "naf")}}})
            return redactor.synergy(feature, named=named.get(props["id"], False))
    return territory_geojson(diagnostic.companies, diagnostic.flows, synergies, redact=redact)
