"""Companies of a territory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import RedactorDep, TerritoryDep, UowDep
from api.routes.common import PageDep
from api.schemas import NO_NUL, CompanyOut, PageOut
from symbiose.services.queries import list_companies

router = APIRouter(prefix="/territories/{code}/companies", tags=["companies"])


@router.get("", operation_id="list_companies", summary="List companies", response_model=PageOut[CompanyOut])
def companies(
    territory: TerritoryDep,
    uow: UowDep,
    redactor: RedactorDep,
    paging: PageDep,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_NUL, description="name contains (case and accents ignored)")
    ] = None,
) -> dict:
    """Companies, paginated; ``q`` searches their names."""
    return list_companies(uow, territory, q=q, page=paging.page, size=paging.size, redactor=redactor).to_dict()
