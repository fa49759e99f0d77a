"""Tenant isolation: every ``/api/v1`` route of the app (listed from the app
itself, so a new route cannot escape) × no key, a bad key, another
territory's key, a portal key on a write → 401 / 404 / 403, and the
territory's own key gets through."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.main import API_PREFIX, create_app
from symbiose.prediagnostic.visits import probable_flow_id
from symbiose.settings import Settings
from tests.api.conftest import OTHER, TERRITORY, Keys, auth, diagnostic_csv, run_to_done, upload

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PATH_VALUES = {"code": TERRITORY, "run_id": "1", "synergy_id": "S-0001", "region": "prov",
               "key_id": "6"}  # key 6: made by create_api_key
# operations only an admin key may call (the admin's own key gets through them)
ADMIN_ONLY = {"create_territory", "create_region", "create_region_run", "get_region_run", "list_region_synergies",
              "list_api_keys", "create_api_key", "revoke_api_key"}
# key management: any other key, whatever its territory, gets 403 (a region a key does not cover answers 404)
KEY_ADMIN = {"list_api_keys", "create_api_key", "revoke_api_key"}
# A valid request body per operation that takes one; a new write route must be added here.
PREDIAG_FIRMS = b"siret;raison_sociale;naf;tranche_effectif;code_postal\n44444444400044;Negoce du Port;46.76Z;12;13270\n"
BODIES: dict[str, dict] = {
    "create_territory": {"json": {"code": "nouveau-parc", "name": "Nouveau parc"}},
    "upload_diagnostic": {"files": {"file": ("diagnostic.csv", diagnostic_csv(), "text/csv")}, "params": {"dry_run": "true"}},
    "create_run": {},
    "update_synergy_followup": {"json": {"status": "contacted", "note": "premier appel"}},
    "record_synergy_consent": {"json": {"company_id": "C2"}},
    "create_api_key": {"json": {"territory": TERRITORY, "role": "portail", "label": "matrice d'isolation"}},
    "revoke_api_key": {},
    "create_correction": {"json": {"text": "palettes de l'atelier", "code": "wood.pallet"}},
    # pre-diagnostic: the upload (a write, run before the visit) stores the probable flow the visit confirms
    "upload_prediagnostic": {"files": {"file": ("etablissements.csv", PREDIAG_FIRMS, "text/csv")}},
    "confirm_visit": {"json": {"flow_id": probable_flow_id("44444444400044", "out", "paper.cardboard"), "exists": False}},
    "create_region": {"json": {"code": "prov", "territories": [TERRITORY]}},
    "create_region_run": {},
}
# Reads that are an animator's job (review of classifications): a portal key gets 403.
ANIMATOR_READS = {"list_flows_to_review", "list_corrections"}


@dataclass(frozen=True)
class Call:
    operation_id: str
    method: str
    path: str

    @property
    def scoped(self) -> bool:
        return "{code}" in self.path

    def url(self, code: str = TERRITORY) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: code if m.group(1) == "code" else PATH_VALUES[m.group(1)], self.path)

    def request(self, client: httpx.Client, headers: dict[str, str], code: str = TERRITORY) -> httpx.Response:
        kwargs = BODIES.get(self.operation_id, {}) if self.method in WRITE_METHODS else {}
        return client.request(self.method, self.url(code), headers=headers, **kwargs)


def api_calls() -> list[Call]:
    """Every (operation, method, path) the app routes under ``/api/v1``, from its router (not its OpenAPI)."""
    app = create_app(Settings(database_url="sqlite://"))  # routes only: no lifespan, no database touched
    calls = []
    for rc in iter_route_contexts(app.routes):  # FastAPI ≥ 0.13x keeps included routers nested
        if isinstance(rc.original_route, APIRoute) and rc.path.startswith(API_PREFIX):
            for method in sorted(rc.methods):
                calls.append(Call(rc.operation_id or rc.original_route.name, method, rc.path))
    openapi = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops if p.startswith(API_PREFIX)}
    assert openapi == {(c.method, c.path) for c in calls}, "a route is missing from the OpenAPI document or the matrix"
    return calls


CALLS = api_calls()


def test_every_route_is_listed() -> None:
    """The matrix covers every API route, and each write route has a body to send."""
    ops = {c.operation_id for c in CALLS}
    assert {"list_territories", "upload_diagnostic", "list_companies", "list_flows", "create_run", "get_run",
            "list_synergies", "get_synergy", "update_synergy_followup", "record_synergy_consent",
            "get_indicators", "get_map"} <= ops
    missing = [c.operation_id for c in CALLS if c.method in WRITE_METHODS and c.operation_id not in BODIES]
    assert not missing, f"add a valid body for {missing} to BODIES"
    for path_param in {p for c in CALLS for p in re.findall(r"\{(\w+)\}", c.path)}:
        assert path_param == "code" or path_param in PATH_VALUES, f"add a value for {{{path_param}}}"


@pytest.fixture
def ready(client: httpx.Client, keys: Keys) -> httpx.Client:
    """A territory with a diagnostic and a finished run, so every path names something real."""
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    run_to_done(client, keys.animator)
    # a region of the territory with a finished region run (run 1), for the region routes
    assert client.post(f"{API_PREFIX}/regions", headers=auth(keys.admin),
                       json={"code": "prov", "territories": [TERRITORY]}).status_code == 201
    started = client.post(f"{API_PREFIX}/regions/prov/runs", headers=auth(keys.admin)).json()
    for _ in range(600):
        if client.get(f"{API_PREFIX}/regions/prov/runs/{started['id']}", headers=auth(keys.admin)).json()["status"] \
                in ("done", "failed"):
            break
        time.sleep(0.05)
    return client


def _assert_problem(r: httpx.Response, status: int, call: Call) -> dict:
    assert r.status_code == status, f"{call.method} {call.path}: {r.status_code} {r.text[:300]}"
    assert r.headers["content-type"].startswith("application/problem+json"), call
    return r.json()


def test_isolation_matrix(ready: httpx.Client, keys: Keys) -> None:
    client = ready
    for call in CALLS:
        # no key, a bad key (both header forms): 401
        for headers in ({}, auth("sym_not-a-key"), {"X-API-Key": "sym_not-a-key"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
            r = call.request(client, headers)
            _assert_problem(r, 401, call)
            assert r.headers["www-authenticate"] == "Bearer", call

        if call.scoped:
            # another territory's key: 404, exactly as a territory that does not exist
            for key in (keys.other_animator, keys.other_portal):
                hidden = _assert_problem(call.request(client, auth(key)), 404, call)
                missing = _assert_problem(call.request(client, auth(keys.animator), code="nulle-part"), 404, call)
                assert hidden == missing, call
        elif call.method in WRITE_METHODS or call.operation_id in KEY_ADMIN:
            _assert_problem(call.request(client, auth(keys.other_animator)), 403, call)
        if call.operation_id in KEY_ADMIN:  # an animator of this very territory is no admin either
            _assert_problem(call.request(client, auth(keys.animator)), 403, call)

        if call.method in WRITE_METHODS:
            _assert_problem(call.request(client, auth(keys.portal)), 403, call)
            if call.scoped:  # a portal key of another territory learns nothing either
                _assert_problem(call.request(client, auth(keys.other_portal)), 404, call)

    # the territory's own keys get through every route (reads first, then writes)
    for call in sorted(CALLS, key=lambda c: c.method in WRITE_METHODS):
        key = keys.admin if call.operation_id in ADMIN_ONLY else keys.animator
        r = call.request(client, {"X-API-Key": key} if call.method == "GET" else auth(key))
        assert r.status_code < 300, f"{call.method} {call.path}: {r.status_code} {r.text[:300]}"
        if call.method == "GET" and call.scoped and call.operation_id in ANIMATOR_READS:
            _assert_problem(call.request(client, auth(keys.portal)), 403, call)
        elif call.method == "GET" and call.scoped:
            assert call.request(client, auth(keys.portal)).status_code == 200, call

    listed = client.get(f"{API_PREFIX}/territories", headers=auth(keys.other_animator)).json()
    assert [t["code"] for t in listed] == [OTHER]
    listed = client.get(f"{API_PREFIX}/territories", headers=auth(keys.admin)).json()
    assert {TERRITORY, OTHER, "nouveau-parc"} <= {t["code"] for t in listed}
