"""Mutualisation benchmark: grouping and routing on synthetic territories.

Run ``python benchmarks/bench_pooling.py`` (``--sizes 1000 10000``,
``--workers 2``, ``--taxonomy DIR``, ``--out FILE``). Territories are seeded
and synthetic: business parks of about 40 companies within ~1.5 km, scattered
over a region whose area grows with the number of flows (constant density,
as in ``bench_matching.py``); each company has 1 to 4 *small* flows drawn
from the member codes of the taxonomy's pooling families (outputs of
collection families, needs of purchase and service families), each a few
percent of its family's critical mass.

It prints and writes to ``benchmarks/results/pooling.md``:

- the routing of one group of 50 stops (:func:`symbiose.routing.solve_round`,
  several seeds): time, trips, km against 50 lone return trips, and the
  gap to a 10 s search;
- for each size: time to build the members and groups (cKDTree leader
  clustering), time to value every group (routing), in one process and in a
  process pool, against the outside values (rounds estimated, no routing)
  measured in the same run, the error of that estimate, the number of groups
  and their sizes, synergies kept, savings and CO2 found (truck-km and
  avoided treatment).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ortools  # noqa: E402

from symbiose.domain import Company, Diagnostic, Direction, Flow  # noqa: E402
from symbiose.pooling import find_groups, outside_values, plan_groups, pool_synergies  # noqa: E402
from symbiose.routing import Stop, estimate_round, solve_round  # noqa: E402
from symbiose.taxonomy import Taxonomy, get_taxonomy, load_taxonomy  # noqa: E402
from symbiose.units import UnitError, to_yearly  # noqa: E402

SIZES = (1_000, 10_000, 50_000)
FLOWS_PER_KM2 = 100_000 / 550_000  # 100 000 flows over mainland France's area
CENTRE = (46.5, 2.5)
PARK_COMPANIES = 40
PARK_RADIUS_KM = 1.5
SHARE_OF_CRITICAL_MASS = (0.02, 0.25)  # a flow's yearly quantity, as a share of its family's critical mass
KM_PER_DEG_LAT = 111.2


def _offsets(rng: np.random.Generator, n: int, sigma_km: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    north, east = rng.normal(0.0, sigma_km, n), rng.normal(0.0, sigma_km, n)
    return north / KM_PER_DEG_LAT, east / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))


def _codes_by_family(tax: Taxonomy) -> dict[str, list[str]]:
    """The resource codes of each family that a flow can carry (family_of agrees)."""
    out: dict[str, list[str]] = {}
    for code in sorted(tax.resources):
        fam = tax.family_of(code)
        if fam is not None and any(tax.is_under(code, m) for m in fam.members):
            out.setdefault(fam.id, []).append(code)
    return {k: v for k, v in out.items() if _family_usable(tax, k)}


def _family_usable(tax: Taxonomy, family_id: str) -> bool:
    fam = tax.families[family_id]
    needed = [fam.pooled_cost_eur_per_unit]
    if fam.kind == "collection":
        needed += [fam.cost_per_km_eur, fam.individual_trip_km]
    return all(x is not None for x in needed)


def _per_family_unit(tax: Taxonomy, code: str, family_unit: str) -> float | None:
    res = tax.resources[code]
    try:
        return to_yearly(1.0, res.unit, "year", replace(res, unit=family_unit)).quantity
    except UnitError:
        return None


def synthetic_territory(n_flows: int, tax: Taxonomy, seed: int = 11) -> Diagnostic:
    """A seeded synthetic diagnostic of about ``n_flows`` small poolable flows."""
    rng = np.random.default_rng(seed)
    codes = _codes_by_family(tax)
    families = sorted(codes)
    ratios = {(f, c): _per_family_unit(tax, c, tax.families[f].unit) for f in families for c in codes[f]}
    side_km = math.sqrt(n_flows / FLOWS_PER_KM2)
    n_companies = max(2, round(n_flows / 2.5))
    n_parks = max(1, round(n_companies / PARK_COMPANIES))
    park_lat = CENTRE[0] + rng.uniform(-side_km / 2, side_km / 2, n_parks) / KM_PER_DEG_LAT
    park_lon = CENTRE[1] + rng.uniform(-side_km / 2, side_km / 2, n_parks) / (
        KM_PER_DEG_LAT * math.cos(math.radians(CENTRE[0])))
    park_of = rng.integers(0, n_parks, n_companies)
    dlat, dlon = _offsets(rng, n_companies, PARK_RADIUS_KM / 2, CENTRE[0])
    companies = [
        Company(f"C{i:06d}", f"Entreprise {i}", float(park_lat[park_of[i]] + dlat[i]), float(park_lon[park_of[i]] + dlon[i]))
        for i in range(n_companies)
    ]
    flows: list[Flow] = []
    while len(flows) < n_flows:
        company = companies[int(rng.integers(0, n_companies))]
        family = tax.families[families[int(rng.integers(0, len(families)))]]
        code = codes[family.id][int(rng.integers(0, len(codes[family.id])))]
        ratio = ratios[(family.id, code)]
        if not ratio:
            continue
        share = rng.uniform(*SHARE_OF_CRITICAL_MASS)
        quantity = share * family.critical_mass.value / ratio
        direction = Direction.OUT if family.kind == "collection" else Direction.IN
        flows.append(Flow(
            id=f"F{len(flows):07d}", company_id=company.id, direction=direction, resource=code,
            quantity=float(quantity), unit=tax.resources[code].unit, lat=company.lat, lon=company.lon,
        ))
    return Diagnostic("bench", tuple(companies), tuple(flows))


def bench_round(n_stops: int = 50, seeds: int = 5) -> dict:
    """One group of ``n_stops`` within ~5 km of its depot, several seeds."""
    times, gaps, trips, ratios = [], [], [], []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        dlat, dlon = _offsets(rng, n_stops, 2.5, CENTRE[0])
        stops = [Stop(f"S{i}", CENTRE[0] + a, CENTRE[1] + b, float(rng.uniform(0.05, 0.4)))
                 for i, (a, b) in enumerate(zip(dlat, dlon))]
        rnd = solve_round(CENTRE, stops, 5.0, time_limit_s=1.0, detour_factor=1.3)
        long = solve_round(CENTRE, stops, 5.0, time_limit_s=10.0, detour_factor=1.3, solutions_per_visit=None)
        times.append(rnd.solve_seconds)
        trips.append(rnd.vehicles)
        ratios.append(rnd.km / rnd.individual_km())
        gaps.append(rnd.km / long.km - 1.0)
    return {
        "stops": n_stops, "seeds": seeds,
        "median_s": statistics.median(times), "max_s": max(times),
        "trips": f"{min(trips)}–{max(trips)}",
        "km_vs_lone": statistics.mean(ratios),
        "gap_vs_10s": statistics.mean(gaps), "max_gap_vs_10s": max(gaps),
    }


def bench_territory(n_flows: int, tax: Taxonomy, workers: int) -> dict:
    diagnostic = synthetic_territory(n_flows, tax)
    t0 = time.perf_counter()
    groups, _ = find_groups(diagnostic, tax)
    t_group = time.perf_counter() - t0
    t0 = time.perf_counter()
    plans, _ = plan_groups(diagnostic, tax)
    t_plan_1 = time.perf_counter() - t0
    t_plan_n = None
    if workers > 1:
        t0 = time.perf_counter()
        pooled, _ = plan_groups(diagnostic, tax, workers=workers)
        t_plan_n = time.perf_counter() - t0
        assert [p.savings_eur for p in pooled] == [p.savings_eur for p in plans], "process pool changed the result"
    t0 = time.perf_counter()
    synergies, _ = pool_synergies(diagnostic, tax, workers=workers)
    t_total = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = outside_values(diagnostic, tax)
    t_outside = time.perf_counter() - t0
    sizes = [len(g.members) for g in groups]
    collection = [p for p in plans if p.round is not None]
    route_s = [p.round.solve_seconds for p in collection]
    errors = _estimate_errors(collection, tax)
    kept = [p for p in plans if p.savings_eur > 0]
    return {
        "flows": n_flows,
        "companies": len(diagnostic.companies),
        "groups": len(groups),
        "collection_groups": len(collection),
        "mean_size": statistics.mean(sizes) if sizes else 0.0,
        "max_size": max(sizes, default=0),
        "group_s": t_group,
        "plan_s_1": t_plan_1,
        "plan_s_n": t_plan_n,
        "total_s": t_total,
        "outside_s": t_outside,
        "outside_flows": len(values),
        "max_round_s": max(route_s, default=0.0),
        "time_limited": sum(1 for p in collection if p.round.limit == "time"),
        "synergies": len(synergies),
        "savings_eur": sum(s.savings_eur for s in synergies),
        "co2_t": sum(s.co2_avoided_t for s in synergies),
        "co2_transport_t": sum(p.transport_co2_avoided_t for p in kept),
        "co2_treatment_t": sum(p.treatment_co2_avoided_t for p in kept),
        "estimate_err_mean": statistics.mean(errors) if errors else None,
        "estimate_err_p95": float(np.percentile(errors, 95)) if errors else None,
        "tonnes": sum(s.tonnes_diverted for s in synergies),
    }


def _estimate_errors(plans: list, tax: Taxonomy) -> list[float]:
    """|estimated − routed| / routed round km of every routed round (same stops, same depot)."""
    max_stops = tax.parameters.get("max_stops_per_round")
    out = []
    for p in plans:
        rnd, family = p.round, p.group.family
        capacity = family.vehicle_capacity.value if family.vehicle_capacity else math.inf
        est = estimate_round(rnd.depot, rnd.stops, capacity, detour_factor=rnd.detour_factor,
                             max_stops_per_trip=int(max_stops.value) if max_stops else None)
        if rnd.km > 0:
            out.append(abs(est.km / rnd.km - 1.0))
    return out


def _fmt(v, digits=2) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def render(round_row: dict, rows: list[dict], workers: int, tax_dir: str, load: tuple[float, ...]) -> str:
    lines = [
        "# Pooling benchmark",
        "",
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, OR-Tools {ortools.__version__}; "
        f"taxonomy `{tax_dir}`; load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        "(other work on the machine slows every figure). Command: `python benchmarks/bench_pooling.py`.",
        "",
        "## One round of 50 stops",
        "",
        "Stops within ~5 km of the depot, 0.05–0.4 t each, trucks of 5 t, detour factor 1.3; "
        "the search stops after 2 solutions per visit or 1 s.",
        "",
        "| stops | seeds | median s | max s | trips | km / lone return trips | gap to a 10 s search (mean / max) |",
        "|---:|---:|---:|---:|---|---:|---|",
        f"| {round_row['stops']} | {round_row['seeds']} | {round_row['median_s']:.3f} | {round_row['max_s']:.3f} "
        f"| {round_row['trips']} | {round_row['km_vs_lone']:.1%} "
        f"| {round_row['gap_vs_10s']:.2%} / {round_row['max_gap_vs_10s']:.2%} |",
        "",
        "## Whole territories",
        "",
        "Synthetic territories (seeded): parks of ~40 companies, 1–4 small flows each, groups solved "
        f"independently. `plan` is the valuation of every group (routing included), in one process "
        f"and in a pool of {workers} processes; `total` is `pool_synergies` end to end "
        f"(with {workers} workers). `outside_values` (the matcher calls it before the optimiser, then "
        "`pool_synergies` on what is left) forms the same groups but estimates their rounds "
        "(`routing.estimate_round`, no solver): *plan / outside* is the routed valuation measured in the "
        "same run against it, *estimate error* the mean and 95th percentile of |estimated − routed| / "
        "routed round km over every routed round.",
        "",
        "| flows | companies | groups (collections) | mean / max size | grouping s | plan s (1 proc) "
        f"| plan s ({workers} procs) | total s | outside_values s | plan / outside | estimate error "
        "| slowest round s | rounds cut by time | synergies | savings €/yr | tCO2e/yr |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        err = (f"{r['estimate_err_mean']:.1%} / {r['estimate_err_p95']:.1%}"
               if r["estimate_err_mean"] is not None else "–")
        lines.append(
            f"| {r['flows']:,} | {r['companies']:,} | {r['groups']:,} ({r['collection_groups']:,}) "
            f"| {r['mean_size']:.1f} / {r['max_size']} | {r['group_s']:.2f} | {r['plan_s_1']:.2f} "
            f"| {_fmt(r['plan_s_n'])} | {r['total_s']:.2f} | {r['outside_s']:.2f} "
            f"| {r['plan_s_1'] / r['outside_s']:.1f} | {err} | {r['max_round_s']:.3f} "
            f"| {r['time_limited']} "
            f"| {r['synergies']:,} | {r['savings_eur']:,.0f} | {r['co2_t']:,.1f} |"
        )
    lines += [
        "",
        "## CO2 of the mutualisations kept",
        "",
        "tCO2e/yr avoided by the synergies kept, split as in their `details`: *truck-km*, the "
        "kilometres saved by the rounds (negative when a round drives more than the lone trips); "
        "*treatment*, the usual treatment avoided by the pooled, sorted stream of a family that goes "
        "to recovery (the resource's `co2_treatment_kg`).",
        "",
        "| flows | t/yr pooled | truck-km tCO2e/yr | treatment tCO2e/yr | total tCO2e/yr |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['flows']:,} | {r['tonnes']:,.0f} | {r['co2_transport_t']:,.1f} | {r['co2_treatment_t']:,.1f} "
            f"| {r['co2_t']:,.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--taxonomy", default=None, help="taxonomy directory (default: the shipped one)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pooling.md"))
    args = parser.parse_args(argv)
    tax = load_taxonomy(Path(args.taxonomy)) if args.taxonomy else get_taxonomy()
    if not _codes_by_family(tax):
        raise SystemExit("the taxonomy has no pooling family with its figures: nothing to benchmark")
    load = os.getloadavg()
    round_row = bench_round()
    print(f"round of 50 stops: median {round_row['median_s']:.3f} s, max {round_row['max_s']:.3f} s, "
          f"gap to 10 s {round_row['gap_vs_10s']:.2%}", flush=True)
    rows = []
    for n in args.sizes:
        row = bench_territory(n, tax, args.workers)
        rows.append(row)
        print(f"{n:>7,} flows: {row['groups']:,} groups, grouping {row['group_s']:.2f} s, "
              f"plan {row['plan_s_1']:.2f} s (1 proc) / {_fmt(row['plan_s_n'])} s ({args.workers} procs), "
              f"total {row['total_s']:.2f} s, {row['synergies']:,} synergies", flush=True)
    text = render(round_row, rows, args.workers, args.taxonomy or "shipped", load)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
