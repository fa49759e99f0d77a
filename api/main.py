"""The FastAPI application: ``create_app()`` (``symbiose serve`` runs
``uvicorn api.main:create_app --factory``).

At start-up the database is migrated, runs a previous server left
``queued``/``running`` are marked ``failed``, and the run worker starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import symbiose
from api import problems, web
from api.cache import BodyCache
from api.deps import FailedAuthLimiter
from api.problems import ProblemException, problem_response, responses
from api.query import reject_unknown_query
from api.routes import ROUTERS
from api.schemas import Health
from api.worker import RunWorker
from symbiose.services.runs import fail_interrupted_runs
from symbiose.settings import Settings, get_settings
from symbiose.store import UnitOfWork, get_engine

API_PREFIX = "/api/v1"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the uploaded file


class _BodyTooLarge(ProblemException):
    def __init__(self, limit: int):
        super().__init__(413, f"Le corps de la requête dépasse la taille autorisée ({limit} octets).", kind="body-too-large")


class BodyLimitMiddleware:
    """413 problem for a request body above ``max_bytes``: at once from its
    Content-Length, or as soon as the bytes received pass the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False
        overflow = False

        async def limited_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    overflow = True
                    raise _BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if overflow:  # the body parser turned our error into a 400: answer the 413 instead
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(scope, receive, send)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        exc = _BodyTooLarge(self.max_bytes)
        response = problem_response(413, exc.detail, kind=exc.kind, headers={"Connection": "close"})
        await response(scope, receive, send)


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", operation_id="health", summary="Health check", response_model=Health, responses=responses(503))
    def health(request: Request) -> dict[str, str]:
        """Liveness and database check (no key needed); 503 when the database does not answer."""
        try:
            with UnitOfWork(request.app.state.database_url) as uow:
                uow.session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any database failure is a 503
            raise ProblemException(503, "La base de données ne répond pas.", kind="database-unavailable") from exc
        return {"status": "ok", "database": "ok", "version": symbiose.__version__}

    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    """The HTTP API of ``http-api.md`` on the database of ``settings`` (default: the environment)."""
    settings = settings or get_settings()
    url = settings.resolved_database_url()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        get_engine(url)  # migrates a new database
        with UnitOfWork(url) as uow:
            fail_interrupted_runs(uow)
        app.state.worker = RunWorker(url, settings.run_workers)
        try:
            yield
        finally:
            app.state.worker.shutdown(wait=False)

    app = FastAPI(
        title="symbiose",
        version=symbiose.__version__,
        summary="Écologie industrielle et territoriale : diagnostics de flux, synergies, suivi.",
        description="HTTP API v1 of symbiose (`http-api.md`). Every `/api/v1` call needs an API key "
        "(`Authorization: Bearer KEY` or `X-API-Key: KEY`); errors are `application/problem+json`.",
        lifespan=lifespan,
        default_response_class=problems.SafeJSONResponse,
        openapi_url="/openapi.json",
        docs_url=None,  # /docs and /redoc: api.web.docs, from vendored files
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database_url = url
    app.state.body_cache = BodyCache()  # rendered listings, keyed by their data's version
    app.state.auth_limiter = FailedAuthLimiter(settings.auth_failures_per_minute)
    problems.install(app)

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes + MULTIPART_OVERHEAD)
    app.add_middleware(GZipMiddleware, minimum_size=1000)  # listings and maps compress ~10x
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type"])
    app.include_router(_health_router())
    v1 = APIRouter(prefix=API_PREFIX, responses=responses(400, 401, 404, 413, 422, 429),
                   dependencies=[Depends(reject_unknown_query)])  # ?limit=2 is a 422, not 50 items
    for router in ROUTERS:
        v1.include_router(router)
    app.include_router(v1)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = problems.problem_openapi(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    web.mount(app)  # the animator web pages (api/web), outside /api/v1 and the OpenAPI
    return app
