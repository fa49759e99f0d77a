"""Stress test of the running service: concurrent uploads, follow-up changes and runs, on PostgreSQL.

Run ``python benchmarks/bench_stress.py`` (``--seconds 60``, ``--clients 8``, ``--db URL`` of a
PostgreSQL server whose user may create databases; default the CI's
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). It creates a private
database, starts the API as ``symbiose serve`` does (one uvicorn process, on a
free loopback port, two run workers), and drives it for ``--seconds`` with
``--clients`` threads, each picking at random:

- an upload of one of three small diagnostics (the same files again and
  again, some at the same instant: idempotent re-imports racing);
- a follow-up PATCH of a random synergy to a random status (forward, backward,
  ``rejected`` with its note): races between moves of one synergy;
- a run request (most join the run already queued).

Traffic goes to 127.0.0.1 only; the loop is bounded in time and stops by
itself. At the end it reads the database and checks every follow-up history:
statuses only move forward, nothing after ``rejected``, the current status is
the last event's. It prints and writes to ``benchmarks/results/stress.md``:
requests, answers by status class, 5xx count (must be 0), lost or
out-of-order history entries (must be 0), and the rate of requests relative to
``/health`` measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symbiose.services.keys import create_api_key  # noqa: E402
from symbiose.services.territories import ensure_territory  # noqa: E402
from symbiose.store import UnitOfWork  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "stress.md"
FORWARD = ["proposed", "contacted", "studied", "implemented"]
TERRITORIES = ("stress-a", "stress-b")
HEADER = "company_id;company_name;direction;resource;quantity;unit;lat;lon;naf"


def _file(seed: int) -> bytes:
    """A small diagnostic: pallets, cardboard and an acid exchange among a few firms."""
    rng = random.Random(seed)
    rows = [HEADER]
    for i in range(8):
        cid = f"S{seed}-{i}"
        lat, lon = 43.44 + rng.random() * 0.05, 4.85 + rng.random() * 0.05
        rows.append(f"{cid};Firme {seed}-{i};out;wood.pallet;{rng.randint(10, 60)};t;{lat:.5f};{lon:.5f};52.10B")
        rows.append(f"{cid};Firme {seed}-{i};out;paper.cardboard;{rng.randint(20, 90)};t;{lat:.5f};{lon:.5f};52.10B")
        direction = "out" if i % 2 else "in"
        rows.append(f"{cid};Firme {seed}-{i};{direction};chemical.acid.hcl;{rng.randint(100, 900)};t;{lat:.5f};{lon:.5f};20.13B")
    return ("\n".join(rows) + "\n").encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(base: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"symbiose_stress_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from symbiose.store.db import _engine

        _engine(url.set(database=name).render_as_string(hide_password=False)).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url.set(database=name).render_as_string(hide_password=False), drop


def _history_defects(url: str) -> tuple[int, int, list[str]]:
    """(follow-ups checked, defects, examples): a backward move, a move after rejected, a status not its
    last event's. An event repeating the current status is a note added, not a move."""
    from sqlalchemy import select

    from symbiose.store.orm import FollowUpEventRow, FollowUpRow

    defects = checked = 0
    examples: list[str] = []
    with UnitOfWork(url) as uow:
        for follow in uow.session.scalars(select(FollowUpRow)):
            events = [e.status for e in uow.session.scalars(
                select(FollowUpEventRow).where(FollowUpEventRow.followup_id == follow.id).order_by(FollowUpEventRow.id))]
            checked += 1
            shown = f"{follow.status}: {' → '.join(events)}"
            if not events or events[-1] != follow.status:
                defects += 1
                examples.append(shown)
                continue
            ranks, closed = [], False
            bad = False
            moves = [e for i, e in enumerate(events) if i == 0 or e != events[i - 1]]  # the same status again is a note
            for status in moves:
                if closed:
                    bad = True
                    break
                if status == "rejected":
                    closed = True
                    continue
                ranks.append(FORWARD.index(status))
            if bad or ranks != sorted(ranks):
                defects += 1
                examples.append(shown)
    return checked, defects, examples[:5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", default=os.environ.get("SYMBIOSE_TEST_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    url, drop = _database(args.db)
    proc = None
    try:
        with UnitOfWork(url) as uow:
            for code in TERRITORIES:
                ensure_territory(uow, code, f"Stress {code}")
            uow.commit()
            keys = {code: create_api_key(uow, code, "animator") for code in TERRITORIES}
        port = _free_port()
        env = {**os.environ, "SYMBIOSE_DATABASE_URL": url, "SYMBIOSE_RUN_WORKERS": "2", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host",
                                 "127.0.0.1", "--port", str(port), "--log-level", "error"], cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)

        files = [_file(seed) for seed in range(3)]
        with httpx.Client(base_url=base, timeout=60) as c:  # something to follow up from the start
            for code in TERRITORIES:
                h = {"Authorization": f"Bearer {keys[code]}"}
                c.post(f"/api/v1/territories/{code}/diagnostics", headers=h,
                       files={"file": ("d.csv", files[0], "text/csv")})
                run = c.post(f"/api/v1/territories/{code}/runs", headers=h).json()["id"]
                while c.get(f"/api/v1/territories/{code}/runs/{run}", headers=h).json()["status"] in ("queued", "running"):
                    time.sleep(0.1)

        # baseline: /health from the same clients, 3 s
        health = Counter()
        stop_at = time.monotonic() + 3

        def ping() -> None:
            with httpx.Client(base_url=base, timeout=30) as c:
                while time.monotonic() < stop_at:
                    health[c.get("/health").status_code // 100] += 1

        threads = [threading.Thread(target=ping) for _ in range(args.clients)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        health_rate = sum(health.values()) / 3

        answers: Counter = Counter()
        kinds: Counter = Counter()
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base, timeout=120) as c:
                while time.monotonic() < stop_at:
                    code = rng.choice(TERRITORIES)
                    h = {"Authorization": f"Bearer {keys[code]}"}
                    roll = rng.random()
                    if roll < 0.2:
                        kind = "upload"
                        r = c.post(f"/api/v1/territories/{code}/diagnostics", headers=h,
                                   files={"file": ("d.csv", rng.choice(files), "text/csv")})
                    elif roll < 0.3:
                        kind = "run"
                        r = c.post(f"/api/v1/territories/{code}/runs", headers=h)
                    else:
                        kind = "patch"
                        sid = f"S-{rng.randint(1, 6):04d}"
                        status = rng.choice(["contacted", "studied", "implemented", "proposed", "rejected"])
                        body = {"status": status, "note": "essai de charge"} if status == "rejected" else {"status": status}
                        r = c.patch(f"/api/v1/territories/{code}/synergies/{sid}", headers=h, json=body)
                    with lock:
                        answers[r.status_code] += 1
                        kinds[kind] += 1

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.monotonic() - started
        total = sum(answers.values())
        server_errors = sum(n for s, n in answers.items() if s >= 500)
        checked, defects, examples = _history_defects(url)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        drop()

    rate = total / elapsed
    lines = [
        "# Stress test — concurrent uploads, follow-up changes and runs on PostgreSQL",
        "",
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {os.cpu_count()} cores: "
        f"`python benchmarks/bench_stress.py --seconds {args.seconds:g} --clients {args.clients}` "
        "(one uvicorn process, two run workers, clients on the same machine).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| requests | {total} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}) |",
        f"| answers | {', '.join(f'{s}: {n}' for s, n in sorted(answers.items()))} |",
        f"| **5xx answers** (must be 0) | **{server_errors}** |",
        f"| follow-up histories checked | {checked} |",
        f"| **lost or out-of-order history entries** (must be 0) | **{defects}** |",
        f"| requests per second | {rate:.1f} |",
        f"| `/health` per second, same clients, same run (baseline) | {health_rate:.1f} |",
        f"| ratio to the baseline | {rate / health_rate:.3f} |",
        "",
        *([f"Defective histories: {'; '.join(examples)}", ""] if examples else []),
        "409 answers are follow-up moves the state forbids (backwards, after `rejected`) or the loser of a",
        "race; 422 are `rejected` requests whose synergy id names nothing in that territory's latest run.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    if server_errors or defects:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
