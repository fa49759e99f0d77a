"""The figures a park reports to its funders (rendered once per data version)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from api.cache import cached_json
from api.deps import CallerDep, TerritoryDep, UowDep
from api.schemas import IndicatorsOut
from symbiose.services.queries import indicators, synergy_version

router = APIRouter(prefix="/territories/{code}/indicators", tags=["indicators"])
FIGURES = TypeAdapter(IndicatorsOut)


@router.get("", operation_id="get_indicators", summary="Indicators for funders", response_model=IndicatorsOut,
            responses={304: {"description": "Not modified: the ETag sent in If-None-Match is current"}})
def figures(request: Request, territory: TerritoryDep, uow: UowDep, _caller: CallerDep) -> Response:
    """Synergies, tonnes diverted, € saved and tCO2e avoided: in total, by follow-up status and by type."""
    key = ("indicators", territory.id, synergy_version(uow, territory))
    return cached_json(request, request.app.state.body_cache, key,
                       lambda: FIGURES.dump_json(FIGURES.validate_python(indicators(uow, territory))), compress=True)
