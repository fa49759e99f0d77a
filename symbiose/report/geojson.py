"""The map of a territory as GeoJSON (RFC 7946): companies as points,
substitutions as supplier → receiver lines, mutualisations as the polyline of
their collection round (used by the HTTP API and the batch reports)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from symbiose.domain import Company, Flow

Redact = Callable[[dict[str, Any]], dict[str, Any]]
_DECIMALS = 6  # ~0.1 m


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a synergy given as its JSON object or as a domain dataclass."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _position(lat: float | None, lon: float | None) -> list[float] | None:
    if lat is None or lon is None:
        return None
    return [round(float(lon), _DECIMALS), round(float(lat), _DECIMALS)]


def _geometry(points: list[list[float]], *, lines: list[list[list[float]]] | None = None) -> dict[str, Any] | None:
    if lines:
        if len(lines) == 1:
            return {"type": "LineString", "coordinates": lines[0]}
        return {"type": "MultiLineString", "coordinates": lines}
    if len(points) >= 2:
        return {"type": "LineString", "coordinates": points}
    if len(points) == 1:
        return {"type": "Point", "coordinates": points[0]}
    return None


def territory_geojson(
    companies: Iterable[Company],
    flows: Iterable[Flow],
    synergies: Iterable[Mapping[str, Any] | Any],
    *,
    redact: Redact | None = None,
) -> dict[str, Any]:
    """A ``FeatureCollection`` of the companies (``kind: "company"``) and synergies (``kind: "synergy"``).

    Company properties: id, name, naf, flows (count), resource_families (root
    taxonomy codes of their flows). Synergy properties: id, type, resource,
    quantity, unit, savings_eur, co2_avoided_t, status (``"proposed"`` unless
    the synergy object carries one). A substitution is a ``LineString`` from
    its supplier to its receiver (a ``MultiLineString`` when there are
    several); a collection round follows its ``route`` stops in order; a group
    purchase or shared service (no route) is the ``MultiPoint`` of its members.
    ``redact`` rewrites each feature before it is added.
    """
    companies = list(companies)
    flows = list(flows)
    by_company: dict[str, list[Flow]] = defaultdict(list)
    for f in flows:
        by_company[f.company_id].append(f)
    flow_pos = {f.id: _position(f.lat, f.lon) for f in flows}
    company_pos = {c.id: _position(c.lat, c.lon) for c in companies}
    keep = redact or (lambda feature: feature)
    features: list[dict[str, Any]] = []
    for c in companies:
        own = by_company.get(c.id, [])
        pos = company_pos[c.id]
        features.append(keep({
            "type": "Feature",
            "id": f"company:{c.id}",
            "geometry": {"type": "Point", "coordinates": pos} if pos else None,
            "properties": {
                "kind": "company",
                "id": c.id,
                "name": c.name,
                "naf": c.naf,
                "flows": len(own),
                "resource_families": sorted({f.resource.split(".", 1)[0] for f in own}),
            },
        }))

    def where(participant: Any) -> list[float] | None:
        flow_id = _get(participant, "flow_id")
        return (flow_pos.get(flow_id) if flow_id else None) or company_pos.get(_get(participant, "company_id"))

    for s in synergies:
        kind = str(_get(s, "type"))
        suppliers = [p for p in (where(x) for x in _get(s, "suppliers", ()) or ()) if p]
        receivers = [p for p in (where(x) for x in _get(s, "receivers", ()) or ()) if p]
        if kind == "substitution":
            lines = [[a, b] for a in suppliers for b in receivers if a != b]
            geometry = _geometry(suppliers + receivers, lines=lines)
        else:
            route = [p for p in (_position(_get(stop, "lat"), _get(stop, "lon")) for stop in _get(s, "route", ()) or ()) if p]
            if route:
                geometry = _geometry(route)
            else:  # a group purchase or a shared service: its members, not a round
                members = suppliers + receivers
                geometry = {"type": "MultiPoint", "coordinates": members} if members else None
        sid = _get(s, "id")
        features.append(keep({
            "type": "Feature",
            "id": f"synergy:{sid}",
            "geometry": geometry,
            "properties": {
                "kind": "synergy",
                "id": sid,
                "type": kind,
                "resource": _get(s, "resource"),
                "quantity": _get(s, "quantity"),
                "unit": _get(s, "unit"),
                "savings_eur": _get(s, "savings_eur"),
                "co2_avoided_t": _get(s, "co2_avoided_t"),
                "status": str(_get(s, "status", None) or "proposed"),
                "in_plan": bool(_get(s, "in_plan", True)),
                "distance_km": _get(s, "distance_km"),
            },
        }))
    return {"type": "FeatureCollection", "features": features}
