"""Availability and access (issue #13): hostile spreadsheets over HTTP, failed-authentication limits,
keys listed, revoked at once and expiring, a chunked upload over the limit, OPTIONS on a synergy."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx

from symbiose.services.keys import create_api_key, list_api_keys
from symbiose.store import UnitOfWork
from tests.api.conftest import ROOT, TERRITORY, Keys, ThreadServer, auth, diagnostic_csv, upload
from tests.test_xlsx_guard import GOOD, _cell, workbook

BASE = f"/api/v1/territories/{TERRITORY}"


def test_a_tiny_hostile_xlsx_is_refused_and_the_server_lives_on(client: httpx.Client, keys: Keys) -> None:
    data = workbook(GOOD + f'<row r="1048576">{_cell("XFD1048576", "x")}</row>')
    assert len(data) < 2000
    r = upload(client, keys.animator, data, filename="piege.xlsx", dry_run=True)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["errors"][0]["column"] == "file" and "XFD1048576" in body["errors"][0]["message"]
    assert "fichier refusé" in body["errors"][0]["message"]
    bomb = workbook(GOOD, filler=64 << 20)  # 64 MiB of one letter in a ~100 KB file
    r = upload(client, keys.animator, bomb, filename="bombe.xlsx")
    assert r.status_code == 422 and "décompresse" in r.json()["errors"][0]["message"]
    assert client.get("/health").json()["status"] == "ok"
    assert client.get(f"{BASE}/companies", headers=auth(keys.animator)).json()["total"] == 0


def test_failed_authentications_are_limited_per_address(db_url: str, keys: Keys) -> None:
    with ThreadServer(db_url, auth_failures_per_minute=5) as srv, httpx.Client(base_url=srv.base_url) as c:
        codes = [c.get(f"{BASE}/companies", headers=auth(f"sym_guess-{i}")).status_code for i in range(7)]
        assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
        limited = c.get(f"{BASE}/companies", headers=auth(keys.animator))
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert "réessayez" in limited.json()["detail"]


def test_keys_are_listed_and_revoked_at_once(client: httpx.Client, keys: Keys, db_url: str) -> None:
    assert client.get(f"{BASE}/companies", headers=auth(keys.portal)).status_code == 200
    listed = client.get("/api/v1/apikeys", headers=auth(keys.admin)).json()
    assert {k["role"] for k in listed} == {"admin", "animator", "portal"}
    assert all("key" not in k and len(k["prefix"]) == 8 for k in listed)
    assert client.get("/api/v1/apikeys", headers=auth(keys.animator)).status_code == 403

    made = client.post("/api/v1/apikeys", headers=auth(keys.admin),
                       json={"territory": TERRITORY, "role": "portail", "label": "CCI Sud — portail"})
    assert made.status_code == 201 and made.json()["role"] == "portal" and made.json()["key"].startswith("sym_")
    new_key, new_id = made.json()["key"], made.json()["id"]
    assert client.get(f"{BASE}/companies", headers=auth(new_key)).status_code == 200
    assert client.delete(f"/api/v1/apikeys/{new_id}", headers=auth(keys.admin)).status_code == 204
    assert client.get(f"{BASE}/companies", headers=auth(new_key)).status_code == 401  # at once, no cache
    assert client.delete("/api/v1/apikeys/99999", headers=auth(keys.admin)).status_code == 404

    # the CLI, another process on the same database, revokes with immediate effect too
    portal_id = next(k["id"] for k in list_keys(db_url) if k["role"] == "portal" and k["active"])
    cli = [sys.executable, "-m", "symbiose", "apikey"]
    shown = subprocess.run([*cli, "list", "--json", "--db", db_url], capture_output=True, text=True, cwd=ROOT, check=True)
    assert portal_id in {k["id"] for k in json.loads(shown.stdout)}
    done = subprocess.run([*cli, "revoke", str(portal_id), "--db", db_url], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "révoquée" in done.stdout
    assert client.get(f"{BASE}/companies", headers=auth(keys.portal)).status_code == 401
    unknown = subprocess.run([*cli, "revoke", "99999", "--db", db_url], capture_output=True, text=True, cwd=ROOT)
    assert unknown.returncode == 2 and "clé inconnue" in unknown.stderr


def list_keys(url: str) -> list[dict]:
    with UnitOfWork(url) as uow:
        return list_api_keys(uow)


def test_an_expired_key_stops_working(client: httpx.Client, keys: Keys, db_url: str) -> None:
    with UnitOfWork(db_url) as uow:
        past = create_api_key(uow, TERRITORY, "animateur", "stagiaire", datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1))
        future = create_api_key(uow, TERRITORY, "animator", None, datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1))
    assert client.get(f"{BASE}/companies", headers=auth(past)).status_code == 401
    assert client.get(f"{BASE}/companies", headers=auth(future)).status_code == 200
    expired = [k for k in list_keys(db_url) if k["label"] == "stagiaire"]
    assert expired and expired[0]["active"] is False and expired[0]["revoked_at"] is None


def test_a_chunked_upload_over_the_limit_is_a_413(db_url: str, keys: Keys) -> None:
    with ThreadServer(db_url, max_upload_bytes=2_000) as srv, httpx.Client(base_url=srv.base_url) as c:
        body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.csv\"\r\n\r\n" + b"x" * 200_000 + b"\r\n--b--\r\n"

        def chunks():
            for i in range(0, len(body), 8192):
                yield body[i:i + 8192]

        r = c.post(f"{BASE}/diagnostics", content=chunks(),
                   headers={**auth(keys.animator), "content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413, r.text
        assert r.headers["content-type"].startswith("application/problem+json")


def test_options_on_a_synergy_lists_every_method(client: httpx.Client, keys: Keys) -> None:
    r = client.options(f"{BASE}/synergies/S-0001", headers=auth(keys.animator))
    assert r.status_code == 405 and r.headers["allow"] == "GET, PATCH"
    r = client.options(f"{BASE}/synergies", headers=auth(keys.animator))
    assert r.headers["allow"] == "GET"
    assert diagnostic_csv()  # the fixture module is the one the other API tests use
