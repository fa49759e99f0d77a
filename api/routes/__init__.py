"""One APIRouter per resource, mounted under ``/api/v1`` by :mod:`api.main`."""

from api.routes import (
    apikeys,
    companies,
    diagnostics,
    flows,
    indicators,
    map,
    prediagnostics,
    regions,
    review,
    runs,
    synergies,
    template,
    territories,
)

ROUTERS = (
    territories.router,
    diagnostics.router,
    companies.router,
    flows.router,
    runs.router,
    synergies.router,
    indicators.router,
    map.router,
    template.router,
    review.router,
    review.taxonomy_router,
    prediagnostics.router,
    regions.router,
    apikeys.router,
)

__all__ = ["ROUTERS"]
