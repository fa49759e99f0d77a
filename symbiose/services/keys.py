"""API keys and the pages' sessions.

A key is made once and shown once; only its SHA-256 hash is stored, with its
role, territory, an optional label (who holds it) and expiry. Listing and
revoking take effect at once: every request looks its key up (an indexed
query), nothing is cached. The pages' cookie names a server-side session
(``web_sessions``) signed with an instance key: signing out revokes it, and a
revoked or expired key ends its sessions too."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from symbiose.services.territories import ensure_territory, get_territory
from symbiose.store import UnitOfWork
from symbiose.store.orm import ApiKeyRow, TerritoryRow, WebSessionRow, utcnow

ROLES = ("admin", "animator", "portal")
def role_of(word: str) -> str:
    """The role a word names (``animateur`` → ``animator``, :func:`symbiose.explain.validation.role_code`);
    ``ValueError`` in French otherwise."""
    from symbiose.explain.validation import role_code

    role = role_code(word or "")
    if role is None:
        raise ValueError(f"rôle inconnu : « {word} » ; attendu admin, animateur (animator) ou portail (portal)")
    return role


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


def create_api_key(
    uow: UnitOfWork, territory: str, role: str, label: str | None = None, expires_at: datetime | None = None,
) -> str:
    """A new key for ``territory`` with ``role`` (French words accepted); returns the key (shown once) and commits."""
    return issue_api_key(uow, territory, role, label, expires_at)[1]


def issue_api_key(
    uow: UnitOfWork, territory: str, role: str, label: str | None = None, expires_at: datetime | None = None,
) -> tuple[int, str]:
    """:func:`create_api_key`, returning ``(key number, key)``."""
    role = role_of(role)
    # an admin key may open a new territory; other keys need an existing one (a typo must not create one)
    t = ensure_territory(uow, territory) if role == "admin" else get_territory(uow, territory)
    key = "sym_" + secrets.token_urlsafe(32)
    row = ApiKeyRow(key_hash=hash_key(key), prefix=key[:8], territory_id=t.id, role=role, label=label,
                    expires_at=expires_at)
    uow.session.add(row)
    uow.commit()
    return row.id, key


def list_api_keys(uow: UnitOfWork, territory: str | None = None) -> list[dict[str, Any]]:
    """Every key (or a territory's): id, prefix, role, territory, label, dates and ``active`` — never the key."""
    query = select(ApiKeyRow, TerritoryRow.code).outerjoin(TerritoryRow, TerritoryRow.id == ApiKeyRow.territory_id)
    if territory is not None:
        query = query.where(TerritoryRow.id == get_territory(uow, territory).id)
    now = utcnow()
    return [
        {
            "id": row.id, "prefix": row.prefix, "role": row.role, "territory": code, "label": row.label,
            "created_at": _iso(row.created_at), "expires_at": _iso(row.expires_at), "revoked_at": _iso(row.revoked_at),
            "active": _usable(row, now),
        }
        for row, code in uow.session.execute(query.order_by(ApiKeyRow.id))
    ]


def revoke_api_key(uow: UnitOfWork, key_id: int) -> bool:
    """Revoke a key and its pages' sessions at once; False when there is no such key. Commits."""
    row = uow.session.get(ApiKeyRow, key_id)
    if row is None:
        return False
    now = utcnow()
    if row.revoked_at is None:
        row.revoked_at = now
    uow.session.execute(update(WebSessionRow).where(WebSessionRow.key_id == key_id, WebSessionRow.revoked_at.is_(None))
                        .values(revoked_at=now))
    uow.commit()
    return True


def _naive_utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def _usable(row: ApiKeyRow, now: datetime) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


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


def _sign(uow: UnitOfWork, body: str) -> str:
    return hmac.new(_session_key(uow), body.encode(), hashlib.sha256).hexdigest()


def session_token(uow: UnitOfWork, caller: Caller, *, now: float | None = None) -> str:
    """A new server-side session for the caller's key (committed) and its signed token, the pages' cookie."""
    now = now or time.time()
    expires = int(now + SESSION_SECONDS)
    sid = secrets.token_hex(16)
    uow.session.add(WebSessionRow(id=sid, key_id=caller.key_id, expires_at=_naive_utc(expires)))
    uow.commit()
    body = f"{sid}.{expires}"
    return f"{body}.{_sign(uow, body)}"


def _session_row(uow: UnitOfWork, token: str | None, now: float) -> WebSessionRow | None:
    if not token or len(token) > 200 or token.count(".") != 2:
        return None
    sid, expires, signature = token.split(".")
    if not (len(sid) == 32 and expires.isdigit() and hmac.compare_digest(signature, _sign(uow, f"{sid}.{expires}"))):
        return None
    if int(expires) < now:
        return None
    row = uow.session.get(WebSessionRow, sid)
    if row is None or row.revoked_at is not None or row.expires_at < _naive_utc(now):
        return None
    return row


def resolve_session(uow: UnitOfWork, token: str | None, *, now: float | None = None) -> Caller | None:
    """The caller behind a session token: signature, expiry, the session's and the key's revocation all checked."""
    row = _session_row(uow, token, now or time.time())
    return None if row is None else _caller(uow, uow.session.get(ApiKeyRow, row.key_id))


def end_session(uow: UnitOfWork, token: str | None) -> bool:
    """Sign out: the session of ``token`` is revoked server-side (the cookie no longer works); commits."""
    row = _session_row(uow, token, time.time())
    if row is None:
        return False
    row.revoked_at = utcnow()
    uow.commit()
    return True


def resolve_api_key(uow: UnitOfWork, key: str | None) -> Caller | None:
    """The caller behind ``key``, or ``None`` when it is missing, unknown, revoked or expired."""
    if not key or len(key) > 256:
        return None
    return _caller(uow, uow.session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(key))))


def _caller(uow: UnitOfWork, row: ApiKeyRow | None) -> Caller | None:
    """The caller of a key row; ``None`` when there is no such key or it is revoked or expired."""
    if row is None or not _usable(row, utcnow()):
        return None
    code = region = None
    if row.territory_id is not None:
        code = uow.session.scalar(select(TerritoryRow.code).where(TerritoryRow.id == row.territory_id))
    if row.region_id is not None:
        from symbiose.store.orm import RegionRow

        region = uow.session.scalar(select(RegionRow.code).where(RegionRow.id == row.region_id))
    return Caller(key_id=row.id, role=row.role, territory=code, region=region)
