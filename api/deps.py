"""Request dependencies: a unit of work, the caller behind the API key, the
territory of the path (scope enforced here, and only here) and the write
and admin guards."""

from __future__ import annotations

import threading
import time
from collections import deque
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


class FailedAuthLimiter:
    """At most ``limit`` failed authentications per client address in ``window_s`` seconds; past that
    the client gets 429 (with ``Retry-After``) before its key is even looked at."""

    def __init__(self, limit: int, window_s: float = 60.0):
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds to wait when ``client`` is over the limit, else None."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) >= self.limit:
                return max(1, int(times[0] + self.window_s - now) + 1)
            if not times:
                self._failures.pop(client, None)
        return None

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 100_000:  # bounded memory under a flood of addresses
                self._failures.clear()
            self._recent(client, now).append(now)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def check_not_throttled(request: Request) -> None:
    """429 for a client that failed to authenticate too often lately."""
    wait = request.app.state.auth_limiter.retry_after(client_address(request))
    if wait is not None:
        raise ProblemException(
            429, f"Trop d'essais de clé refusés depuis cette adresse : réessayez dans {wait} s.",
            kind="too-many-failed-authentications", headers={"Retry-After": str(wait)},
        )


def get_caller(
    request: Request,
    uow: UowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key_header)],
) -> Caller:
    """The caller of a key given as ``Authorization: Bearer`` or ``X-API-Key``; 401 otherwise (429 after
    too many failures from the same address). Looked up at every request: a revoked key stops at once."""
    check_not_throttled(request)
    key = credentials.credentials if credentials is not None else header_key
    caller = resolve_api_key(uow, key.strip() if key else None)
    if caller is None:
        request.app.state.auth_limiter.failed(client_address(request))
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
    """Admin keys only (creating territories, managing keys); 403 otherwise."""
    if caller.role != "admin":
        raise ProblemException(403, "Seule une clé « admin » peut faire cela (créer un territoire, gérer les clés).",
                               kind="admin-only", title="Accès réservé aux administrateurs")
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
