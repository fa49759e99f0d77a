"""Flows of a territory."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import RedactorDep, TerritoryDep, UowDep
from api.routes.common import PageDep
from api.schemas import NO_NUL, FlowOut, PageOut
from symbiose.services.queries import list_flows

router = APIRouter(prefix="/territories/{code}/flows", tags=["flows"])


@router.get("", operation_id="list_flows", summary="List flows", response_model=PageOut[FlowOut])
def flows(
    territory: TerritoryDep,
    uow: UowDep,
    redactor: RedactorDep,
    paging: PageDep,
    direction: Annotated[Literal["in", "out"] | None, Query(description="out: to give or dispose of; in: needed")] = None,
    resource: Annotated[str | None, Query(max_length=128, pattern=NO_NUL, description="taxonomy code prefix, e.g. wood")] = None,
    company_id: Annotated[str | None, Query(max_length=128, pattern=NO_NUL)] = None,
    status: Annotated[Literal["declared", "probable"] | None, Query(description="declared, or probable (pre-diagnostic); both by default")] = None,
) -> dict:
    """Flows, paginated; filtered by direction, resource code prefix and company."""
    return list_flows(
        uow, territory, direction=direction, resource=resource, company_id=company_id,
        page=paging.page, size=paging.size, redactor=redactor, status=status,
    ).to_dict()
