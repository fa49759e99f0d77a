"""API keys, managed by admin keys: list (never the keys), create (shown once), revoke (at once)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import AdminDep, UowDep
from api.problems import ProblemException, responses
from api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from symbiose.services.keys import issue_api_key, list_api_keys, revoke_api_key
from symbiose.services.territories import TerritoryNotFound

router = APIRouter(prefix="/apikeys", tags=["apikeys"])
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the key's number")]


@router.get("", operation_id="list_api_keys", summary="List API keys (admin)", response_model=list[ApiKeyOut],
            responses=responses(403))
def keys(uow: UowDep, _admin: AdminDep) -> list[dict]:
    """Every key with its role, territory, holder and dates; the keys themselves are never shown again."""
    return list_api_keys(uow)


@router.post("", operation_id="create_api_key", summary="Create an API key (admin)", status_code=201,
             response_model=ApiKeyCreated, responses=responses(403))
def create(body: ApiKeyCreate, uow: UowDep, _admin: AdminDep) -> dict:
    """A new key, returned once in ``key``; a non-admin key needs an existing territory (404 otherwise)."""
    expires = body.expires_at
    if expires is not None and expires.tzinfo is not None:
        expires = expires.astimezone(UTC).replace(tzinfo=None)
    try:
        key_id, key = issue_api_key(uow, body.territory, body.role, body.label, expires)
    except TerritoryNotFound as exc:
        raise ProblemException(404, "Territoire introuvable.", kind="territory-not-found") from exc
    listed = next(k for k in list_api_keys(uow) if k["id"] == key_id)
    return {**listed, "key": key}


@router.delete("/{key_id}", operation_id="revoke_api_key", summary="Revoke an API key (admin)", status_code=204,
               responses=responses(403, 404))
def revoke(key_id: KeyId, uow: UowDep, _admin: AdminDep) -> Response:
    """Revoke a key and the pages' sessions opened with it, with immediate effect."""
    if not revoke_api_key(uow, key_id):
        raise ProblemException(404, "Clé introuvable.", kind="api-key-not-found")
    return Response(status_code=204)
