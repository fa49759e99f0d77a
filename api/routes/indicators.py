"""The figures a park reports to its funders."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, TerritoryDep, UowDep
from api.schemas import IndicatorsOut
from symbiose.services.queries import indicators

router = APIRouter(prefix="/territories/{code}/indicators", tags=["indicators"])


@router.get("", operation_id="get_indicators", summary="Indicators for funders", response_model=IndicatorsOut)
def figures(territory: TerritoryDep, uow: UowDep, _caller: CallerDep) -> dict:
    """Synergies, tonnes diverted, € saved and tCO2e avoided: in total, by follow-up status and by type."""
    return indicators(uow, territory)
