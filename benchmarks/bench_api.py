"""HTTP API benchmark: the synergies, map and indicators of a 5 000-flow territory over loopback.

Run ``python benchmarks/bench_api.py`` (``--flows 5000``, ``--seconds 2``,
``--concurrency 16``, ``--db URL``, ``--out FILE``). It starts the API as a
subprocess (``uvicorn api.main:create_app --factory``, one process, as
``symbiose serve`` runs it) on a fresh database (a temporary SQLite file
unless ``--db``), uploads the seeded synthetic territory of
``bench_matching.synthetic_territory`` as a CSV diagnostic, runs matching
through the API, then drives the server with ``--concurrency`` keep-alive
clients for ``--seconds`` per endpoint:

- ``/health`` — the baseline: routing, one ``SELECT 1``;
- the synergy listing (page 1, 50 per page) with an animator key;
- the same with a portal key (confidential companies anonymised);
- a filtered listing (``type``, ``min_score``) deep in the pages;
- listings the server has never rendered (a new ``min_score`` each time);
- ``map.geojson`` (animator and portal, gzip accepted) and the same cut to a
  bounding box; ``indicators``.

The listing's rendered body is cached under the data's version (run,
follow-up, consents): the first three rows mostly measure answers served from
that cache, as a portal polling the same page gets them; the last row
measures the full work of each request (queries, follow-up, rendering).

It prints and writes to ``benchmarks/results/api.md`` the requests per
second, p50 and p99 latency of each, and their ratios to the baseline
measured in the same run. The clients run on the same machine and share its
cores with the server, so these are a lower bound of what the server does.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_matching import synthetic_territory  # noqa: E402

from symbiose.domain import Diagnostic  # noqa: E402
from symbiose.services.keys import create_api_key  # noqa: E402
from symbiose.services.territories import ensure_territory  # noqa: E402
from symbiose.store import UnitOfWork  # noqa: E402
from symbiose.taxonomy import get_taxonomy  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "api.md"
CODE = "bench-5000"
COLUMNS = ["company_id", "company_name", "direction", "resource", "quantity", "unit", "lat", "lon",
           "temperature_c", "concentration_pct", "months", "confidential"]


def diagnostic_csv(diag: Diagnostic, confidential_every: int = 10) -> bytes:
    """A domain diagnostic as the CSV of ``diagnostic-format.md`` (every n-th company confidential)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    names = {c.id: c.name for c in diag.companies}
    secret = {c.id for i, c in enumerate(diag.companies) if confidential_every and i % confidential_every == 0}
    for f in diag.flows:
        months = ",".join(str(m + 1) for m in range(12) if f.months >> m & 1)
        writer.writerow([
            f.company_id, names[f.company_id], str(f.direction), f.resource, f"{f.quantity:.3f}", f.unit,
            f"{f.lat:.6f}", f"{f.lon:.6f}", "" if f.temperature_c is None else f.temperature_c,
            "" if f.concentration_pct is None else f.concentration_pct, months,
            "oui" if f.company_id in secret else "non",
        ])
    return out.getvalue().encode("utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    """The API as ``symbiose serve`` runs it, in a subprocess."""
    env = {**os.environ, "SYMBIOSE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: see {log}")
        try:
            if request(port, "GET", "/health")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def upload(port: int, key: str, data: bytes) -> dict[str, Any]:
    boundary = "symbiose-bench-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, text = request(port, "POST", f"/api/v1/territories/{CODE}/diagnostics",
                           {"Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
                           body)
    if status != 201:
        raise SystemExit(f"upload refused ({status}): {text[:500]!r}")
    return json.loads(text)


def run_matching(port: int, key: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    status, text = request(port, "POST", f"/api/v1/territories/{CODE}/runs", headers)
    if status != 202:
        raise SystemExit(f"run refused ({status}): {text[:500]!r}")
    run_id = json.loads(text)["id"]
    while True:
        run = json.loads(request(port, "GET", f"/api/v1/territories/{CODE}/runs/{run_id}", headers)[1])
        if run["status"] in ("done", "failed"):
            return run
        time.sleep(0.2)


def load(port: int, path: str, headers: dict[str, str], seconds: float, concurrency: int) -> dict[str, float]:
    """Keep-alive clients hammering ``path`` for ``seconds``: requests/s, p50, p99 (ms).

    A ``{n}`` in ``path`` is replaced by a new number at each request (a query
    the server has never answered, so nothing it rendered before can serve it)."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    start = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start.wait()
        own = latencies[i]
        n = 0
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                break
            n += 1
            conn.request("GET", path.replace("{n}", f"{i}{n:07d}"), headers=headers)
            resp = conn.getresponse()
            resp.read()
            own.append(time.perf_counter() - t0)
            if resp.status != 200:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    t_start = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t_start
    all_ms = sorted(x * 1000 for lat in latencies for x in lat)
    n = len(all_ms)
    return {
        "requests": n,
        "errors": sum(errors),
        "rps": n / elapsed,
        "p50": statistics.median(all_ms) if all_ms else float("nan"),
        "p99": all_ms[min(n - 1, int(0.99 * n))] if all_ms else float("nan"),
    }


def report(rows: list[tuple[str, dict[str, float]]], meta: dict[str, Any]) -> str:
    base = rows[0][1]
    lines = [
        "# HTTP API benchmark",
        "",
        f"`python benchmarks/bench_api.py` — {meta['date']}, Python {platform.python_version()}, "
        f"{meta['cpus']} CPU(s), {meta['database']}, one uvicorn process, {meta['concurrency']} keep-alive "
        f"clients on the same machine, {meta['seconds']} s per endpoint; 1-minute load average "
        f"{meta['load'][0]:.2f} before, {meta['load'][1]:.2f} after (other work on the machine counts).",
        "",
        f"Territory: {meta['flows']} synthetic flows, {meta['companies']} companies "
        f"(every tenth confidential); matching through the API found {meta['synergies']} synergies "
        f"(run {meta['run_seconds']:.1f} s, upload {meta['upload_seconds']:.1f} s).",
        "",
        "| endpoint | requests | errors | req/s | p50 ms | p99 ms | req/s ÷ baseline | p50 ÷ baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['requests']} | {r['errors']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['rps'] / base['rps']:.2f} | {r['p50'] / base['p50']:.1f} |"
        )
    target = rows[1][1]
    verdict = "met" if target["rps"] >= 200 and target["p99"] < 100 else "NOT met"
    maps = [r for name, r in rows if "map.geojson` (animator" in name]
    worst = max(rows[1:], key=lambda nr: nr[1]["p99"])
    lines += [
        "",
        f"Target for the animator listing (≥ 200 req/s, p99 < 100 ms on a 2-core machine): **{verdict}** "
        f"({target['rps']:.0f} req/s, p99 {target['p99']:.1f} ms).",
        "",
        f"Targets of issue 12 at {meta['concurrency']} connections: `map.geojson` ≥ 100 req/s — "
        + (f"**{'met' if maps[0]['rps'] >= 100 else 'NOT met'}** ({maps[0]['rps']:.0f} req/s, "
           f"{maps[0]['rps'] / base['rps']:.2f} × `/health`)" if maps else "not measured")
        + f"; every endpoint p99 < 100 ms — **{'met' if worst[1]['p99'] < 100 else 'NOT met'}** "
        f"(worst: {worst[0]}, p99 {worst[1]['p99']:.1f} ms, `/health` p99 {base['p99']:.1f} ms).",
        "",
        "A listing's rendered body is kept under the version of its data (latest run, follow-up events, "
        "consents, and for portal keys the confidential companies), and its ETag answers `If-None-Match` "
        "with a 304: the first rows are what a tool polling the same pages gets. The last row asks a query "
        "never asked before at each request, so it pays the whole work (key, territory, version, page and "
        "follow-up queries, JSON decoding, schema validation and rendering) — the cost of the first request "
        "after a change.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="symbiose-bench-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        with UnitOfWork(url) as uow:
            ensure_territory(uow, CODE, f"Territoire synthétique ({args.flows} flux)")
            uow.commit()
            animator = create_api_key(uow, CODE, "animator")
            portal = create_api_key(uow, CODE, "portal")
        diag = synthetic_territory(args.flows, get_taxonomy())
        data = diagnostic_csv(diag)
        port = _free_port()
        proc = start_server(url, port, Path(tmp) / "server.log")
        try:
            t0 = time.perf_counter()
            imported = upload(port, animator, data)
            upload_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            run = run_matching(port, animator)
            run_s = time.perf_counter() - t0
            if run["status"] != "done":
                raise SystemExit(f"the run failed: {run.get('error')}")
            ani = {"Authorization": f"Bearer {animator}"}
            lats = sorted(f.lat for f in diag.flows)
            lons = sorted(f.lon for f in diag.flows)
            mid_lat, mid_lon = lats[len(lats) // 2], lons[len(lons) // 2]
            bbox = f"{lons[0]:.4f},{lats[0]:.4f},{mid_lon:.4f},{mid_lat:.4f}"
            por = {"Authorization": f"Bearer {portal}"}
            endpoints = [
                ("`GET /health` (baseline)", "/health", {}),
                ("`GET …/synergies` (animator, page 1 of 50)", f"/api/v1/territories/{CODE}/synergies", ani),
                ("`GET …/synergies` (portal, anonymised)", f"/api/v1/territories/{CODE}/synergies", por),
                ("`GET …/synergies?type=mutualisation&min_score=0.2&page=5`",
                 f"/api/v1/territories/{CODE}/synergies?type=mutualisation&min_score=0.2&page=5", ani),
                ("`GET …/synergies?min_score=0.0…` (a new query each time: rendered, never cached)",
                 f"/api/v1/territories/{CODE}/synergies?min_score=0.0{{n}}", ani),
                ("`GET …/map.geojson` (animator, gzip)", f"/api/v1/territories/{CODE}/map.geojson",
                 {**ani, "Accept-Encoding": "gzip"}),
                ("`GET …/map.geojson` (portal, anonymised, gzip)", f"/api/v1/territories/{CODE}/map.geojson",
                 {**por, "Accept-Encoding": "gzip"}),
                ("`GET …/map.geojson?bbox=…` (a quarter of the territory, gzip)",
                 f"/api/v1/territories/{CODE}/map.geojson?bbox={bbox}", {**ani, "Accept-Encoding": "gzip"}),
                ("`GET …/indicators`", f"/api/v1/territories/{CODE}/indicators", ani),
            ]
            for _name, path, headers in endpoints:  # warm-up: caches, connection pools
                for i in range(20):
                    request(port, "GET", path.replace("{n}", f"9{i}"), headers)
            rows = []
            for name, path, headers in endpoints:
                r = load(port, path, headers, args.seconds, args.concurrency)
                rows.append((name, r))
                print(f"{name}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms", flush=True)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "concurrency": args.concurrency,
        "seconds": args.seconds, "database": "PostgreSQL" if args.db and args.db.startswith("postgresql") else "SQLite",
        "flows": imported["flows"], "companies": imported["companies"], "synergies": run["summary"]["synergies"],
        "run_seconds": run_s, "upload_seconds": upload_s, "load": (load_before, os.getloadavg()[0]),
    }
    text = report(rows, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
