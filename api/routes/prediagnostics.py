"""Pre-diagnostic: a SIRENE-like firm list in, probable flows and the ranked
visit list out; a visit confirms (or rules out) a probable flow."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CallerDep, RedactorDep, TerritoryDep, UowDep, WriterDep, actor
from api.problems import ProblemException, responses
from api.routes.diagnostics import read_upload
from api.schemas import NO_NUL, Text
from symbiose.prediagnostic.messages import prediag_fr
from symbiose.services.prediagnostic import (
    VisitError,
    confirm_visit,
    latest_visits,
    run_prediagnostic,
    visit_trace,
)

router = APIRouter(prefix="/territories/{code}", tags=["prediagnostic"])


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ProbableFlowOut(_Out):
    resource: str
    direction: Literal["in", "out"]
    probability: float
    quantity_low: float
    quantity_high: float
    unit: str


class VisitFirmOut(_Out):
    company_id: str
    name: str
    naf: str | None = None
    probable_flows: list[ProbableFlowOut]
    visit_rank: int | None = None
    reason: str
    expected_value_eur: float
    visited: bool


class PrediagnosticOut(_Out):
    territory: str
    written: bool
    firms: list[VisitFirmOut]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class VisitsOut(_Out):
    territory: str
    generated_at: str | None = None
    firms: list[VisitFirmOut]
    probable_synergies: list[dict[str, Any]]


class VisitIn(BaseModel):
    """What a visit found for one probable flow."""

    model_config = ConfigDict(extra="forbid")
    flow_id: str = Field(min_length=1, max_length=32, pattern=NO_NUL, description="id of a probable flow (P-...)")
    exists: bool = Field(True, description="false: the firm has no such flow (ruled out, trace kept)")
    quantity: float | None = Field(None, ge=0, le=1e9, description="quantity found, in unit per period")
    unit: str | None = Field(None, max_length=16, pattern=NO_NUL, description="t, kg, m3, L, MWh, kWh, GJ, unit")
    period: str | None = Field(None, max_length=16, pattern=NO_NUL, description="year (default), month, week, day")
    note: Text | None = None


@router.post(
    "/prediagnostics", operation_id="upload_prediagnostic", summary="Pre-diagnose a firm list (CSV or XLSX)",
    status_code=201, response_model=PrediagnosticOut, responses=responses(403, 413),
)
def upload(
    request: Request,
    territory: TerritoryDep,
    caller: WriterDep,
    uow: UowDep,
    file: Annotated[UploadFile, File(description="SIRENE-like firm list: SIRET, name, NAF, size band or headcount, location (docs/prediagnostic.md)")],
    dry_run: Annotated[bool, Query(description="compute only, write nothing")] = False,
) -> dict:
    """Store each firm's probable flows and the new visit ranking: 201, or 422 with every row error and nothing written."""
    data, filename = read_upload(request, file)
    report = run_prediagnostic(uow, data, territory=territory.code, filename=filename,
                               actor=actor(caller), dry_run=dry_run, create_territory=False)
    body = report.to_dict()
    for issue in body["errors"] + body["warnings"]:
        issue["message_fr"] = prediag_fr(issue)
    if report.errors:
        raise ProblemException(
            422, f"La liste d'établissements est refusée : {len(report.errors)} erreur(s) bloquante(s) ; rien n'a été écrit.",
            kind="firm-list-rejected", errors=body["errors"], extra={"report": body},
        )
    return body


@router.get("/visits", operation_id="list_visits", summary="Ranked visit list", response_model=VisitsOut)
def visits(territory: TerritoryDep, uow: UowDep, _caller: CallerDep, redactor: RedactorDep) -> dict:
    """Firms not yet visited, ranked by the expected value of the synergies their probable flows would open
    (an empty list, ``generated_at`` null, before any pre-diagnostic)."""
    result = latest_visits(uow, territory.code, redactor=redactor)
    if result is None:
        return {"territory": territory.code, "generated_at": None, "firms": [], "probable_synergies": []}
    return result


@router.post("/visits", operation_id="confirm_visit", summary="Confirm or rule out a probable flow",
             status_code=201, responses=responses(403, 422))
def confirm(body: VisitIn, territory: TerritoryDep, caller: WriterDep, uow: UowDep) -> dict:
    """A visit turns a probable flow into a declared one (or rules it out); the trace is kept."""
    try:
        return confirm_visit(uow, territory.code, body.flow_id, quantity=body.quantity, unit=body.unit,
                             period=body.period, exists=body.exists, note=body.note, actor=actor(caller))
    except VisitError as exc:
        raise ProblemException(422, f"Visite refusée : {exc.message}", kind="visit-rejected",
                               errors=[{"row": None, "column": exc.field, "value": None if exc.value is None else str(exc.value),
                                        "message": exc.message}]) from None


@router.get("/visits/trace", operation_id="visit_trace", summary="Trace of the visits")
def trace(territory: TerritoryDep, uow: UowDep, _caller: CallerDep, redactor: RedactorDep) -> list[dict]:
    """Every probable flow a visit confirmed or ruled out: what was guessed, what was found, who, when
    (portal keys: none of a confidential firm's)."""
    return visit_trace(uow, territory.code, redactor=redactor)
