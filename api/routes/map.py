"""The territory's map as GeoJSON."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RedactorDep, TerritoryDep, UowDep
from api.problems import SafeJSONResponse
from api.schemas import FeatureCollection
from symbiose.services.queries import territory_map

router = APIRouter(prefix="/territories/{code}", tags=["map"])


class GeoJSONResponse(SafeJSONResponse):
    media_type = "application/geo+json"


@router.get(
    "/map.geojson", operation_id="get_map", summary="Map of the territory (GeoJSON)",
    response_model=FeatureCollection, response_class=GeoJSONResponse,
)
def territory_geojson(territory: TerritoryDep, uow: UowDep, redactor: RedactorDep) -> dict:
    """Companies as points, synergies as lines (substitution) or round polylines (mutualisation)."""
    return territory_map(uow, territory, redactor=redactor)
