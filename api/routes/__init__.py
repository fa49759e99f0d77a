"""One APIRouter per resource, mounted under ``/api/v1`` by :mod:`api.main`."""

from api.routes import companies, diagnostics, flows, indicators, map, runs, synergies, template, territories

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
)

__all__ = ["ROUTERS"]
