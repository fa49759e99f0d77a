"""The animator web pages: server-rendered French pages (jinja2, htmx, Leaflet)
over the same services as the HTTP API, signed in with an API key kept in
an HttpOnly cookie.

``mount(app)`` adds the pages, their error pages and the ``/static`` files
(Leaflet, htmx, Swagger UI and ReDoc are vendored, no CDN), and the API
documentation at ``/docs`` and ``/redoc``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web.prediag_routes import router as prediag_router
from api.web.docs import install_docs
from api.web.routes import STATIC_DIR, install_handlers, router


def mount(app: FastAPI) -> None:
    """Serve the web pages and ``/static`` from ``app``."""
    app.include_router(router)
    app.include_router(prediag_router)  # the pre-diagnostic's visit list and visit form
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_handlers(app)
    install_docs(app)  # /docs and /redoc from the vendored Swagger UI and ReDoc


__all__ = ["mount", "router"]
