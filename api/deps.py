"""Request dependencies: a unit of work, the caller behind the API key, the
territory of the path (scope enforced here, and only here) and the write
and admin guards."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from sqlalchemy import select

from api.problems import ProblemException
from symbiose.privacy import Redactor, load_redactor
from symbiose.services.keys import Caller, resolve_api_key
from symbiose.services.territories import CODE_PATTERN
from symbiose.store import UnitOfWork
from symbiose.store.orm import TerritoryRow

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY (made with `symbiose apikey create`)")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the same key in an X-API-Key header")


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    """One unit of work per request, rolled back unless a service commits."""
    with UnitOfWork(request.app.state.database_url) as uow:
        yield uow


UowDep = Annotated[UnitOfWork, Depends(get_uow)]


CALLER_TTL_S = 10.0  # a valid key is looked up again after this long (a revoked key stops working within it)
_callers: dict[tuple[str, str], tuple[float, Caller]] = {}


def _resolve(uow: UnitOfWork, key: str | None) -> Caller | None:
    """:func:`resolve_api_key`, remembering valid keys (by their hash) for ``CALLER_TTL_S``."""
    if not key:
        return None
    cache_key = (uow.url, hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest())
    now = time.monotonic()
    hit = _callers.get(cache_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    caller = resolve_api_key(uow, key)
    if caller is not None:
        if len(_callers) > 10_000:
            _callers.clear()
        _callers[cache_key] = (now + CALLER_TTL_S, caller)
    return caller


def get_caller(
    uow: UowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key_header)],
) -> Caller:
    """The caller of a key given as ``Authorization: Bearer`` or ``X-API-Key``; 401 otherwise."""
    key = credentials.credentials if credentials is not None else header_key
    caller = _resolve(uow, key.strip() if key else None)
    if caller is None:
        raise ProblemException(
            401, "Donnez une clé d'accès valide : « Authorization: Bearer CLÉ » ou « X-API-Key: CLÉ ».",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]

CodePath = Annotated[str, Path(description="territory code")]


def get_territory_row(uow: UowDep, caller: CallerDep, code: CodePath) -> TerritoryRow:
    """The territory of the path; one the key does not cover answers 404, exactly like a missing one."""
    row = None
    if CODE_PATTERN.fullmatch(code) and caller.can_see(code):
        row = uow.session.scalar(select(TerritoryRow).where(TerritoryRow.code == code))
    if row is None:
        raise ProblemException(404, "Territoire introuvable.", kind="territory-not-found")
    return row


TerritoryDep = Annotated[TerritoryRow, Depends(get_territory_row)]


def require_writer(caller: CallerDep) -> Caller:
    """Animators and admins write; a portal key is read-only (403)."""
    if not caller.can_write:
        raise ProblemException(403, "Une clé « portal » est en lecture seule.", kind="read-only-key")
    return caller


WriterDep = Annotated[Caller, Depends(require_writer)]


def require_admin(caller: CallerDep) -> Caller:
    if caller.role != "admin":
        raise ProblemException(403, "Seule une clé « admin » peut créer un territoire.", kind="admin-only",
                               title="Accès réservé aux administrateurs")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


def get_redactor(uow: UowDep, caller: CallerDep, territory: TerritoryDep) -> Redactor | None:
    """For a portal key, what hides the territory's confidential companies; None for others."""
    if caller.role != "portal":
        return None
    return load_redactor(uow, territory.id, territory.code)


RedactorDep = Annotated[Redactor | None, Depends(get_redactor)]


def actor(caller: Caller) -> str:
    """How a caller is recorded in history: its role and key number."""
    return f"{caller.role}:{caller.key_id}"
