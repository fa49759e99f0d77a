"""Synergies of the latest run, their follow-up and the parties' consent."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import TypeAdapter

from api.cache import cached_json
from api.deps import RedactorDep, TerritoryDep, UowDep, WriterDep, actor
from api.problems import responses
from api.routes.common import PageDep
from api.schemas import NO_NUL, ConsentCreate, ConsentOut, FollowUpUpdate, PageOut, Status, SynergyOut
from symbiose.services.followup import record_consent, update_followup
from symbiose.services.pages import with_party_names
from symbiose.services.queries import get_synergy, list_synergies, synergy_version

router = APIRouter(prefix="/territories/{code}/synergies", tags=["synergies"])
SynergyId = Annotated[str, Path(max_length=64, pattern=NO_NUL, description="the synergy's id in the latest run, e.g. S-0001")]


PAGE = TypeAdapter(PageOut[SynergyOut])


@router.get(
    "", operation_id="list_synergies", summary="List the latest run's synergies", response_model=PageOut[SynergyOut],
    responses={304: {"description": "Not modified: the ETag sent in If-None-Match is current"}},
)
def synergies(
    request: Request,
    territory: TerritoryDep,
    uow: UowDep,
    redactor: RedactorDep,
    paging: PageDep,
    type: Annotated[Literal["substitution", "mutualisation"] | None, Query()] = None,
    resource: Annotated[str | None, Query(max_length=128, pattern=NO_NUL, description="taxonomy code prefix")] = None,
    company_id: Annotated[str | None, Query(max_length=128, pattern=NO_NUL, description="a participating company")] = None,
    status: Annotated[Status | None, Query(description="follow-up status (its French word is accepted too)")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)] = None,
    in_plan: Annotated[bool | None, Query(description="true: the optimised plan only; false: the options left out")] = None,
) -> Response:
    """The latest finished run's synergies by rank, each as in synergy-output.md plus its follow-up.

    The answer carries an ``ETag``; it changes with a new run, a follow-up change or a consent."""
    shown = redactor if redactor is not None and redactor.active else None
    key = (territory.id, synergy_version(uow, territory), shown.stamp if shown else None, type, resource,
           company_id, status, min_score, in_plan, paging.page, paging.size)

    def render() -> bytes:
        page = list_synergies(
            uow, territory, type=type, resource=resource, company_id=company_id,
            status=status.value if status else None, min_score=min_score, page=paging.page, size=paging.size,
            redactor=shown, in_plan=in_plan,
        )
        body = page.to_dict()
        body["items"] = with_party_names(uow, territory, body["items"], redactor=shown)
        return PAGE.dump_json(PAGE.validate_python(body))

    return cached_json(request, request.app.state.body_cache, key, render)


@router.get(
    "/{synergy_id}", operation_id="get_synergy", summary="Get a synergy", response_model=SynergyOut,
    responses=responses(404),
)
def synergy(territory: TerritoryDep, uow: UowDep, redactor: RedactorDep, synergy_id: SynergyId) -> dict:
    """One synergy with its follow-up history; each party carries its ``name`` (anonymised for portal keys)."""
    shown = redactor if redactor is not None and redactor.active else None
    return with_party_names(uow, territory, [get_synergy(uow, territory, synergy_id, redactor=redactor)],
                            redactor=shown)[0]


@router.patch(
    "/{synergy_id}", operation_id="update_synergy_followup", summary="Update the follow-up of a synergy",
    response_model=SynergyOut,
    responses=responses(403, 404, 409),
)
def follow_up(
    territory: TerritoryDep, caller: WriterDep, uow: UowDep, synergy_id: SynergyId, body: FollowUpUpdate
) -> dict:
    """Move the follow-up: proposed → contacted → studied → implemented (forward, steps may be skipped),
    or rejected from any status with a note (the reason). 409 for a move that is not allowed."""
    return update_followup(
        uow, territory.code, synergy_id, status=body.status.value if body.status else None, note=body.note,
        actor=actor(caller),
    )


@router.post(
    "/{synergy_id}/consent", operation_id="record_synergy_consent", summary="Record a party's consent to be named",
    response_model=ConsentOut,
    responses=responses(403, 404),
)
def consent(
    territory: TerritoryDep, _caller: WriterDep, uow: UowDep, synergy_id: SynergyId, body: ConsentCreate
) -> dict:
    """A party agrees to be named to the other parties; once all have, portal keys see their names."""
    return record_consent(uow, territory.code, synergy_id, body.company_id)
