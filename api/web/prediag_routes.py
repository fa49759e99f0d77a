"""The pre-diagnostic pages: upload a firm list, the ranked visit list with
each firm's probable flows, and the visit form that confirms (or rules out)
a probable flow. Same services and checks as the API (``api.routes.prediagnostics``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from api.deps import UowDep, actor
from api.web.routes import PageError, ScopeDep, WriterScope, _base, redirect, render
from symbiose.explain import format as fr
from symbiose.prediagnostic.messages import prediag_fr
from symbiose.services.prediagnostic import VisitError, confirm_visit, latest_visits, run_prediagnostic

router = APIRouter(include_in_schema=False)
UNITS = ("t", "kg", "m3", "L", "MWh", "kWh", "GJ", "unit")


def _page(request: Request, uow, scope, status: int = 200, **extra) -> HTMLResponse:
    visits = latest_visits(uow, scope.territory.code, redactor=scope.redactor)
    context = {"visits": visits, "report": None, "error": None, "done": None, "units": UNITS,
               "issue_text": prediag_fr, **extra}
    return render(request, "prediagnostic.html", status, **_base(scope), **context)


@router.get("/territoires/{code}/visites", name="visit_list", response_class=HTMLResponse)
def visit_list(request: Request, uow: UowDep, scope: ScopeDep) -> HTMLResponse:
    """Whom to visit first, with the probable flows of each firm (to confirm at the visit)."""
    return _page(request, uow, scope)


@router.post("/territoires/{code}/visites/pre-diagnostic", name="prediag_upload", response_class=HTMLResponse)
def prediag_upload(
    request: Request, uow: UowDep, scope: WriterScope, fichier: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Pre-diagnose a firm list: the new visit list, or every row error and nothing written."""
    settings = request.app.state.settings
    if fichier is None or not fichier.filename:
        return _page(request, uow, scope, 422, error="Choisissez un fichier CSV ou XLSX.")
    data = fichier.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        return _page(request, uow, scope, 413,
                     error=f"Le fichier dépasse la taille autorisée ({fr.number(settings.max_upload_bytes)} octets).")
    name = "".join(ch for ch in fichier.filename if ch.isprintable())[-200:] or None
    report = run_prediagnostic(uow, data, territory=scope.territory.code, filename=name, actor=actor(scope.caller),
                               create_territory=False)
    return _page(request, uow, scope, 422 if report.errors else 200, report=report)


@router.post("/territoires/{code}/visites/confirmer", name="visit_confirm")
def visit_confirm(
    request: Request, uow: UowDep, scope: WriterScope,
    flux: Annotated[str, Form()], quantite: Annotated[str, Form()] = "", unite: Annotated[str, Form()] = "",
    absent: Annotated[str, Form()] = "", remarque: Annotated[str, Form()] = "",
) -> Response:
    """A visit confirms a probable flow with the quantity found, or rules it out; then back to the list."""
    quantity = None
    if not absent:
        try:
            quantity = float(quantite.replace("\u202f", "").replace(" ", "").replace(",", "."))
        except ValueError:
            return _page(request, uow, scope, 422, error=f"Quantité « {quantite} » : un nombre est attendu (ex. 12,5).")
    try:
        confirm_visit(uow, scope.territory.code, flux[:32], quantity=quantity, unit=unite or None,
                      exists=not absent, note=remarque[:2000] or None, actor=actor(scope.caller))
    except VisitError as exc:
        return _page(request, uow, scope, 422, error=f"Visite refusée : {exc.message}")
    except ValueError as exc:  # pragma: no cover - defensive: any bad value is a 422 page, never a 500
        raise PageError(422, "Visite refusée", str(exc)) from exc
    return redirect(request, "visit_list", code=scope.territory.code)
