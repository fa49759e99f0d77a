"""Review of classifications and the animators' corrections (an animator's
job: ``animator`` and ``admin`` keys only, 403 for ``portal`` keys), and the
taxonomy searched in French for a code picker."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.deps import CallerDep, TerritoryDep, UowDep, actor
from api.problems import ProblemException, responses
from api.routes.common import PageDep
from api.schemas import NO_NUL, PageOut
from symbiose.services.keys import Caller
from symbiose.services.review import InvalidCorrection, correct, list_corrections, review_flows, search_codes

router = APIRouter(prefix="/territories/{code}", tags=["review"])
taxonomy_router = APIRouter(prefix="/taxonomy", tags=["review"])

Short = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=128)]
LongText = Annotated[str, StringConstraints(pattern=NO_NUL, max_length=4000)]


def require_reviewer(caller: CallerDep) -> Caller:
    """Reviewing classifications is an animator's job: a portal key gets 403."""
    if not caller.can_write:
        raise ProblemException(403, "La revue des classifications est réservée aux animateurs (clé « animator » ou « admin »).",
                               kind="reviewers-only")
    return caller


ReviewerDep = Annotated[Caller, Depends(require_reviewer)]


class Guess(BaseModel):
    code: str
    label: str
    confidence: float


class ReviewItemOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    flow_id: str
    company_id: str
    company_name: str
    direction: str
    text: str = Field(description="the resource text as imported (empty for a row that gave only an EWC code)")
    label: str
    ewc: str | None = None
    resource: str = Field(description="the current code (`unknown` when not recognised)")
    resource_label: str
    confidence: float
    reason: str = Field(description="`unknown` or `low_confidence`")
    quantity: float | None = None
    unit: str | None = None
    period: str
    guesses: list[Guess] = Field(description="the classifier's top guesses, best first (at most 3)")


class CorrectionCreate(BaseModel):
    """Set the code of a text (every flow of that text, and later imports of it) or of one flow
    (and every flow with the same text). Give ``text`` or ``flow_id``, not both."""

    model_config = ConfigDict(extra="forbid")
    code: Short | None = Field(default=None, description="a taxonomy code, e.g. wood.pallet", examples=["wood.pallet"])
    text: LongText | None = Field(default=None, description="a resource text as written in diagnostics")
    flow_id: Short | None = Field(default=None, description="a flow id, e.g. F-1a2b3c4d5e6f")


class CorrectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int | None = None
    text: str
    code: str
    label: str | None = None
    previous_code: str | None = None
    flow_id: str | None = None
    actor: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CorrectionResultOut(CorrectionOut):
    flows_updated: list[str] = Field(description="ids of the flows changed now (after the change)")
    flows_skipped: list[dict[str, str]] = Field(description="flows of the same text left as they were, with why")
    created: bool


class CodeOut(BaseModel):
    code: str
    label: str


@router.get(
    "/review", operation_id="list_flows_to_review", summary="Flows to review (unknown or low confidence)",
    response_model=PageOut[ReviewItemOut], responses=responses(403),
)
def to_review(territory: TerritoryDep, uow: UowDep, _caller: ReviewerDep, paging: PageDep) -> dict:
    """Flows classified ``unknown`` or below the low-confidence threshold, unknown first, each with its top guesses."""
    return review_flows(uow, territory, page=paging.page, size=paging.size).to_dict()


@router.get(
    "/corrections", operation_id="list_corrections", summary="Corrections of this territory",
    response_model=PageOut[CorrectionOut], responses=responses(403),
)
def corrections(territory: TerritoryDep, uow: UowDep, _caller: ReviewerDep, paging: PageDep) -> dict:
    """The territory's corrections, latest first, with who made them and when."""
    return list_corrections(uow, territory, page=paging.page, size=paging.size).to_dict()


@router.post(
    "/corrections", operation_id="create_correction", summary="Correct a classification", status_code=201,
    response_model=CorrectionResultOut, responses=responses(403),
)
def create_correction(territory: TerritoryDep, uow: UowDep, caller: ReviewerDep, body: CorrectionCreate) -> dict[str, Any]:
    """Record a correction, apply it to the territory's flows of that text (201); 422 with a French
    reason for a code that is not in the taxonomy or cannot count the flow's unit; 404 for an unknown flow."""
    if not body.code:
        raise _invalid(InvalidCorrection("code", None, "Donnez le code de la taxonomie à retenir (« code »)."))
    try:
        result = correct(uow, territory, code=body.code, text=body.text, flow_id=body.flow_id, actor=actor(caller))
    except InvalidCorrection as exc:
        raise _invalid(exc) from None
    return result.to_dict()


def _invalid(exc: InvalidCorrection) -> ProblemException:
    return ProblemException(422, str(exc), kind="invalid-correction",
                            errors=[{"row": None, "column": exc.field, "value": exc.value, "message": str(exc)}])


@taxonomy_router.get(
    "/codes", operation_id="search_codes", summary="Search the resource taxonomy (French)", response_model=list[CodeOut],
)
def codes(
    _caller: CallerDep,
    q: Annotated[str, Query(max_length=200, pattern=NO_NUL, description="words of a French or English label (none: no codes)")] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[dict[str, str]]:
    """Taxonomy codes whose label, synonyms or code hold the query's words (the classifier's reading first)."""
    return search_codes(q, limit=limit)
