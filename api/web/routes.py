"""Routes of the animator web pages: a thin adapter that checks the key kept in
the session cookie exactly like the API (``api.deps``), calls the services and
renders French HTML.

Every page answers HTML: a missing key redirects to the sign-in page, a
territory the key does not cover is a 404 page (as one that does not exist),
a write with a ``portal`` key a 403 page. Forms work without JavaScript
(post, then redirect); htmx only polls the run status and loads the map's
company panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from babel.dates import format_datetime, get_timezone
from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.deps import UowDep, actor, client_address, get_redactor, get_territory_row
from api.problems import ProblemException, SafeJSONResponse
from symbiose.domain import FollowUpStatus, SynergyType
from symbiose.explain import format as fr
from symbiose.explain.issues import issue_fr
from symbiose.privacy import Redactor
from symbiose.report.data import DIRECTION_FR, PERIOD_FR, STATUS_FR, TYPE_FR, family, resource_label
from symbiose.services import pages
from symbiose.services.followup import InvalidFollowUp, TransitionRejected, record_consent, update_followup
from symbiose.services.imports import import_diagnostic
from symbiose.services.keys import (
    SESSION_SECONDS,
    Caller,
    end_session,
    resolve_api_key,
    resolve_session,
    session_token,
)
from symbiose.services.queries import (
    NotFound,
    get_run,
    get_synergy,
    indicators,
    list_flows,
    list_synergies,
    territory_map,
)
from symbiose.services.review import InvalidCorrection, correct, list_corrections, review_flows, search_codes
from symbiose.services.runs import create_run
from symbiose.services.territories import list_territories, territory_counts
from symbiose.store.orm import TerritoryRow

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
COOKIE = "symbiose_cle"
TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_ORIGIN = "https://tile.openstreetmap.org"
PAGE_SIZE = 25
POLL_SECONDS = 1
TIMEZONE = "Europe/Paris"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: {TILE_ORIGIN}; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STATUS_ACTIONS_FR = {status: STATUS_FR[status] for status in ("contacted", "studied", "implemented", "rejected")}
# a button names the status it moves to, in the words of the badges and of the dashboard

router = APIRouter(include_in_schema=False)


# --------------------------------------------------------------------------
# Errors of the pages: HTML, never problem+json
# --------------------------------------------------------------------------


class SignInRequired(Exception):
    """No valid key in the cookie: go to the sign-in page."""


class PageError(Exception):
    """An error shown as a French HTML page with its HTTP status."""

    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


def not_found(detail: str = "Cette page n'existe pas ou votre clé ne la couvre pas.") -> PageError:
    return PageError(404, "Page introuvable", detail)


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def _date(value: str | None) -> str:
    """``2026-11-25T01:54:00Z`` → ``25 novembre 2026 à 02:54`` (Paris time)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return format_datetime(moment, "d MMMM y 'à' HH:mm", tzinfo=get_timezone(TIMEZONE), locale="fr_FR")


def _day(value: str | None) -> str:
    """``2026-11-30`` → ``30 novembre 2026``."""
    from datetime import date

    from babel.dates import format_date

    return format_date(date.fromisoformat(value), "d MMMM y", locale="fr_FR") if value else ""


def _qty(value: float | None, unit: str | None) -> str:
    return fr.quantity(float(value or 0), str(unit or "").split("/")[0])


def _pct(value: float | None) -> str:
    return f"{fr.number(100 * float(value or 0))} %"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The jinja2 environment of the pages (autoescape always on)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update({
        "number": fr.number, "smart": fr.smart_number, "euros": fr.euros, "km": fr.km, "tco2": fr.tco2,
        "qty": _qty, "pct": _pct, "date": _date, "day": _day, "resource_label": resource_label,
        "family_label": lambda code: family(code)[1],
        "family_code": lambda code: family(code)[0],
        "direction_fr": lambda d: DIRECTION_FR.get(str(d), str(d)),
        "period_fr": lambda p: PERIOD_FR.get(str(p), str(p)),
        "issue_fr": issue_fr,
    })
    env.globals.update(
        status_labels=STATUS_FR, type_labels=TYPE_FR, status_actions=STATUS_ACTIONS_FR,
        statuses=[s.value for s in FollowUpStatus], types=[t.value for t in SynergyType],
    )
    return env


def render(request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    """A page (or an htmx fragment) rendered with the security headers."""
    def url(name: str, **params: Any) -> str:
        return str(request.url_for(name, **{k: str(v) for k, v in params.items()}).path)

    context.setdefault("viewer", None)
    context.setdefault("territory", None)
    html = environment().get_template(template).render(request=request, url=url, **context)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def redirect(request: Request, name: str, **params: Any) -> Response:
    """303 to a named page; for an htmx request, ``HX-Redirect`` instead."""
    target = str(request.url_for(name, **{k: str(v) for k, v in params.items()}).path)
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install_handlers(app: FastAPI) -> None:
    """HTML answers for the pages' own errors."""

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired) -> Response:
        target = str(request.url_for("sign_in_form").path)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method == "GET":
            target += "?suite=" + quote(here, safe="")
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        caller = getattr(request.state, "page_caller", None)
        return render(request, "erreur.html", exc.status, viewer=caller, title=exc.title, detail=exc.detail)


# --------------------------------------------------------------------------
# Who calls: the key of the cookie, checked like the API's
# --------------------------------------------------------------------------


def page_caller(request: Request, uow: UowDep) -> Caller:
    """The caller behind the session cookie; redirects to sign in when missing or revoked."""
    caller = resolve_session(uow, request.cookies.get(COOKIE))
    if caller is None:
        raise SignInRequired()
    request.state.page_caller = caller
    return caller


CallerPage = Annotated[Caller, Depends(page_caller)]


def same_origin(request: Request) -> None:
    """A form post must come from these pages: its ``Origin`` (or, from an older browser, its
    ``Referer``) must name this site. A post with neither is refused too; ``SameSite=Strict`` on the
    cookie is a second line, not the only one."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null" or urlsplit(source).netloc != request.headers.get("Host"):
        raise PageError(403, "Requête refusée", "Ce formulaire doit être envoyé depuis les pages de symbiose.")


def _secure_cookie(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.settings.cookie_secure


@dataclass(frozen=True, slots=True)
class Scope:
    """A page of one territory: who asks, the territory, what hides confidential companies."""

    caller: Caller
    territory: TerritoryRow
    redactor: Redactor | None


def territory_scope(code: str, uow: UowDep, caller: CallerPage) -> Scope:
    """The territory of the path within the key's scope (``api.deps.get_territory_row``), else a 404 page."""
    try:
        row = get_territory_row(uow, caller, code)
    except ProblemException as exc:
        raise not_found("Ce territoire n'existe pas ou votre clé ne le couvre pas.") from exc
    return Scope(caller, row, get_redactor(uow, caller, row))


ScopeDep = Annotated[Scope, Depends(territory_scope)]


def writer_scope(request: Request, scope: ScopeDep) -> Scope:
    """A territory page that writes: animators and admins only, from these pages only."""
    same_origin(request)
    if not scope.caller.can_write:
        raise PageError(403, "Accès en lecture seule", "Votre clé « portal » permet de consulter, pas de modifier.")
    return scope


WriterScope = Annotated[Scope, Depends(writer_scope)]


def _base(scope: Scope) -> dict[str, Any]:
    return {"viewer": scope.caller, "territory": scope.territory}


# --------------------------------------------------------------------------
# Sign in, sign out, home
# --------------------------------------------------------------------------


def _safe_next(value: str | None) -> str | None:
    """Only a path of this site (no scheme, no host) is followed after sign-in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


@router.get("/connexion", name="sign_in_form", response_class=HTMLResponse)
def sign_in_form(request: Request, suite: str | None = None) -> HTMLResponse:
    return render(request, "connexion.html", suite=_safe_next(suite) or "", error=None)


@router.post("/connexion", name="sign_in")
def sign_in(
    request: Request, uow: UowDep, cle: Annotated[str, Form()] = "", suite: Annotated[str, Form()] = "",
) -> Response:
    """Check the key like the API; the cookie (HttpOnly, SameSite=Strict) holds a signed, expiring session, not the key."""
    same_origin(request)
    limiter, client = request.app.state.auth_limiter, client_address(request)
    wait = limiter.retry_after(client)
    if wait is not None:
        return render(request, "connexion.html", 429, {"Retry-After": str(wait)}, suite=_safe_next(suite) or "",
                      error=f"Trop d'essais refusés depuis cette adresse : réessayez dans {wait} s.")
    key = cle.strip()
    caller = resolve_api_key(uow, key)
    if caller is None:
        limiter.failed(client)
        return render(request, "connexion.html", 401, suite=_safe_next(suite) or "",
                      error="Cette clé d'accès n'est pas reconnue (ou a été révoquée).")
    target = _safe_next(suite) or str(request.url_for("home").path)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, session_token(uow, caller), httponly=True, samesite="strict",
                        secure=_secure_cookie(request), path="/", max_age=SESSION_SECONDS)
    return response


@router.post("/deconnexion", name="sign_out")
def sign_out(request: Request, uow: UowDep) -> Response:
    """The session is revoked server-side: the old cookie, replayed, no longer signs anyone in."""
    same_origin(request)
    end_session(uow, request.cookies.get(COOKIE))
    response = RedirectResponse(str(request.url_for("sign_in_form").path), status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure_cookie(request))
    return response


@router.get("/", name="home", response_class=HTMLResponse)
def home(request: Request, uow: UowDep, caller: CallerPage) -> Response:
    """A key of one territory goes to its dashboard; an admin chooses among all."""
    if caller.role != "admin" and caller.territory is not None:
        return redirect(request, "dashboard", code=caller.territory)
    return render(request, "accueil.html", viewer=caller, territories=list_territories(uow))


# --------------------------------------------------------------------------
# Dashboard and runs
# --------------------------------------------------------------------------


@router.get("/territoires/{code}", name="dashboard", response_class=HTMLResponse)
def dashboard(request: Request, uow: UowDep, scope: ScopeDep) -> HTMLResponse:
    t = scope.territory
    return render(
        request, "tableau.html", **_base(scope), counts=territory_counts(uow, t), indicators=indicators(uow, t),
        run=pages.latest_run(uow, t), polling=False, poll_seconds=POLL_SECONDS,
    )


@router.get("/territoires/{code}/rapport.html", name="territory_report")
def territory_report(request: Request, uow: UowDep, scope: ScopeDep) -> Response:
    """The territory's French HTML report of its latest finished run, as a download (animators and admins:
    the report names every company, as the batch report does)."""
    from symbiose.report.data import build_report
    from symbiose.report.html import render_report
    from symbiose.services.reports import NoFinishedRun, latest_synergy_document, territory_report_input

    if not scope.caller.can_write:
        raise PageError(403, "Accès en lecture seule", "Le rapport nomme toutes les entreprises : il est réservé "
                        "aux clés d'animation.")
    try:
        document = latest_synergy_document(uow, scope.territory.code)
    except NoFinishedRun as exc:
        raise not_found("Ce territoire n'a pas encore de calcul terminé : lancez l'appariement.") from exc
    html = render_report(build_report(territory_report_input(uow, scope.territory.code, document)))
    name = f"{scope.territory.code}-rapport.html"
    return Response(html.encode("utf-8"), media_type="text/html; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store", "Content-Security-Policy": "sandbox allow-scripts",
    })


@router.post("/territoires/{code}/appariements", name="start_run")
def start_run(request: Request, uow: UowDep, scope: WriterScope) -> Response:
    """Queue matching through the app's worker; htmx gets the live status fragment."""
    run_id = create_run(uow, scope.territory.code, actor(scope.caller))
    request.app.state.worker.submit(run_id)
    if request.headers.get("HX-Request"):
        run = get_run(uow, scope.territory, run_id)
        return render(request, "_run_status.html", **_base(scope), run=run, polling=True,
                      poll_seconds=POLL_SECONDS)
    return redirect(request, "dashboard", code=scope.territory.code)


@router.get("/territoires/{code}/appariements/{run_id}/etat", name="run_status", response_class=HTMLResponse)
def run_status(request: Request, uow: UowDep, scope: ScopeDep, run_id: str, attente: str = "") -> Response:
    """The status fragment of a run; when a run being watched finishes, the page reloads its indicators."""
    try:
        run = get_run(uow, scope.territory, _int(run_id, 0, 2**31 - 1))
    except NotFound as exc:
        raise not_found("Ce calcul n'existe pas dans ce territoire.") from exc
    finished = run["status"] in ("done", "failed")
    headers = {"HX-Refresh": "true"} if attente and finished and request.headers.get("HX-Request") else None
    return render(request, "_run_status.html", headers=headers, **_base(scope), run=run, polling=not finished,
                  poll_seconds=POLL_SECONDS)


# --------------------------------------------------------------------------
# Map
# --------------------------------------------------------------------------


def _map_data(uow: UowDep, scope: Scope) -> dict[str, Any]:
    geojson = territory_map(uow, scope.territory, redactor=scope.redactor)
    return pages.map_collection(uow, scope.territory, geojson, redactor=scope.redactor)


@router.get("/territoires/{code}/carte", name="map_page", response_class=HTMLResponse)
def map_page(request: Request, uow: UowDep, scope: ScopeDep) -> HTMLResponse:
    data = _map_data(uow, scope)
    families = sorted(
        {(f["properties"]["family"], f["properties"]["family_label"]) for f in data["features"]
         if f["properties"]["kind"] in ("flow", "synergy")},
        key=lambda item: item[1],
    )
    companies = sorted(
        (f["properties"] for f in data["features"] if f["properties"]["kind"] == "company"),
        key=lambda p: str(p["name"]).casefold(),
    )
    return render(request, "carte.html", **_base(scope), data=data, families=families, companies=companies,
                  tile_url=TILE_URL, towns=pages.map_towns(data))


@router.get("/fond-de-carte/departements.geojson", name="basemap_departements")
def basemap_departements() -> Response:
    """The départements' outlines of the offline map background (public reference data, cached a day)."""
    from symbiose.report.basemap import DEPARTEMENTS

    return Response(DEPARTEMENTS.read_bytes(), media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})


@router.get("/territoires/{code}/carte.geojson", name="map_geojson")
def map_geojson(uow: UowDep, scope: ScopeDep) -> SafeJSONResponse:
    """The map's data: companies, flows and synergies (GeoJSON), as the caller may see them."""
    return SafeJSONResponse(_map_data(uow, scope), media_type="application/geo+json",
                            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/territoires/{code}/entreprises/{company_id:path}", name="company_panel", response_class=HTMLResponse)
def company_panel(request: Request, uow: UowDep, scope: ScopeDep, company_id: str, ok: str = "") -> HTMLResponse:
    """A company's flows and synergies: the map's side panel (also a page of its own, where an animator
    sees its contact and edits it and its flows)."""
    t, redactor = scope.territory, scope.redactor
    company = pages.company_card(uow, t, company_id, redactor=redactor)
    if company is None:
        raise not_found("Cette entreprise n'existe pas dans ce territoire.")
    flows = list_flows(uow, t, company_id=company_id, size=500, redactor=redactor).items
    synergies = list_synergies(uow, t, company_id=company_id, size=500, redactor=redactor).items
    names = pages.participant_names(uow, t, synergies, redactor=redactor)
    fragment = bool(request.headers.get("HX-Request"))
    contact = None
    if not fragment and scope.caller.can_write:
        from symbiose.services.edits import company_form

        contact = company_form(_company_row(uow, scope, company_id))
    message = {"entreprise": "L'entreprise a été enregistrée.", "flux": "Le flux a été enregistré."}.get(ok)
    return render(request, "_company_panel.html" if fragment else "entreprise.html", **_base(scope),
                  company=company, flows=flows, synergies=synergies, names=names, contact=contact, message=message)


# --------------------------------------------------------------------------
# Synergies and follow-up
# --------------------------------------------------------------------------


def _int(value: str, low: int, high: int) -> int:
    """A number from a query or path string, clamped into ``[low, high]`` (``low`` when unreadable)."""
    try:
        return max(low, min(int(value), high))
    except ValueError:
        return low


def _float_or_none(value: str | None) -> float | None:
    try:
        number = float((value or "").replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) and 0 <= number <= 1 else None


def _list_filters(type: str, statut: str, famille: str, score: str) -> dict[str, str]:
    """The synergy list's filters from the query, each kept only when valid."""
    return {
        "type": type if type in TYPE_FR else "",
        "statut": statut if statut in STATUS_FR else "",
        "famille": famille if famille and famille.replace("_", "").isalnum() else "",
        "score": score if _float_or_none(score) is not None else "",
    }


def _listing(uow: UowDep, scope: Scope, filters: dict[str, str], *, page: int, size: int):
    return list_synergies(
        uow, scope.territory, type=filters["type"] or None, status=filters["statut"] or None,
        resource=filters["famille"] or None, min_score=_float_or_none(filters["score"]), page=page, size=size,
        redactor=scope.redactor,
    )


@router.get("/territoires/{code}/synergies", name="synergy_list", response_class=HTMLResponse)
def synergy_list(
    request: Request, uow: UowDep, scope: ScopeDep, type: str = "", statut: str = "", famille: str = "",
    score: str = "", page: str = "1",
) -> HTMLResponse:
    t = scope.territory
    filters = _list_filters(type, statut, famille, score)
    listing = _listing(uow, scope, filters, page=_int(page, 1, 1_000_000), size=PAGE_SIZE)
    all_families = sorted(
        {family(s["resource"]) for s in list_synergies(uow, t, size=500, redactor=scope.redactor).items},
        key=lambda item: item[1],
    )
    pages_count = max(1, math.ceil(listing.total / PAGE_SIZE))
    return render(
        request, "synergies.html", **_base(scope), listing=listing, filters=filters, families=all_families,
        pages_count=pages_count, names=pages.participant_names(uow, t, listing.items, redactor=scope.redactor),
    )


@router.get("/territoires/{code}/synergies.{fmt}", name="synergy_export")
def synergy_export(
    uow: UowDep, scope: ScopeDep, fmt: str, type: str = "", statut: str = "", famille: str = "", score: str = "",
) -> Response:
    """The filtered synergy list, every page of it, as CSV (French spreadsheet) or XLSX."""
    import io

    from symbiose.report.xlsx import listing_csv, listing_rows, listing_xlsx

    if fmt not in ("csv", "xlsx"):
        raise not_found()
    filters = _list_filters(type, statut, famille, score)
    first = _listing(uow, scope, filters, page=1, size=500)
    items = list(first.items)
    for number in range(2, math.ceil(first.total / 500) + 1):
        items += _listing(uow, scope, filters, page=number, size=500).items
    rows = listing_rows(items, pages.participant_names(uow, scope.territory, items, redactor=scope.redactor))
    name = f"{scope.territory.code}-synergies.{fmt}"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(listing_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    buffer = io.BytesIO()
    listing_xlsx(rows, buffer)
    from api.routes.template import XLSX

    return Response(buffer.getvalue(), media_type=XLSX, headers=headers)


def _synergy_page(request: Request, uow: UowDep, scope: Scope, synergy_id: str, *, status: int = 200,
                  error: str | None = None, message: str | None = None) -> HTMLResponse:
    try:
        synergy = get_synergy(uow, scope.territory, synergy_id, redactor=scope.redactor)
    except NotFound as exc:
        raise not_found("Cette synergie n'existe pas dans le dernier calcul de ce territoire.") from exc
    names = pages.participant_names(uow, scope.territory, [synergy], redactor=scope.redactor)
    confidential = pages.confidential_parties(uow, scope.territory, synergy) if scope.caller.can_write else set()
    return render(
        request, "synergie.html", status, **_base(scope), synergy=synergy, names=names, confidential=confidential,
        next_statuses=pages.next_statuses(synergy["status"]), error=error, message=message,
    )


@router.get("/territoires/{code}/synergies/{synergy_id}", name="synergy_detail", response_class=HTMLResponse)
def synergy_detail(request: Request, uow: UowDep, scope: ScopeDep, synergy_id: str, ok: str = "") -> HTMLResponse:
    message = {"suivi": "Le suivi a été enregistré.", "accord": "L'accord a été enregistré."}.get(ok)
    return _synergy_page(request, uow, scope, synergy_id, message=message)


@router.post("/territoires/{code}/synergies/{synergy_id}/suivi", name="synergy_followup")
def synergy_followup(
    request: Request, uow: UowDep, scope: WriterScope, synergy_id: str,
    statut: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
) -> Response:
    """Move the follow-up (``followup.update_followup``); a refused move shows the page again with why."""
    if statut and statut not in STATUS_FR:
        return _synergy_page(request, uow, scope, synergy_id, status=422, error="Statut inconnu.")
    try:
        update_followup(uow, scope.territory.code, synergy_id, status=statut or None, note=note[:2000] or None,
                        actor=actor(scope.caller))
    except NotFound as exc:
        raise not_found("Cette synergie n'existe pas dans le dernier calcul de ce territoire.") from exc
    except TransitionRejected as exc:
        uow.rollback()
        return _synergy_page(request, uow, scope, synergy_id, status=409, error=f"Changement refusé : {exc}.")
    except InvalidFollowUp as exc:
        uow.rollback()
        reason = ("Pour abandonner une synergie, indiquez la raison." if exc.field == "note" else str(exc))
        return _synergy_page(request, uow, scope, synergy_id, status=422, error=reason)
    target = str(request.url_for("synergy_detail", code=scope.territory.code, synergy_id=synergy_id).path)
    return RedirectResponse(target + "?ok=suivi", status_code=303)


@router.post("/territoires/{code}/synergies/{synergy_id}/accord", name="synergy_consent")
def synergy_consent(
    request: Request, uow: UowDep, scope: WriterScope, synergy_id: str,
    entreprise: Annotated[str, Form()] = "",
) -> Response:
    """Record that a party agrees to be named (``followup.record_consent``)."""
    try:
        record_consent(uow, scope.territory.code, synergy_id, entreprise)
    except NotFound as exc:
        raise not_found("Cette synergie n'existe pas dans le dernier calcul de ce territoire.") from exc
    except InvalidFollowUp:
        return _synergy_page(request, uow, scope, synergy_id, status=422,
                             error="Cette entreprise ne participe pas à cette synergie.")
    target = str(request.url_for("synergy_detail", code=scope.territory.code, synergy_id=synergy_id).path)
    return RedirectResponse(target + "?ok=accord", status_code=303)


# --------------------------------------------------------------------------
# Diagnostic upload
# --------------------------------------------------------------------------


@router.get("/territoires/{code}/diagnostic", name="diagnostic_form", response_class=HTMLResponse)
def diagnostic_form(request: Request, scope: ScopeDep) -> HTMLResponse:
    if not scope.caller.can_write:
        raise PageError(403, "Accès en lecture seule", "Votre clé « portal » permet de consulter, pas d'importer.")
    return render(request, "diagnostic.html", **_base(scope), report=None, filename=None, error=None)


@router.get("/modele-diagnostic.xlsx", name="page_diagnostic_template")
def diagnostic_template(_caller: CallerPage) -> Response:
    """The French XLSX template to fill in (``report.template``), for a signed-in animator."""
    from api.routes.template import FILENAME, XLSX
    from symbiose.report.template import template_bytes

    return Response(template_bytes(), media_type=XLSX, headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{FILENAME}"'})


@router.post("/territoires/{code}/diagnostic", name="diagnostic_upload", response_class=HTMLResponse)
def diagnostic_upload(
    request: Request, uow: UowDep, scope: WriterScope,
    fichier: Annotated[UploadFile | None, File()] = None, verifier: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Import a diagnostic (``imports.import_diagnostic``): the report, or every row error and nothing written."""
    settings = request.app.state.settings
    if fichier is None or not fichier.filename:
        return render(request, "diagnostic.html", 422, **_base(scope), report=None, filename=None,
                      error="Choisissez un fichier CSV ou XLSX.")
    data = fichier.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        return render(request, "diagnostic.html", 413, **_base(scope), report=None, filename=fichier.filename,
                      error=f"Le fichier dépasse la taille autorisée ({fr.number(settings.max_upload_bytes)} octets).")
    name = "".join(ch for ch in fichier.filename if ch.isprintable())[-200:] or None
    report = import_diagnostic(
        uow, data, territory=scope.territory.code, filename=name, dry_run=bool(verifier),
        actor=actor(scope.caller), create_territory=False, single_territory=scope.caller.role != "admin",
    )
    return render(request, "diagnostic.html", 422 if report.errors else 200, **_base(scope),
                  report=report.to_dict(), filename=name, error=None)


# --------------------------------------------------------------------------
# Review of classifications (animators)
# --------------------------------------------------------------------------


def _reviewer(scope: Scope) -> Scope:
    if not scope.caller.can_write:
        raise PageError(403, "Accès réservé aux animateurs",
                        "La revue des classifications est réservée aux animateurs ; votre clé « portal » permet de consulter.")
    return scope


def _review_page(request: Request, uow: UowDep, scope: Scope, *, page: int = 1, status: int = 200,
                 message: str | None = None, error: str | None = None,
                 search: dict[str, Any] | None = None) -> HTMLResponse:
    t = scope.territory
    listing = review_flows(uow, t, page=page, size=PAGE_SIZE)
    if listing.total and not listing.items and page > 1:  # past the last page after corrections
        page = max(1, math.ceil(listing.total / PAGE_SIZE))
        listing = review_flows(uow, t, page=page, size=PAGE_SIZE)
    return render(
        request, "revue.html", status, **_base(scope), listing=listing, corrections=list_corrections(uow, t, size=20),
        pages_count=max(1, math.ceil(listing.total / PAGE_SIZE)), message=message, error=error, search=search,
    )


@router.get("/territoires/{code}/revue", name="review_page", response_class=HTMLResponse)
def review_page(request: Request, uow: UowDep, scope: ScopeDep, page: str = "1", ok: str = "") -> HTMLResponse:
    """Flows classified ``unknown`` or with a low confidence, each with its guesses and a code picker."""
    _reviewer(scope)
    message = None
    if ok.isdigit():
        message = f"Correction enregistrée : {ok} flux mis à jour."
    return _review_page(request, uow, scope, page=_int(page, 1, 1_000_000), message=message)


@router.get("/territoires/{code}/revue/codes", name="review_codes", response_class=HTMLResponse)
def review_codes(request: Request, scope: ScopeDep, recherche: str = "") -> HTMLResponse:
    """The code picker's choices for a French query (an htmx fragment)."""
    _reviewer(scope)
    query = recherche.strip()[:200]
    return render(request, "_codes.html", codes=search_codes(query, limit=12) if query else [], query=query)


@router.post("/territoires/{code}/revue", name="review_correct")
def review_correct(
    request: Request, uow: UowDep, scope: WriterScope,
    flux: Annotated[str, Form()] = "", choix: Annotated[str, Form()] = "", recherche: Annotated[str, Form()] = "",
    chercher: Annotated[str, Form()] = "", page: Annotated[str, Form()] = "1",
) -> Response:
    """Record a correction for a flow (``review.correct``); without a chosen code, search the taxonomy."""
    query = recherche.strip()[:200]
    number = _int(page, 1, 1_000_000)
    chosen = choix.strip()
    if (chercher or not chosen) and query:
        from symbiose.taxonomy import get_taxonomy

        if not chercher and query.lower() in get_taxonomy().resources:
            chosen = query.lower()
        else:
            search = {"flow_id": flux, "query": query, "codes": search_codes(query, limit=12)}
            return _review_page(request, uow, scope, page=number, search=search)
    if not chosen:
        return _review_page(request, uow, scope, page=number, status=422,
                            error="Choisissez une proposition ou cherchez un code avant d'enregistrer.")
    try:
        done = correct(uow, scope.territory, code=chosen, flow_id=flux[:64], actor=actor(scope.caller))
    except NotFound as exc:
        raise not_found("Ce flux n'existe pas dans ce territoire.") from exc
    except InvalidCorrection as exc:
        uow.rollback()
        return _review_page(request, uow, scope, page=number, status=422, error=str(exc))
    target = str(request.url_for("review_page", code=scope.territory.code).path)
    return RedirectResponse(f"{target}?page={number}&ok={len(done.flows_updated)}", status_code=303)


# --------------------------------------------------------------------------
# Companies and flows: list, create, edit, re-classify (services.edits)
# --------------------------------------------------------------------------


@router.get("/territoires/{code}/entreprises", name="company_list", response_class=HTMLResponse)
def company_list(request: Request, uow: UowDep, scope: ScopeDep, q: str = "", page: str = "1") -> HTMLResponse:
    """The territory's companies (search by name), with their commune and number of flows."""
    from symbiose.services.queries import list_companies

    listing = list_companies(uow, scope.territory, q=q[:200] or None, page=_int(page, 1, 1_000_000), size=50,
                             redactor=scope.redactor)
    return render(request, "entreprises.html", **_base(scope), listing=listing, q=q[:200],
                  pages_count=max(1, math.ceil(listing.total / 50)))


def _company_row(uow: UowDep, scope: Scope, company_id: str):
    from sqlalchemy import select

    from symbiose.store.orm import CompanyRow

    return uow.session.scalar(select(CompanyRow).where(CompanyRow.territory_id == scope.territory.id,
                                                      CompanyRow.external_id == company_id))


def _company_editor(request: Request, scope: Scope, form: dict[str, str], *, new: bool,
                    errors: dict[str, str] | None = None, history: list | None = None) -> HTMLResponse:
    from symbiose.services.edits import LABELS_FR

    return render(request, "entreprise_edition.html", 422 if errors else 200, **_base(scope), form=form, new=new,
                  errors=errors or {}, labels=LABELS_FR, history=history or [])


@router.get("/territoires/{code}/entreprise-modifier", name="company_edit", response_class=HTMLResponse)
def company_edit(request: Request, uow: UowDep, scope: WriterScope, id: str = "") -> HTMLResponse:
    """The form of a company (a new one when ``id`` is empty), with the history of its changes."""
    from symbiose.services.edits import company_form, history

    if not id:
        return _company_editor(request, scope, company_form(None), new=True)
    row = _company_row(uow, scope, id)
    if row is None:
        raise not_found("Cette entreprise n'existe pas dans ce territoire.")
    return _company_editor(request, scope, company_form(row), new=False,
                           history=history(uow, scope.territory, "company", id))


@router.post("/territoires/{code}/entreprise-modifier", name="company_save")
async def company_save(request: Request, uow: UowDep, scope: WriterScope, id: str = "") -> Response:
    """Save a company's form (``edits.save_company``): the import's checks, errors shown at their field."""
    from symbiose.services.edits import CONTACT_FIELDS, COMPANY_COLUMNS, save_company

    data = await request.form()
    form = {k: str(data.get(k, ""))[:4000] for k in ("company_id", *COMPANY_COLUMNS, *CONTACT_FIELDS)}
    if "confidential" not in data:
        form["confidential"] = "non"
    result = save_company(uow, scope.territory, form, existing=id or None, actor=actor(scope.caller))
    if not result.ok:
        uow.rollback()
        return _company_editor(request, scope, {**form, "company_id": id or form["company_id"]}, new=not id,
                               errors=result.errors)
    target = str(request.url_for("company_panel", code=scope.territory.code, company_id=result.key).path)
    return RedirectResponse(target + "?ok=entreprise", status_code=303)


def _flow_editor(request: Request, scope: Scope, company: Any, form: dict[str, str], *, uid: str | None,
                 errors: dict[str, str] | None = None, history: list | None = None, row: Any = None) -> HTMLResponse:
    from symbiose.services.edits import LABELS_FR
    from symbiose.taxonomy import get_taxonomy

    codes = sorted(((code, r.label_fr) for code, r in get_taxonomy().resources.items()), key=lambda c: c[1].casefold())
    return render(request, "flux_edition.html", 422 if errors else 200, **_base(scope), company=company, form=form,
                  uid=uid, errors=errors or {}, labels=LABELS_FR, history=history or [], codes=codes, row=row)


@router.get("/territoires/{code}/flux-modifier", name="flow_edit", response_class=HTMLResponse)
def flow_edit(request: Request, uow: UowDep, scope: WriterScope, entreprise: str = "", id: str = "") -> HTMLResponse:
    """The form of a flow of a company (a new one when ``id`` is empty): edit it, or re-classify it."""
    from sqlalchemy import select

    from symbiose.services.edits import flow_form, history
    from symbiose.store.orm import FlowRow

    company = _company_row(uow, scope, entreprise)
    if company is None:
        raise not_found("Cette entreprise n'existe pas dans ce territoire.")
    row = None
    if id:
        row = uow.session.scalar(select(FlowRow).where(FlowRow.territory_id == scope.territory.id, FlowRow.uid == id,
                                                       FlowRow.company_id == company.id))
        if row is None:
            raise not_found("Ce flux n'existe pas pour cette entreprise.")
    return _flow_editor(request, scope, company, flow_form(row), uid=id or None, row=row,
                        history=history(uow, scope.territory, "flow", id) if id else [])


@router.post("/territoires/{code}/flux-modifier", name="flow_save")
async def flow_save(request: Request, uow: UowDep, scope: WriterScope, entreprise: str = "", id: str = "") -> Response:
    """Save a flow's form (``edits.save_flow``), or re-classify it when the form carries ``reclasser``."""
    from symbiose.services.edits import FLOW_COLUMNS, flow_form, reclassify_flow, save_flow

    company = _company_row(uow, scope, entreprise)
    if company is None:
        raise not_found("Cette entreprise n'existe pas dans ce territoire.")
    data = await request.form()
    who = actor(scope.caller)
    if data.get("reclasser") and id:
        result = reclassify_flow(uow, scope.territory, id, str(data.get("code", ""))[:128], actor=who)
        form = None
    else:
        form = {k: str(data.get(k, ""))[:4000] for k in FLOW_COLUMNS}
        if "hazardous" not in data:
            form["hazardous"] = "non"
        result = save_flow(uow, scope.territory, entreprise, form, existing=id or None, actor=who)
    if not result.ok:
        uow.rollback()
        if form is None:
            from sqlalchemy import select

            from symbiose.store.orm import FlowRow

            row = uow.session.scalar(select(FlowRow).where(FlowRow.territory_id == scope.territory.id, FlowRow.uid == id))
            form = flow_form(row)
        return _flow_editor(request, scope, company, form, uid=id or None, errors=result.errors)
    target = str(request.url_for("company_panel", code=scope.territory.code, company_id=entreprise).path)
    return RedirectResponse(target + "?ok=flux", status_code=303)
