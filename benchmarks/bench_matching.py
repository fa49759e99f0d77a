"""Matching benchmark: candidate generation and optimisation on synthetic territories.

Run ``python benchmarks/bench_matching.py`` (``--sizes 1000 5000``,
``--taxonomy DIR``, ``--out FILE``, ``--no-memory``). Territories are seeded
and synthetic: companies grouped in business parks (30 companies within
~1.5 km) scattered over a square region whose area grows with the number of
flows (constant density: 1 000 flows ≈ a département, 100 000 ≈ mainland
France), 2 to 6 flows per company drawn from the taxonomy's leaf codes,
yearly quantities log-normal around a typical size per unit.

For each size it prints and writes to ``benchmarks/results/matching.md``:
candidate generation with the spatial index, both with every compatible
pair within reach and with each flow's k nearest compatible partners (the
``auto`` setting of :func:`symbiose.matching.match` from 10 000 flows), each
against :func:`naive_candidates` (same rules, every pair; up to 20 000
flows) with a check that both give the same set; valuation, optimisation and
the whole ``match`` (best of 3 up to 5 000 flows), the pooling module's calls
against a baseline measured in the same run (every group routed, what the
outside values cost before they were estimated); growth against n·log n;
peak Python memory (tracemalloc, a second pass; OR-Tools' own C++ memory is
not seen by it).
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from territories import even_territory  # noqa: E402

from symbiose.candidates import generate_candidates, naive_candidates  # noqa: E402
from symbiose.domain import Diagnostic, Direction  # noqa: E402
from symbiose.matching import AUTO_NEAREST, AUTO_NEAREST_FROM_FLOWS, match  # noqa: E402
from symbiose.optimise import build_model, solve  # noqa: E402
from symbiose.taxonomy import Taxonomy, get_taxonomy, load_taxonomy  # noqa: E402
from symbiose.valuation import value_candidates  # noqa: E402

SIZES = (1_000, 5_000, 20_000, 100_000)
NAIVE_MAX = 20_000
MATCH_REPEATS = 3  # best of, up to 5 000 flows


def synthetic_territory(n_flows: int, taxonomy: Taxonomy, seed: int = 7) -> Diagnostic:
    """A seeded synthetic diagnostic of about ``n_flows`` flows (the even generator of ``territories.py``)."""
    return even_territory(n_flows, taxonomy, seed)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """The result and the shortest of ``repeats`` timings (other work on the machine only adds time)."""
    out, best = timed(fn)
    for _ in range(repeats - 1):
        best = min(best, timed(fn)[1])
    return out, best


def peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def optimise_step(diag: Diagnostic, cands: list) -> Any:
    supplies = {f.id: f.quantity for f in diag.flows if f.direction == Direction.OUT}
    demands = {f.id: f.quantity for f in diag.flows if f.direction == Direction.IN}
    model = build_model(cands, supplies, demands)
    return model, solve(model, time_limit_s=60.0)


def bench(n: int, tax: Taxonomy, memory: bool, k: int) -> dict[str, Any]:
    diag = synthetic_territory(n, tax)
    row: dict[str, Any] = {"n": n, "companies": len(diag.companies)}
    small = n <= NAIVE_MAX
    # candidate generation, every pair within reach (the default below AUTO_NEAREST_FROM_FLOWS flows)
    row["all"] = row["all_naive"] = row["all_same"] = row["all_cands"] = None
    if small:
        (cands_all, _), row["all"] = timed(lambda: generate_candidates(diag, tax))
        (naive_all, _), row["all_naive"] = timed(lambda: naive_candidates(diag, tax))
        row["all_same"] = naive_all == cands_all
        row["all_cands"] = len(cands_all)
        del naive_all, cands_all
    # candidate generation, the k nearest compatible partners of each flow
    (cands, _), row["near"] = timed(lambda: generate_candidates(diag, tax, nearest=k))
    row["near_cands"] = len(cands)
    row["near_naive"] = row["near_same"] = None
    if small:
        (naive, _), row["near_naive"] = timed(lambda: naive_candidates(diag, tax, nearest=k))
        row["near_same"] = naive == cands
        del naive
    valued, row["value"] = timed(lambda: value_candidates(cands, diag, tax))
    (model, sol), row["optimise"] = timed(lambda: optimise_step(diag, valued))
    row.update(in_model=len(model.candidates), components=sol.components, milp=model.milp_components,
               status=sol.status, gap=sol.gap, plan=len(sol.allocations))
    del model
    row["load"] = _load()
    result, row["match"] = best_of(lambda: match(diag, tax, time_limit_s=60.0), MATCH_REPEATS if n <= 5_000 else 1)
    row.update(_pooling_alone(diag, tax))
    row.update(match_cands=result.candidates, synergies=len(result.synergies), nearest=result.solver.get("nearest"))
    if memory:
        row["mem_gen"] = peak_mb(lambda: generate_candidates(diag, tax, nearest=k))
        row["mem_opt"] = peak_mb(lambda: optimise_step(diag, valued))
        row["mem_naive"] = peak_mb(lambda: naive_candidates(diag, tax, nearest=k)) if small else None
    return row


def _pooling_alone(diag: Diagnostic, tax: Taxonomy) -> dict[str, float | None]:
    """Times of the pooling module's two calls on the whole flows (part of ``match``), and the
    baseline measured in the same run: every group of the whole flows routed, which is what
    ``outside_values`` cost when it routed (it now estimates the rounds)."""
    try:
        from symbiose import pooling
    except ImportError:
        return {"outside": None, "pool": None, "routed": None}
    _, t_values = timed(lambda: pooling.outside_values(diag, tax))
    _, t_groups = timed(lambda: pooling.pool_synergies(diag, tax))
    _, t_routed = timed(lambda: pooling.plan_groups(diag, tax))
    return {"outside": t_values, "pool": t_groups, "routed": t_routed}


def _fmt(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _int(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


def _same(v: bool | None) -> str:
    return "—" if v is None else ("yes" if v else "NO")


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if not a or not b else f"{a / b:.2f}"


def report(rows: list[dict[str, Any]], tax_name: str, memory: bool, k: int) -> str:
    base = rows[0]
    lines = [
        "# Matching benchmark",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/bench_matching.py` on "
        f"{platform.machine()} ({platform.python_implementation()} {platform.python_version()}, "
        f"{_cpu_count()} cores, load average {_load()} when written); taxonomy: {tax_name}.",
        "Synthetic seeded territories: business parks of 30 companies over a region whose area grows "
        "with n (constant density, 100 000 flows ≈ mainland France), 2–6 flows per company. "
        "Times in seconds (wall clock, one run unless said otherwise).",
        "",
        "## Candidate generation: spatial index against all pairs",
        "",
        f"*within reach*: every compatible pair within the resource's distance (the default below "
        f"{AUTO_NEAREST_FROM_FLOWS:,} flows); *nearest {k}*: each flow's {k} nearest compatible partners "
        "(the default from there on). Both are checked against `naive_candidates` (same rules, every "
        "supply × demand pair) where it finishes.",
        "",
        f"| flows | within reach: candidates | indexed | naive | naive / indexed | same set "
        f"| nearest {k}: candidates | indexed | naive | naive / indexed | same set |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {_int(r['all_cands'])} | {_fmt(r['all'])} | {_fmt(r['all_naive'])} | "
            f"{_ratio(r['all_naive'], r['all'])} | {_same(r['all_same'])} | {r['near_cands']:,} | "
            f"{_fmt(r['near'])} | {_fmt(r['near_naive'])} | {_ratio(r['near_naive'], r['near'])} | "
            f"{_same(r['near_same'])} |"
        )
    lines += [
        "",
        "## Valuation, optimisation, whole `match`",
        "",
        "`match` runs everything a user gets: candidates (its `auto` setting), valuation, the pooling "
        "module's outside values (rounds estimated, no routing) and mutualisation groups (rounds with "
        "OR-Tools routing, once per group), the optimiser, explanations and ranking. *In model* to "
        f"*optimise*: the optimiser on the nearest {k} candidates, valued. `match` is the best of "
        f"{MATCH_REPEATS} runs up to 5 000 flows (one run above), with the load average before it. "
        "*Outside values* and *pooled rounds*: the pooling module's two calls timed alone on the whole "
        "flows; *routed baseline*: every group of the whole flows routed, measured in the same run, "
        "which is what the outside values cost when they routed (ratio: baseline / estimate).",
        "",
        "| flows | companies | in model | components (MILP) | status | plan | value | optimise | match | load "
        "| outside values | pooled rounds | routed baseline | baseline / estimate | match: nearest | candidates "
        "| synergies |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['companies']:,} | {r['in_model']:,} | {r['components']:,} ({r['milp']:,}) | "
            f"{r['status']} | {r['plan']:,} | {_fmt(r['value'])} | {_fmt(r['optimise'])} | {_fmt(r['match'])} | "
            f"{r['load']} | {_fmt(r['outside'])} | {_fmt(r['pool'])} | {_fmt(r['routed'])} | "
            f"{_ratio(r['routed'], r['outside'])} | "
            f"{r['nearest'] if r['nearest'] is not None else 'all'} | {r['match_cands']:,} | {r['synergies']:,} |"
        )
    lines += [
        "",
        "## Growth against n·log n",
        "",
        "Time divided by n·log n, relative to the smallest size (1.00 = grows as n·log n; the naive "
        "matcher grows as n²).",
        "",
        f"| flows | generate, nearest {k} | generate, within reach | naive | optimise | match |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    nlogn0 = base["n"] * math.log(base["n"])
    for r in rows:
        f = r["n"] * math.log(r["n"]) / nlogn0

        def rel(key: str, r: dict[str, Any] = r, f: float = f) -> str:
            if r[key] is None or not base[key]:
                return "—"
            return f"{r[key] / base[key] / f:.2f}"

        cells = [rel("near"), rel("all"), rel("near_naive"), rel("optimise"), rel("match")]
        lines.append(f"| {r['n']:,} | " + " | ".join(cells) + " |")
    if memory:
        lines += [
            "",
            "## Peak Python memory (tracemalloc, MB)",
            "",
            "Measured in a second pass; OR-Tools' own C++ memory is not seen by tracemalloc.",
            "",
            f"| flows | generate, nearest {k} | optimise | naive, nearest {k} |",
            "|---:|---:|---:|---:|",
        ]
        for r in rows:
            cells = [_fmt(r["mem_gen"], 1), _fmt(r["mem_opt"], 1), _fmt(r["mem_naive"], 1)]
            lines.append(f"| {r['n']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _load() -> str:
    import os

    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--nearest", type=int, default=AUTO_NEAREST, help="partners per flow in the nearest mode")
    ap.add_argument("--taxonomy", type=Path, default=None, help="taxonomy directory (default: the shipped one)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "matching.md")
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    ap.add_argument("--scale", action="store_true", help="end-to-end runs on the even and dense generators "
                    "(see bench_scale.py), written to benchmarks/results/scale.md")
    args, rest = ap.parse_known_args(argv)
    if args.scale:
        import bench_scale

        return bench_scale.main(rest)
    tax = load_taxonomy(args.taxonomy) if args.taxonomy else get_taxonomy()
    tax_name = str(args.taxonomy) if args.taxonomy else f"shipped ({len(tax.resources)} codes, {len(tax.rules)} rules)"
    memory = not args.no_memory
    rows = []
    for n in sorted(args.sizes):
        r = bench(n, tax, memory, args.nearest)
        rows.append(r)
        print(
            f"{n:>7} flows | within reach {_int(r['all_cands'])} cand. {_fmt(r['all'])}s naive {_fmt(r['all_naive'])}s "
            f"same={_same(r['all_same'])} | nearest {args.nearest}: {r['near_cands']:,} cand. {_fmt(r['near'])}s "
            f"naive {_fmt(r['near_naive'])}s same={_same(r['near_same'])} | value {_fmt(r['value'])}s "
            f"optimise {_fmt(r['optimise'])}s ({r['components']} comp., {r['milp']} MILP, {r['status']}) "
            f"| match {_fmt(r['match'])}s (load {r['load']}; outside values {_fmt(r['outside'])}s, "
            f"pooled rounds {_fmt(r['pool'])}s, routed baseline {_fmt(r['routed'])}s)"
            + (f" | mem gen {r['mem_gen']:.0f} MB opt {r['mem_opt']:.0f} MB" if memory else ""),
            flush=True,
        )
    text = report(rows, tax_name, memory, args.nearest)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
