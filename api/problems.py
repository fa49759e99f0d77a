"""Errors as ``application/problem+json`` (RFC 9457), for every error the API
can answer: raised problems, HTTP errors of the router (404 unknown route,
405, 413), request validation (422) and, as a last resort, anything
unexpected (a 500 that shows no traceback)."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from symbiose.explain.validation import french_message, shown
from symbiose.services.followup import InvalidFollowUp, TransitionRejected
from symbiose.services.queries import NotFound

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:symbiose:problem:"
log = logging.getLogger("symbiose.api")

TITLES = {
    400: "Requête mal formée",
    401: "Clé d'accès manquante ou invalide",
    403: "Accès en lecture seule",
    404: "Ressource introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Contenu trop volumineux",
    415: "Type de contenu non pris en charge",
    422: "Données invalides",
    429: "Trop de tentatives",
    500: "Erreur interne",
    503: "Service indisponible",
}


class ProblemError(BaseModel):
    """One problem in the request: a row and column of a diagnostic, or a request field."""

    row: int | None = None
    column: str | None = None
    value: str | None = None
    message: str
    code: str | None = None  # message code of a diagnostic's problem (symbiose/explain/issues.py)


class Problem(BaseModel):
    """An error (RFC 9457)."""

    type: str = Field(description="URI of the problem type; about:blank for a plain HTTP status")
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = Field(
        default=None, description="every row error of a rejected diagnostic, or every invalid field"
    )


class ProblemException(Exception):
    """Raise to answer with a problem."""

    def __init__(
        self, status: int, detail: str, *, kind: str | None = None, title: str | None = None,
        errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title
        self.errors = errors
        self.headers = headers
        self.extra = extra or {}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class SafeJSONResponse(JSONResponse):
    """JSON where a non-finite number becomes ``null`` and a lone surrogate ``?`` instead of failing the response."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except ValueError:
            return super().render(_plain(content))


def problem_response(
    status: int, detail: str, *, kind: str | None = None, title: str | None = None,
    errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + kind if kind else "about:blank",
        "title": title or TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    return SafeJSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``{column, value, message}`` (column: where, e.g. ``query.size``), the
    message in French by error type (``explain.validation``), the value as sent (never ``b'…'``);
    ``row`` only for a diagnostic's rows, so never here."""
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        value = e.get("input")
        shown_value = None if isinstance(value, dict) and not value else shown(value)
        out.append({"column": loc or None, "value": shown_value, "message": french_message(e)})
    return out


def _status_detail(status: int, detail: Any) -> str:
    if isinstance(detail, str) and detail and detail != HTTPStatus(status).phrase:
        return detail
    return {
        404: "Aucune ressource à cette adresse.",
        405: "Cette méthode n'est pas disponible à cette adresse.",
        413: "Le corps de la requête dépasse la taille autorisée.",
        400: "Le corps de la requête ne peut pas être lu.",
    }.get(status, TITLES.get(status, HTTPStatus(status).phrase))


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the app's routes answer at ``path`` (all routes whose path matches, sorted)."""
    from fastapi.routing import iter_route_contexts

    from starlette.routing import compile_path

    methods: set[str] = set()
    for rc in iter_route_contexts(app.routes):
        if rc.methods and compile_path(rc.path)[0].match(path):
            methods |= set(rc.methods)
    return sorted(methods - {"HEAD"})


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``."""

    @app.exception_handler(ProblemException)
    async def _problem(_request: Request, exc: ProblemException) -> JSONResponse:
        return problem_response(exc.status, exc.detail, kind=exc.kind, title=exc.title, errors=exc.errors,
                                headers=exc.headers, extra=exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        if status == 400 and exc.detail == "There was an error parsing the body":
            detail = "Le corps de la requête ne peut pas être lu (multipart ou formulaire mal formé)."
        else:
            detail = _status_detail(status, exc.detail)
        headers = dict(getattr(exc, "headers", None) or {})
        if status == 405:  # every method this path answers, not only those of the first route that matched
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path)) or headers.get("Allow", "")
        return problem_response(status, detail, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(422, "La requête contient des valeurs invalides.", kind="invalid-request",
                                errors=validation_errors(exc))

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(404, f"Introuvable dans ce territoire : {exc}.", kind="not-found")

    @app.exception_handler(TransitionRejected)
    async def _transition(_request: Request, exc: TransitionRejected) -> JSONResponse:
        return problem_response(409, f"Changement de statut refusé : {exc}.", kind="invalid-transition",
                                extra={"current": exc.current.value, "requested": exc.requested.value})

    @app.exception_handler(InvalidFollowUp)
    async def _invalid(_request: Request, exc: InvalidFollowUp) -> JSONResponse:
        return problem_response(422, str(exc), kind="invalid-request",
                                errors=[{"row": None, "column": exc.field, "value": exc.value, "message": str(exc)}])

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        log.warning("value refused by the database: %s", exc.orig)
        return problem_response(422, "Une valeur de la requête est refusée par la base de données.", kind="invalid-value")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem_response(500, "Erreur inattendue ; elle a été enregistrée dans le journal du serveur.")


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem statuses (media type fixed by :func:`problem_openapi`)."""
    return {s: {"model": Problem, "description": TITLES.get(s, HTTPStatus(s).phrase)} for s in statuses}


def problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare every 4xx/5xx response of the OpenAPI document as ``application/problem+json``."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if str(status)[0] in "45" and response.get("content"):
                    media = next(iter(response["content"].values()))
                    response["content"] = {PROBLEM_MEDIA_TYPE: media}
    return schema
