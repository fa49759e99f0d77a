"""API keys: made once, only their SHA-256 hash stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select

from symbiose.services.territories import ensure_territory, get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import ApiKeyRow, TerritoryRow

ROLES = ("admin", "animator", "portal")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls: the key's role and the territory it covers (``None`` for an admin), or for
    a ``region`` key the region (it sees the region view only, read-only)."""

    key_id: int
    role: str
    territory: str | None
    region: str | None = None

    def can_see_region(self, region: str) -> bool:
        return self.role == "admin" or (self.role == "region" and self.region == region)

    def can_see(self, territory: str) -> bool:
        return self.role == "admin" or self.territory == territory

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "animator")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(uow: UnitOfWork, territory: str, role: str, label: str | None = None) -> str:
    """A new key for ``territory`` with ``role``; returns the key (shown once) and commits."""
    if role not in ROLES:
        raise ValueError(f"invalid role {role!r}; expected one of {', '.join(ROLES)}")
    # an admin key may open a new territory; other keys need an existing one (a typo must not create one)
    t = ensure_territory(uow, territory) if role == "admin" else get_territory(uow, territory)
    key = "sym_" + secrets.token_urlsafe(32)
    uow.session.add(ApiKeyRow(key_hash=hash_key(key), prefix=key[:8], territory_id=t.id, role=role, label=label))
    uow.commit()
    return key


def create_region_key(uow: UnitOfWork, region: str, label: str | None = None) -> str:
    """A new read-only ``region`` key for the region view of ``region``; returns the key and commits."""
    from symbiose.services.regions import get_region

    r = get_region(uow, region)
    key = "sym_" + secrets.token_urlsafe(32)
    uow.session.add(ApiKeyRow(key_hash=hash_key(key), prefix=key[:8], territory_id=None, region_id=r.id,
                              role="region", label=label))
    uow.commit()
    return key


SESSION_SECONDS = 12 * 3600  # a working day: the pages ask for the key again after that


def _session_key(uow: UnitOfWork) -> bytes:
    from symbiose.privacy import instance_secret

    return hmac.new(instance_secret(uow.url), b"symbiose web session", hashlib.sha256).digest()


def session_token(uow: UnitOfWork, caller: Caller, *, now: float | None = None) -> str:
    """A signed, expiring token naming the caller's key (the pages' cookie: never the key itself)."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    body = f"{caller.key_id}.{expires}"
    return f"{body}.{hmac.new(_session_key(uow), body.encode(), hashlib.sha256).hexdigest()}"


def resolve_session(uow: UnitOfWork, token: str | None, *, now: float | None = None) -> Caller | None:
    """The caller behind a session token: signature, expiry and the key's revocation all checked."""
    if not token or len(token) > 200 or token.count(".") != 2:
        return None
    key_id, expires, signature = token.split(".")
    expected = hmac.new(_session_key(uow), f"{key_id}.{expires}".encode(), hashlib.sha256).hexdigest()
    if not (key_id.isdigit() and expires.isdigit() and hmac.compare_digest(signature, expected)):
        return None
    if int(expires) < (now or time.time()):
        return None
    return _caller(uow, uow.session.get(ApiKeyRow, int(key_id)))


def resolve_api_key(uow: UnitOfWork, key: str | None) -> Caller | None:
    """The caller behind ``key``, or ``None`` when it is missing, unknown or revoked."""
    if not key or len(key) > 256:
        return None
    return _caller(uow, uow.session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(key))))


def _caller(uow: UnitOfWork, row: ApiKeyRow | None) -> Caller | None:
    """The caller of a key row; ``None`` when there is no such key or it was revoked."""
    if row is None or row.revoked_at is not None:
        return None
    code = region = None
    if row.territory_id is not None:
        code = uow.session.scalar(select(TerritoryRow.code).where(TerritoryRow.id == row.territory_id))
    if row.region_id is not None:
        from symbiose.store.orm import RegionRow

        region = uow.session.scalar(select(RegionRow.code).where(RegionRow.id == row.region_id))
    return Caller(key_id=row.id, role=row.role, territory=code, region=region)
