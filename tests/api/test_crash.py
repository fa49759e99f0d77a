"""Killing the server (SIGKILL, as a crash or an OOM kill would) during an
upload or a run loses nothing already committed, leaves no half-written
import, and after a restart the interrupted run is ``failed``, not
``running``."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select

from symbiose.store import UnitOfWork
from symbiose.store.orm import CompanyRow, FlowRow, ImportRow, TerritoryRow
from tests.api.conftest import (
    HEADER,
    TERRITORY,
    Keys,
    ProcessServer,
    auth,
    diagnostic_csv,
    run_to_done,
    upload,
)

BASE = f"/api/v1/territories/{TERRITORY}"
BIG_ROWS = 2500


def big_diagnostic() -> bytes:
    """A larger diagnostic (new companies only): ~1 s to check and write."""
    rows = []
    for i in range(BIG_ROWS):
        lat, lon = 43.40 + (i % 50) * 0.002, 4.80 + (i // 50) * 0.002
        resource = ("wood.pallet", "paper.cardboard", "organic.biowaste")[i % 3]
        rows.append(f"B{i:05d};Entreprise {i};out;{resource};{10 + i % 40};t;year;{lat:.6f};{lon:.6f};13270;Fos-sur-Mer;;non;;")
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def multipart_request(base_url: str, key: str, data: bytes) -> tuple[bytes, bytes]:
    """The raw HTTP request of an upload, split into headers and body."""
    boundary = "crash-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    host = urlsplit(base_url).netloc
    head = (f"POST {BASE}/diagnostics HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head, body


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname, parts.port


def stored(url: str) -> dict[str, int]:
    """What the database holds for the test territory, read directly."""
    with UnitOfWork(url) as uow:
        s = uow.session
        tid = s.scalar(select(TerritoryRow.id).where(TerritoryRow.code == TERRITORY))
        count = lambda model: s.scalar(select(func.count()).select_from(model).where(model.territory_id == tid))  # noqa: E731
        return {"companies": count(CompanyRow), "flows": count(FlowRow), "imports": count(ImportRow)}


def test_sigkill_during_upload_and_run(db_url: str, keys: Keys, tmp_path) -> None:  # noqa: ANN001
    srv = ProcessServer(db_url, tmp_path / "server.log").start()
    try:
        with httpx.Client(base_url=srv.base_url, timeout=60) as c:
            assert upload(c, keys.animator, diagnostic_csv()).status_code == 201
            first = run_to_done(c, keys.animator)
            target = c.get(f"{BASE}/synergies", headers=auth(keys.animator)).json()["items"][0]
            r = c.patch(f"{BASE}/synergies/{target['id']}", json={"status": "contacted", "note": "RDV pris"},
                        headers=auth(keys.animator))
            assert r.status_code == 200
        before = stored(db_url)
        assert before == {"companies": 5, "flows": 11, "imports": 1}

        # 1. killed while the file is still arriving: nothing of it is written
        head, body = multipart_request(srv.base_url, keys.animator, big_diagnostic())
        with socket.create_connection(_address(srv.base_url)) as sock:
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.3)
            srv.kill()
        assert stored(db_url) == before

        # 2. killed during the matching run: after a restart it is failed, and nothing committed is lost
        srv.start()
        with httpx.Client(base_url=srv.base_url, timeout=60) as c:
            run_id = c.post(f"{BASE}/runs", headers=auth(keys.animator)).json()["id"]
            deadline = time.monotonic() + 30
            status = "queued"
            while status == "queued" and time.monotonic() < deadline:
                status = c.get(f"{BASE}/runs/{run_id}", headers=auth(keys.animator)).json()["status"]
            assert status == "running", "the run must be caught running (a fresh process matches slowly)"
            srv.kill()
        srv.start()
        with httpx.Client(base_url=srv.base_url, timeout=60) as c:
            run = c.get(f"{BASE}/runs/{run_id}", headers=auth(keys.animator)).json()
            assert run["status"] == "failed" and run["error"] and run["summary"] is None
            assert c.get(f"{BASE}/runs/{first['id']}", headers=auth(keys.animator)).json()["status"] == "done"
            kept = c.get(f"{BASE}/synergies/{target['id']}", headers=auth(keys.animator)).json()
            assert kept["status"] == "contacted" and kept["history"][-1]["note"] == "RDV pris"
            assert stored(db_url) == before

            # 3. killed once the whole file is sent, while it is being checked and written: all or nothing
            with socket.create_connection(_address(srv.base_url)) as sock:
                sock.sendall(head + body)
                time.sleep(0.4)
                srv.kill()
        after = stored(db_url)
        assert after in (before, {"companies": 5 + BIG_ROWS, "flows": 11 + BIG_ROWS, "imports": 2}), after

        # the restarted server works: a new run completes and the follow-up is still there
        srv.start()
        with httpx.Client(base_url=srv.base_url, timeout=60) as c:
            run_to_done(c, keys.animator)
            again = c.get(f"{BASE}/synergies", headers=auth(keys.animator), params={"status": "contacted"}).json()
            assert [s["resource"] for s in again["items"]] == [target["resource"]]
    finally:
        srv.stop()
