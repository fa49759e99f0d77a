"""Territories: the ones a key sees, with counts; creation by an admin."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import AdminDep, CallerDep, UowDep
from api.problems import ProblemException, responses
from api.schemas import TerritoryCreate, TerritoryOut
from symbiose.services.territories import ensure_territory, list_territories, territory_counts
from symbiose.store.orm import TerritoryRow

router = APIRouter(prefix="/territories", tags=["territories"])


@router.get("", operation_id="list_territories", summary="List the territories of this key", response_model=list[TerritoryOut])
def list_visible(uow: UowDep, caller: CallerDep) -> list[dict]:
    """The territories this key sees (all of them for an admin), with companies, flows and synergies counted."""
    codes = None if caller.role == "admin" else {caller.territory} if caller.territory else set()
    return list_territories(uow, codes)


@router.post(
    "", operation_id="create_territory", summary="Create a territory (admin)", status_code=201, response_model=TerritoryOut,
    responses=responses(403, 409),
)
def create(body: TerritoryCreate, uow: UowDep, _admin: AdminDep) -> dict:
    """Create a territory (admin keys only); 409 if the code is taken."""
    if uow.session.scalar(select(TerritoryRow.id).where(TerritoryRow.code == body.code)) is not None:
        raise ProblemException(409, f"Le territoire « {body.code} » existe déjà.", kind="territory-exists")
    row = ensure_territory(uow, body.code, body.name.strip() or body.code)
    uow.commit()
    return territory_counts(uow, row)
