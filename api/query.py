"""Unknown query parameters are refused (422), not silently ignored: a
client that writes ``?limit=2`` for ``?size=2`` learns it at once."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def _known(route: APIRoute) -> frozenset[str]:
    """The query parameters ``route`` declares, its dependencies' included (by their alias)."""
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(p.alias for p in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


def reject_unknown_query(request: Request) -> None:
    """Dependency of the API router: 422 naming each query parameter the operation does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _known(route)
    unknown = [key for key in request.query_params if key not in known]
    if unknown:
        raise RequestValidationError([
            {"type": "query_unknown", "loc": ("query", key), "input": request.query_params.get(key),
             "msg": "unknown query parameter", "ctx": {"known": ", ".join(sorted(known)) or "aucun"}}
            for key in dict.fromkeys(unknown)
        ])
