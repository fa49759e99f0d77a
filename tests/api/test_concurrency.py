"""Races: simultaneous uploads, follow-up changes and runs never answer 500 nor move a status backwards."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from symbiose.services import runs as runs_service
from symbiose.store import UnitOfWork
from symbiose.store.orm import RunRow
from tests.api.conftest import TERRITORY, Keys, ThreadServer, auth, diagnostic_csv, run_to_done, upload, wait_run

BASE = f"/api/v1/territories/{TERRITORY}"
FORWARD = ["proposed", "contacted", "studied", "implemented"]


def _at_once(n: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """``n`` calls released together (a barrier), each on its own connection."""
    barrier = threading.Barrier(n)

    def go(i: int) -> httpx.Response:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def test_simultaneous_uploads_of_one_new_file(server: ThreadServer, keys: Keys) -> None:
    def send(_i: int) -> httpx.Response:
        with httpx.Client(base_url=server.base_url, timeout=60) as c:
            return upload(c, keys.animator, diagnostic_csv())

    answers = _at_once(6, send)
    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers if r.status_code != 201]
    created = sum(r.json()["created"]["flows"] for r in answers)
    assert created == 11  # one of them created the flows; the others found them and changed nothing
    with httpx.Client(base_url=server.base_url) as c:
        assert c.get(f"{BASE}/flows", headers=auth(keys.animator)).json()["total"] == 11
        assert c.get(f"{BASE}/companies", headers=auth(keys.animator)).json()["total"] == 5


def test_racing_follow_ups_never_go_backwards(server: ThreadServer, client: httpx.Client, keys: Keys) -> None:
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    run_to_done(client, keys.animator)
    synergies = client.get(f"{BASE}/synergies", headers=auth(keys.animator)).json()["items"]
    assert len(synergies) >= 3
    for s in synergies:
        url = f"{BASE}/synergies/{s['id']}"

        def move(i: int, url: str = url) -> httpx.Response:
            with httpx.Client(base_url=server.base_url, timeout=60) as c:
                return c.patch(url, json={"status": ("implemented", "contacted")[i % 2]}, headers=auth(keys.animator))

        answers = _at_once(4, move)
        assert {r.status_code for r in answers} <= {200, 409}, [r.text for r in answers]
        assert 200 in {r.status_code for r in answers}
        history = [e["status"] for e in client.get(url, headers=auth(keys.animator)).json()["history"]]
        ranks = [FORWARD.index(h) for h in history]
        assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks), history
        assert history[-1] == "implemented" or "implemented" not in history


def test_parallel_run_requests_join_one_run(db_url: str, keys: Keys) -> None:
    with ThreadServer(db_url, run_workers=2) as srv, httpx.Client(base_url=srv.base_url, timeout=60) as c:
        assert upload(c, keys.animator, diagnostic_csv()).status_code == 201

        def start(_i: int) -> httpx.Response:
            with httpx.Client(base_url=srv.base_url, timeout=60) as cc:
                return cc.post(f"{BASE}/runs", headers=auth(keys.animator))

        answers = _at_once(8, start)
        assert {r.status_code for r in answers} == {202}
        ids = {r.json()["id"] for r in answers}
        # one queued run is enough: requests arriving while a run waits join it. A run that finishes
        # while requests are still arriving lets the next one queue anew, so a few runs, never eight.
        assert len(ids) <= 4
        for run_id in ids:
            assert wait_run(c, keys.animator, run_id)["status"] == "done"
        listed = c.get(f"{BASE}/runs", headers=auth(keys.animator)).json()
        assert listed["total"] == len(ids) and all(r["status"] == "done" for r in listed["items"])


def test_a_failed_run_tells_users_a_short_french_sentence(db_url: str, keys: Keys, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from symbiose.services.imports import import_diagnostic

    with UnitOfWork(db_url) as uow:
        import_diagnostic(uow, diagnostic_csv(), territory=TERRITORY)
        run_id = runs_service.create_run(uow, TERRITORY)

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError('INSERT INTO synergies VALUES (... 4 KB of SQL and parameters ...) "secret"')

    monkeypatch.setattr("symbiose.matching.match", broken)
    assert runs_service.execute_run(db_url, run_id) is None
    with UnitOfWork(db_url) as uow:
        run = uow.session.get(RunRow, run_id)
        assert run.status == "failed"
        assert run.error.startswith("l'appariement a échoué") and len(run.error) < 300
        assert "INSERT" not in run.error and "secret" not in run.error
    assert "INSERT INTO synergies" in caplog.text  # the detail is in the log


def test_a_run_requested_while_one_waits_joins_it(db_url: str, keys: Keys) -> None:
    from symbiose.services.imports import import_diagnostic

    with UnitOfWork(db_url) as uow:
        import_diagnostic(uow, diagnostic_csv(), territory=TERRITORY)
        first, new = runs_service.queue_run(uow, TERRITORY, "animator:1")
        again, joined_new = runs_service.queue_run(uow, TERRITORY, "animator:2")
    assert new and not joined_new and again == first
    assert runs_service.execute_run(db_url, first) is not None
    with UnitOfWork(db_url) as uow:
        later, new = runs_service.queue_run(uow, TERRITORY)  # the first one ran: a new request queues anew
    assert new and later != first
