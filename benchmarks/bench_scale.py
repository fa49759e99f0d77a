"""End-to-end scale benchmark: whole ``match`` runs on the even and the dense generators.

Run ``python benchmarks/bench_matching.py --scale`` (or this file):
``--sizes 5000 20000 100000 1000000``, ``--generators even dense``,
``--repeats 2`` (runs per case, to check the plan is identical), ``--dask
100000`` (sizes also run on a local Dask cluster of 1 then 2 workers),
``--mem-limit-gb 8`` (a run above it fails instead of swapping the machine).

Each run is a fresh subprocess: the territory is generated (not timed), then
``match`` runs and its compact synergy JSON is streamed to a file — the
*end to end* time, after start-up. Peak RSS is the subprocess's maximum
resident size (generation included). The plan's fingerprint is a SHA-256 of
the plan (candidate ids and quantities to 1e-6) and the rounded objective.
Every time is also printed as a ratio to the baseline measured in the same
run (the even generator at the smallest size), as the machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGETS = {5_000: (2.0, None), 100_000: (30.0, 2.0), 1_000_000: (60.0, 4.0)}  # seconds, GiB


def one(gen: str, n: int, workers: int, out: Path) -> dict[str, Any]:
    """One run in this process (called in a subprocess): timings, memory, solver, fingerprint."""
    from territories import GENERATORS

    from symbiose.matching import match
    from symbiose.report.synergy_json import write_result
    from symbiose.taxonomy import get_taxonomy

    tax = get_taxonomy()
    t0 = time.perf_counter()
    diag = GENERATORS[gen](n, tax)
    t_gen = time.perf_counter() - t0
    start = time.perf_counter()
    if workers:
        from symbiose.distributed import DaskEngine, dask_client

        with dask_client(workers=workers) as client:
            client.run(lambda: __import__("symbiose.matching"))  # workers warm: imports are start-up
            start = time.perf_counter()
            result = match(diag, tax, engine=DaskEngine(client), now=datetime(2026, 1, 1, tzinfo=UTC))
    else:
        result = match(diag, tax, now=datetime(2026, 1, 1, tzinfo=UTC))
    t_match = time.perf_counter() - start
    w0 = time.perf_counter()
    write_result(result, out, "json")
    t_write = time.perf_counter() - w0
    plan = sorted((s.details["candidate_id"], round(s.quantity, 6)) for s in result.synergies
                  if s.in_plan and "candidate_id" in s.details)
    solver = result.solver
    fingerprint = hashlib.sha256(json.dumps([plan, solver.get("objective_eur")]).encode()).hexdigest()[:12]
    return {
        "gen": gen, "n": n, "workers": workers, "generate_s": t_gen, "match_s": t_match, "write_s": t_write,
        "end_to_end_s": t_match + t_write, "rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "status": solver.get("status"), "gap": solver.get("gap"), "worst_status": solver.get("worst_status"),
        "worst_gap": solver.get("worst_gap"), "objective_eur": solver.get("objective_eur"),
        "largest_binaries": solver.get("largest_binaries"), "methods": solver.get("components_by_method"),
        "synergies": len(result.synergies), "json_mb": out.stat().st_size / 1e6, "fingerprint": fingerprint,
        "companies": result.companies, "candidates": result.candidates,
    }


def run_case(gen: str, n: int, workers: int, mem_gb: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, __file__, "--one", gen, str(n), str(workers), str(Path(tmp) / "out.json")]

        def limit() -> None:
            lim = int(mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (lim * 3, lim * 3))  # address space (Python/OR-Tools reserve much)

        proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=limit, cwd=ROOT)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            return {"gen": gen, "n": n, "workers": workers, "error": tail[:200]}
        return json.loads(proc.stdout.strip().splitlines()[-1])


def _f(v: Any, d: int = 2) -> str:
    return "—" if v is None else f"{v:.{d}f}"


def report(rows: list[dict[str, Any]], base: dict[str, Any], load: str) -> str:
    b = base.get("end_to_end_s") or 0.0
    lines = [
        "# Scale benchmark",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/bench_scale.py` on {platform.machine()} "
        f"({os.cpu_count()} cores shared with other work, load average {load}). Whole `match` runs (candidates, "
        "valuation, pooling, optimiser, explanations, ranking) then the compact synergy JSON streamed to a file; "
        "one subprocess per run; generation not timed. *× base*: time over the baseline measured in the same "
        f"run (even generator, {base.get('n', 0):,} flows: {_f(b)} s). *Gap*: the plan against the sum of the "
        "components' bounds (LP relaxation, tightened by SCIP where it ran); *worst*: the worst component's "
        "status and gap. *Same plan*: every repeat gave the same fingerprint. *Dask* rows: a local cluster "
        "of 1 or 2 single-threaded worker processes (candidates by geographic partition, optimiser by "
        "component; pooling stays in the calling process); their peak RSS is the calling process's only.",
        "",
        "| generator | flows | workers | end to end (s) | × base | match (s) | write (s) | peak RSS (GiB) | status "
        "| gap | worst component | largest binaries | same plan | fingerprint | synergies |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---|---|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['gen']} | {r['n']:,} | {r['workers'] or 1} | failed: {r['error']} |"
                         + " |" * 11)
            continue
        lines.append(
            f"| {r['gen']} | {r['n']:,} | {r['workers'] or 1}{' (Dask)' if r['workers'] else ''} "
            f"| {_f(r['end_to_end_s'])} | {_f(r['end_to_end_s'] / b if b else None)} | {_f(r['match_s'])} "
            f"| {_f(r['write_s'])} | {_f(r['rss_gib'])} | {r['status']} | {r['gap'] * 100:.3f} % "
            f"| {r['worst_status']} {r['worst_gap'] * 100:.2f} % | {r['largest_binaries']:,} "
            f"| {r.get('same', '—')} | `{r['fingerprint']}` | {r['synergies']:,} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--one":
        gen, n, workers, out = argv[1], int(argv[2]), int(argv[3]), Path(argv[4])
        print(json.dumps(one(gen, n, workers, out)))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 100_000])
    ap.add_argument("--generators", nargs="+", default=["even", "dense"])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--repeat-up-to", type=int, default=100_000, help="largest size run --repeats times")
    ap.add_argument("--dask", type=int, nargs="*", default=[], help="sizes also run on 1 then 2 local Dask workers")
    ap.add_argument("--mem-limit-gb", type=float, default=8.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.md")
    args = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    base: dict[str, Any] = {}
    for n in sorted(args.sizes):
        for gen in args.generators:
            runs = [run_case(gen, n, 0, args.mem_limit_gb) for _ in range(args.repeats if n <= args.repeat_up_to else 1)]
            ok = [r for r in runs if "error" not in r]
            row = min(ok, key=lambda r: r["end_to_end_s"]) if ok else runs[0]
            if ok:
                row["same"] = ("yes" if len({r["fingerprint"] for r in ok}) == 1 else "NO") if len(ok) > 1 else "—"
            if not base and gen == "even" and ok:
                base = row
            rows.append(row)
            print(json.dumps(row), flush=True)
        if n in args.dask:
            for gen in args.generators:
                for workers in (1, 2):
                    row = run_case(gen, n, workers, args.mem_limit_gb)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    load = f"{os.getloadavg()[0]:.1f}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(rows, base, load), encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
