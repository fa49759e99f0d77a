"""The territory's map as GeoJSON: rendered once per data version, kept gzip-compressed,
optionally cut to a bounding box."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from api.cache import cached_json
from api.deps import RedactorDep, TerritoryDep, UowDep
from api.problems import SafeJSONResponse
from api.schemas import FeatureCollection
from symbiose.services.queries import map_version, territory_map

router = APIRouter(prefix="/territories/{code}", tags=["map"])
MAP = TypeAdapter(FeatureCollection)
BBOX = r"^-?[0-9]{1,3}(\.[0-9]{1,17})?(,-?[0-9]{1,3}(\.[0-9]{1,17})?){3}$"


class GeoJSONResponse(SafeJSONResponse):
    media_type = "application/geo+json"


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``min_lon,min_lat,max_lon,max_lat`` (RFC 7946 order) as floats, clamped to WGS 84 (a box
    whose minimum exceeds its maximum holds nothing)."""
    w, s, e, n = (float(v) for v in text.split(","))
    lon = lambda v: min(180.0, max(-180.0, v))  # noqa: E731
    lat = lambda v: min(90.0, max(-90.0, v))  # noqa: E731
    return lon(w), lat(s), lon(e), lat(n)


def _positions(geometry: dict[str, Any] | None) -> list[list[float]]:
    if not geometry:
        return []
    coords, kind = geometry["coordinates"], geometry["type"]
    if kind == "Point":
        return [coords]
    if kind in ("LineString", "MultiPoint"):
        return list(coords)
    if kind == "MultiLineString":
        return [p for line in coords for p in line]
    return []


def within(doc: dict[str, Any], bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    """The features with at least one position inside ``bbox`` (a line crossing it is kept)."""
    w, s, e, n = bbox
    return {**doc, "features": [f for f in doc["features"]
                                if any(w <= p[0] <= e and s <= p[1] <= n for p in _positions(f.get("geometry")))]}


@router.get(
    "/map.geojson", operation_id="get_map", summary="Map of the territory (GeoJSON)",
    response_model=FeatureCollection, response_class=GeoJSONResponse,
    responses={304: {"description": "Not modified: the ETag sent in If-None-Match is current"}},
)
def territory_geojson(
    request: Request, territory: TerritoryDep, uow: UowDep, redactor: RedactorDep,
    bbox: Annotated[str | None, Query(pattern=BBOX, description="min_lon,min_lat,max_lon,max_lat: only the "
                                      "features with a position inside")] = None,
) -> Response:
    """Companies as points, synergies as lines (substitution) or round polylines (mutualisation).

    Rendered once per version of the territory's data (import, run, follow-up, consent),
    gzip-compressed for clients that accept it; an ``ETag`` answers ``If-None-Match``."""
    box = parse_bbox(bbox) if bbox else None
    shown = redactor if redactor is not None and redactor.active else None
    base = ("map", territory.id, map_version(uow, territory), shown.stamp if shown else None)
    cache = request.app.state.body_cache

    def document() -> dict[str, Any]:
        return MAP.dump_python(MAP.validate_python(territory_map(uow, territory, redactor=redactor)), mode="json")

    def render() -> bytes:
        doc = cache.get_or_render(("map-doc", *base), document)
        return MAP.dump_json(MAP.validate_python(within(doc, box) if box else doc))

    return cached_json(request, cache, (*base, box), render, media_type="application/geo+json", compress=True)
