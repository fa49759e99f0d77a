"""Regions (additions to ``http-api.md``): several territories matched as one; their view
for ``admin`` and ``region`` keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from api.deps import AdminDep, CallerDep, UowDep, actor
from api.problems import ProblemException, responses
from api.routes.common import PageDep
from symbiose.services.regions import (
    RegionNotFound,
    create_region,
    create_region_run,
    get_region,
    get_region_run,
    list_regions,
    region_item,
    region_synergies,
)
from symbiose.services.territories import CODE_PATTERN, TerritoryNotFound

router = APIRouter(prefix="/regions", tags=["regions"])
RegionCode = Annotated[str, Path(description="region code")]  # path parameter {region}
RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="region run number")]


class RegionCreate(BaseModel):
    code: str = Field(pattern=CODE_PATTERN.pattern)
    name: str = Field(default="", max_length=256)
    territories: list[Annotated[str, Field(pattern=CODE_PATTERN.pattern)]] = Field(min_length=1, max_length=1000)


class RegionOut(BaseModel):
    code: str
    name: str
    territories: list[str]


def _visible(uow: Any, caller: Any, code: str) -> None:
    """A region the key does not cover answers 404, exactly like a missing one."""
    if not (CODE_PATTERN.fullmatch(code) and caller.can_see_region(code)):
        raise ProblemException(404, "Région introuvable.", kind="region-not-found")
    try:
        get_region(uow, code)
    except RegionNotFound:
        raise ProblemException(404, "Région introuvable.", kind="region-not-found") from None


@router.get("", operation_id="list_regions", summary="List the regions of this key", response_model=list[RegionOut])
def regions(uow: UowDep, caller: CallerDep) -> list[dict]:
    """Every region for an admin, its own for a ``region`` key, none for the others."""
    codes = None if caller.role == "admin" else {caller.region} if caller.region else set()
    return list_regions(uow, codes)


@router.post("", operation_id="create_region", summary="Create or redefine a region (admin)", status_code=201,
             response_model=RegionOut, responses=responses(403, 404))
def create(body: RegionCreate, uow: UowDep, _admin: AdminDep) -> dict:
    """A region of existing territories (its member list replaced if the code exists)."""
    try:
        row = create_region(uow, body.code, body.name.strip() or body.code, body.territories)
    except TerritoryNotFound as exc:
        raise ProblemException(404, f"Territoire inconnu : « {exc.args[0]} ».", kind="territory-not-found") from None
    return region_item(uow, row)


@router.post("/{region}/runs", operation_id="create_region_run", summary="Match a region (admin)", status_code=202,
             responses=responses(403, 404))
def start(request: Request, response: Response, region: RegionCode, uow: UowDep, caller: AdminDep) -> dict:
    """Queue one matching of every territory of the region; 202 at once, poll the run."""
    _visible(uow, caller, region)
    run_id = create_region_run(uow, region, actor(caller))
    request.app.state.worker.submit_region(run_id)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{run_id}"
    return {"id": run_id, "status": "queued"}


@router.get("/{region}/runs/{run_id}", operation_id="get_region_run", summary="Get a region run",
            responses=responses(404))
def run(region: RegionCode, run_id: RunId, uow: UowDep, caller: CallerDep) -> dict:
    """A region run's ``status``, its ``summary`` when done, its ``error`` when failed."""
    _visible(uow, caller, region)
    try:
        return get_region_run(uow, region, run_id)
    except LookupError:
        raise ProblemException(404, "Appariement introuvable.", kind="run-not-found") from None


@router.get("/{region}/synergies", operation_id="list_region_synergies", summary="The region's synergies",
            responses=responses(404))
def synergies(
    region: RegionCode, uow: UowDep, caller: CallerDep, paging: PageDep,
    type: Annotated[str | None, Query(pattern="^(substitution|mutualisation)$")] = None,
) -> dict:
    """The latest region run's synergies, each once with the ``territory`` whose copy is shown; a
    ``region`` key sees every confidential company anonymised."""
    _visible(uow, caller, region)
    return region_synergies(uow, region, anonymise=caller.role != "admin", page=paging.page, size=paging.size,
                            type=type)
