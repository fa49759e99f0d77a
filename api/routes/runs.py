"""Matching runs: started here, executed by the worker, polled by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.deps import CallerDep, TerritoryDep, UowDep, WriterDep, actor
from api.problems import responses
from api.routes.common import PageDep
from api.schemas import PageOut, RunCreated, RunOut
from symbiose.services.queries import get_run, list_runs
from symbiose.services.runs import queue_run

router = APIRouter(prefix="/territories/{code}/runs", tags=["runs"])
RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="run number")]


@router.post(
    "", operation_id="create_run", summary="Start a matching run", status_code=202, response_model=RunCreated,
    responses=responses(403),
)
def start(request: Request, response: Response, territory: TerritoryDep, caller: WriterDep, uow: UowDep) -> dict:
    """Queue matching and mutualisation of the territory's stored flows; 202 at once, poll the run."""
    run_id, new = queue_run(uow, territory.code, actor(caller))
    if new:  # a request that joins the run already queued does not queue it twice
        request.app.state.worker.submit(run_id)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{run_id}"
    return {"id": run_id, "status": "queued"}


@router.get("", operation_id="list_runs", summary="List runs", response_model=PageOut[RunOut])
def runs(territory: TerritoryDep, uow: UowDep, _caller: CallerDep, paging: PageDep) -> dict:
    """The territory's runs, newest first."""
    return list_runs(uow, territory, page=paging.page, size=paging.size).to_dict()


@router.get("/{run_id}", operation_id="get_run", summary="Get a run", response_model=RunOut, responses=responses(404))
def run(territory: TerritoryDep, uow: UowDep, _caller: CallerDep, run_id: RunId) -> dict:
    """A run's ``status`` (queued, running, done, failed), its ``summary`` when done, its ``error`` when failed."""
    return get_run(uow, territory, run_id)
