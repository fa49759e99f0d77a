"""Read helpers the animator web pages need beyond :mod:`symbiose.services.queries`:
one company's card, the names of a synergy's parties, the flows as map
points, the follow-up moves open from a status and the latest run.

Confidentiality stays with :class:`~symbiose.privacy.Redactor`: every
function here takes the caller's redactor (``None`` for animators and
admins) and returns only what that caller may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select

from symbiose.domain import FollowUpStatus
from symbiose.privacy import Redactor
from symbiose.report.data import family
from symbiose.services.followup import TransitionRejected, check_transition
from symbiose.services.queries import company_item, list_flows, list_runs
from symbiose.store import UnitOfWork
from symbiose.store.orm import CompanyRow, FlowRow, TerritoryRow

MAP_FLOW_LIMIT = 5000  # flows drawn on one map; a territory beyond that shows the first ones


def company_card(
    uow: UnitOfWork, territory: TerritoryRow, company_id: str, *, redactor: Redactor | None = None
) -> dict[str, Any] | None:
    """One company (``id``, ``name``, ``city``, ``naf``, ``confidential``, ``flows``) as the caller may
    see it, or ``None`` when it does not exist here (a portal key names a hidden company by its alias)."""
    wanted = redactor.company_filter(company_id) if redactor is not None else company_id
    if wanted is None:
        return None
    row = uow.session.scalar(
        select(CompanyRow).where(CompanyRow.territory_id == territory.id, CompanyRow.external_id == wanted)
    )
    if row is None:
        return None
    flows = uow.session.scalar(select(func.count()).select_from(FlowRow)
                               .where(FlowRow.company_id == row.id, FlowRow.status == "declared")) or 0
    item = company_item(row, flows)
    return redactor.company(item) if redactor is not None and redactor.active else item


def _party_ids(synergies: Iterable[Mapping[str, Any]]) -> set[str]:
    return {
        p["company_id"] for s in synergies for p in (*(s.get("suppliers") or ()), *(s.get("receivers") or ()))
        if p.get("company_id")
    }


def participant_names(
    uow: UnitOfWork, territory: TerritoryRow, synergies: Iterable[Mapping[str, Any]], *,
    redactor: Redactor | None = None,
) -> dict[str, str]:
    """Names of the parties of ``synergies`` (already redacted for the caller), keyed by the id they show.

    An alias stands for a hidden company and gets its anonymised label; a real
    id gets the company's name (a portal sees a confidential company's real id
    only in a synergy every party consented to)."""
    synergies = list(synergies)
    ids = _party_ids(synergies)
    names: dict[str, str] = {}
    if redactor is not None:
        for hidden in redactor.hidden.values():
            if hidden.alias in ids:
                names[hidden.alias] = hidden.label
    real = ids - names.keys()
    if real:
        rows = uow.session.execute(
            select(CompanyRow.external_id, CompanyRow.name)
            .where(CompanyRow.territory_id == territory.id, CompanyRow.external_id.in_(sorted(real)))
        ).all()
        names.update((external_id, name) for external_id, name in rows)
    return names


def with_party_names(
    uow: UnitOfWork, territory: TerritoryRow, synergies: Iterable[Mapping[str, Any]], *,
    redactor: Redactor | None = None,
) -> list[dict[str, Any]]:
    """The synergies (already redacted for the caller) with a ``name`` on each supplier and receiver: the
    company's name, or its anonymised label for a hidden company (:func:`participant_names`)."""
    synergies = list(synergies)
    names = participant_names(uow, territory, synergies, redactor=redactor)

    def named(parties: Any) -> list[dict[str, Any]]:
        return [{**p, "name": names.get(p.get("company_id"), p.get("company_id"))} for p in parties or ()]

    return [{**s, "suppliers": named(s.get("suppliers")), "receivers": named(s.get("receivers"))} for s in synergies]


def confidential_parties(uow: UnitOfWork, territory: TerritoryRow, synergy: Mapping[str, Any]) -> set[str]:
    """The parties of a synergy (as an animator sees it) flagged confidential: those whose consent matters."""
    ids = _party_ids([synergy])
    if not ids:
        return set()
    return set(uow.session.scalars(
        select(CompanyRow.external_id).where(
            CompanyRow.territory_id == territory.id, CompanyRow.external_id.in_(sorted(ids)),
            CompanyRow.confidential.is_(True),
        )
    ))


def flow_features(
    uow: UnitOfWork, territory: TerritoryRow, companies: Mapping[str, list[float] | None], *,
    redactor: Redactor | None = None,
) -> list[dict[str, Any]]:
    """The territory's flows as GeoJSON points (``kind: "flow"``) with their resource family.

    A flow without its own coordinates sits at its company (``companies``:
    company id as shown → ``[lon, lat]``)."""
    page = list_flows(uow, territory, size=MAP_FLOW_LIMIT, redactor=redactor)
    features = []
    for f in page.items:
        if f["lat"] is not None and f["lon"] is not None:
            position = [f["lon"], f["lat"]]
        else:
            position = companies.get(f["company_id"])
        root, label = family(f["resource"])
        features.append({
            "type": "Feature",
            "id": f"flow:{f['id']}",
            "geometry": {"type": "Point", "coordinates": position} if position else None,
            "properties": {
                "kind": "flow", "id": f["id"], "company_id": f["company_id"], "direction": f["direction"],
                "resource": f["resource"], "family": root, "family_label": label,
                "quantity": f["quantity"], "unit": f["unit"], "label": f["label"] or f["text"],
                "status": f.get("status", "declared"), "probability": f.get("probability"),
            },
        })
    return features


def map_collection(
    uow: UnitOfWork, territory: TerritoryRow, geojson: Mapping[str, Any], *, redactor: Redactor | None = None
) -> dict[str, Any]:
    """The territory map (``queries.territory_map``) plus its flows, each synergy tagged with its family
    and each company with its commune (for the map's search)."""
    companies: dict[str, list[float] | None] = {}
    cities = dict(uow.session.execute(
        select(CompanyRow.external_id, CompanyRow.city).where(CompanyRow.territory_id == territory.id)
    ).all())
    features = []
    for feature in geojson["features"]:
        props = feature["properties"]
        if props["kind"] == "company":
            geometry = feature.get("geometry")
            companies[props["id"]] = geometry["coordinates"] if geometry else None
            features.append({**feature, "properties": {**props, "city": props.get("city") or cities.get(props["id"]) or ""}})
        else:
            root, label = family(props.get("resource") or "")
            features.append({**feature, "properties": {**props, "family": root, "family_label": label}})
    features.extend(flow_features(uow, territory, companies, redactor=redactor))
    return {"type": "FeatureCollection", "features": features}


def map_towns(geojson: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The main towns around the companies of a map (``report.basemap``), for its background labels."""
    from symbiose.report.basemap import towns_near

    points = [(f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]) for f in geojson["features"]
              if f["properties"]["kind"] == "company" and f.get("geometry")]
    return towns_near(points)


def next_statuses(current: str) -> list[str]:
    """The follow-up statuses a synergy at ``current`` may move to (``followup.check_transition``)."""
    allowed = []
    for status in FollowUpStatus:
        if status.value == current:
            continue
        try:
            check_transition(current, status.value)
        except TransitionRejected:
            continue
        allowed.append(status.value)
    return allowed


def latest_run(uow: UnitOfWork, territory: TerritoryRow) -> dict[str, Any] | None:
    """The territory's newest run (any status), or ``None`` before the first."""
    items = list_runs(uow, territory, size=1).items
    return items[0] if items else None
