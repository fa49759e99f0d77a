"""Mutualisation benchmark: real parks (Jaccard per expected group), routing, and scale.

Run ``python benchmarks/bench_pooling.py`` (``--sizes 100000 1000000``,
``--layouts even dense``, ``--baseline-src /work/main`` to measure the code of
another checkout in the same run, ``--taxonomy DIR``, ``--out FILE``).

It prints and writes to ``benchmarks/results/pooling.md``:

- *parks*: for every park of ``datasets/pooling/`` with an ``expected_groups.yaml``,
  the best Jaccard index between each real group and the mutualisations proposed
  for its family (groups at critical mass, or leads ``à compléter``), which kind
  matched, and the excluded companies found inside; with ``--baseline-src``, the
  same figures for the other checkout, measured in the same run;
- *one round of 50 stops* (:func:`symbiose.routing.solve_round`, several seeds):
  time, trips, km against lone return trips, and the gap to a 10 s search;
- *scale*: seeded synthetic territories of small poolable flows (1 to 4 per
  company, each a few per cent of its family's critical mass), ``even`` (parks of
  ~40 companies scattered over a region whose area grows with the number of flows)
  or ``dense`` (the same parks clustered around 18 industrial towns). Each size
  runs in a fresh process: time of the matcher's two pooling calls
  (``outside_values``, ``pool_synergies``), peak resident memory of the whole
  process (and of its routing workers), the growth of memory the pooling adds to
  the territory already in memory, groups, leads and savings; with
  ``--baseline-src``, the other checkout on the same territory, as ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import resource
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SRC_ENV = "BENCH_SYMBIOSE_SRC"  # the checkout whose symbiose a child process measures
sys.path.insert(0, os.environ.get(SRC_ENV) or str(ROOT))

import ortools  # noqa: E402

from symbiose.domain import Company, Diagnostic, Direction, Flow  # noqa: E402
from symbiose.pooling import outside_values, pool_synergies  # noqa: E402
from symbiose.routing import Stop, solve_round  # noqa: E402
from symbiose.taxonomy import Taxonomy, get_taxonomy, load_taxonomy  # noqa: E402
from symbiose.units import UnitError, to_yearly  # noqa: E402

SIZES = (100_000, 1_000_000)
LAYOUTS = ("even", "dense")
DENSE_SPREAD_KM = 12.0  # parks around a town: normal spread (km) at 100 000 flows, growing as n^(1/4)
# (lat, lon, weight): industrial towns of mainland France (town halls, rounded)
TOWNS = (
    (43.44, 4.94, 3.0), (49.49, 0.11, 3.0), (51.03, 2.38, 3.0), (45.76, 4.84, 2.5), (43.30, 5.37, 2.0),
    (50.63, 3.06, 2.0), (49.44, 1.10, 2.0), (48.58, 7.75, 1.5), (47.27, -2.21, 1.5), (43.60, 1.44, 1.5),
    (44.84, -0.58, 1.5), (45.19, 5.72, 1.0), (47.75, 7.34, 1.0), (43.41, -0.63, 1.0), (49.12, 6.18, 1.0),
    (45.78, 3.08, 1.0), (43.61, 3.88, 1.0), (48.11, -1.68, 1.0),
)
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


def synthetic_territory(n_flows: int, tax: Taxonomy, seed: int = 11, layout: str = "even") -> Diagnostic:
    """A seeded synthetic diagnostic of ``n_flows`` small poolable flows (``even`` or ``dense`` layout)."""
    rng = np.random.default_rng(seed)
    codes = _codes_by_family(tax)
    families = sorted(codes)
    ratios = {(f, c): _per_family_unit(tax, c, tax.families[f].unit) for f in families for c in codes[f]}
    pairs = [(f, c) for f in families for c in codes[f] if ratios[(f, c)]]
    n_companies = max(2, round(n_flows / 2.5))
    n_parks = max(1, round(n_companies / PARK_COMPANIES))
    cos0 = math.cos(math.radians(CENTRE[0]))
    if layout == "dense":
        weights = np.array([w for _, _, w in TOWNS])
        town = rng.choice(len(TOWNS), n_parks, p=weights / weights.sum())
        spread = DENSE_SPREAD_KM * (n_flows / 100_000) ** 0.25
        dlat, dlon = _offsets(rng, n_parks, spread, CENTRE[0])
        park_lat = np.array([TOWNS[t][0] for t in town]) + dlat
        park_lon = np.array([TOWNS[t][1] for t in town]) + dlon
    else:
        side_km = math.sqrt(n_flows / FLOWS_PER_KM2)
        park_lat = CENTRE[0] + rng.uniform(-side_km / 2, side_km / 2, n_parks) / KM_PER_DEG_LAT
        park_lon = CENTRE[1] + rng.uniform(-side_km / 2, side_km / 2, n_parks) / (KM_PER_DEG_LAT * cos0)
    park_of = rng.integers(0, n_parks, n_companies)
    dlat, dlon = _offsets(rng, n_companies, PARK_RADIUS_KM / 2, CENTRE[0])
    lat = (park_lat[park_of] + dlat).tolist()
    lon = (park_lon[park_of] + dlon).tolist()
    companies = [Company(f"C{i:07d}", f"Entreprise {i}", lat[i], lon[i]) for i in range(n_companies)]
    # flows drawn at once: family first (even mix of families), then one of its codes
    fam_of_pair = np.array([families.index(f) for f, _ in pairs])
    fam_pick = rng.integers(0, len(families), n_flows)
    per_family = [np.flatnonzero(fam_of_pair == k) for k in range(len(families))]
    pick = np.array([per_family[k][j % len(per_family[k])] if len(per_family[k]) else 0
                     for k, j in zip(fam_pick.tolist(), rng.integers(0, 1 << 30, n_flows).tolist())])
    who = rng.integers(0, n_companies, n_flows).tolist()
    share = rng.uniform(*SHARE_OF_CRITICAL_MASS, n_flows).tolist()
    flows: list[Flow] = []
    for k, (p, c, sh) in enumerate(zip(pick.tolist(), who, share)):
        family_id, code = pairs[p]
        family = tax.families[family_id]
        company = companies[c]
        flows.append(Flow(
            id=f"F{k:07d}", company_id=company.id,
            direction=Direction.OUT if family.kind == "collection" else Direction.IN, resource=code,
            quantity=float(sh * family.critical_mass.value / ratios[(family_id, code)]),
            unit=tax.resources[code].unit, lat=company.lat, lon=company.lon,
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
        rnd = solve_round(CENTRE, stops, 5.0, detour_factor=1.3)
        long = solve_round(CENTRE, stops, 5.0, time_limit_s=10.0, detour_factor=1.3, solutions_per_visit=0,
                           metaheuristic="guided", sector_visits=None)
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


def _fmt(v, digits=2) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)




# --------------------------------------------------------------------------
# Parks: best Jaccard per real group
# --------------------------------------------------------------------------

PARKS = ROOT / "datasets" / "pooling"


def _members(synergy) -> set[str]:
    return {p.company_id for p in (*synergy.suppliers, *synergy.receivers)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def score_parks(root: Path, tax: Taxonomy) -> list[dict]:
    """Per park and real group: best Jaccard over the proposals of its family, and what matched."""
    import yaml

    from symbiose.ingest import read_diagnostic

    rows = []
    for expected_path in sorted(root.glob("*/expected_groups.yaml")):
        park = expected_path.parent.name
        data = yaml.safe_load(expected_path.read_text(encoding="utf-8"))
        diagnostic = read_diagnostic(expected_path.parent / "diagnostic.csv", territory=park).diagnostic
        synergies, _ = pool_synergies(diagnostic, tax)
        for group in data.get("groups") or []:
            family = group.get("family")
            want = set(map(str, group["members"]))
            found = [s for s in synergies if family and s.details.get("family") == family]
            best = max(found, key=lambda s: (jaccard(want, _members(s)), getattr(s, "kind", "synergy") == "synergy"),
                       default=None)
            got = _members(best) if best else set()
            rows.append({
                "park": park, "family": family or "?", "kind": group.get("kind"), "members": len(want),
                "jaccard": jaccard(want, got) if best else 0.0,
                "found_as": getattr(best, "kind", "synergy") if best else None,
                "intruders": sorted(got & set(map(str, group.get("excluded") or []))),
                "missed": sorted(want - got), "extra": sorted(got - want),
            })
    return rows


# --------------------------------------------------------------------------
# Scale: one territory per process
# --------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the routing workers)."""
    return sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kB on Linux


def measure_scale(n_flows: int, layout: str, tax: Taxonomy) -> dict:
    """Pooling on one synthetic territory, in this process (run it in a fresh one)."""
    t0 = time.perf_counter()
    diagnostic = synthetic_territory(n_flows, tax, layout=layout)
    t_gen = time.perf_counter() - t0
    rss_before = _rss_mb()
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    values = outside_values(diagnostic, tax)
    t_outside = time.perf_counter() - t0
    t0 = time.perf_counter()
    synergies, _ = pool_synergies(diagnostic, tax)
    t_pool = time.perf_counter() - t0
    cpu = _cpu_s() - cpu0
    kept = [s for s in synergies if getattr(s, "kind", "synergy") == "synergy"]
    leads = [s for s in synergies if getattr(s, "kind", "synergy") != "synergy"]
    sizes = [len(_members(s)) for s in kept]
    return {
        "flows": n_flows, "layout": layout, "companies": len(diagnostic.companies),
        "generate_s": t_gen, "outside_s": t_outside, "pool_s": t_pool, "outside_flows": len(values),
        "synergies": len(kept), "leads": len(leads), "max_group": max(sizes, default=0),
        "savings_eur": sum(s.savings_eur for s in kept), "cpu_s": cpu,
        "routed": sum(1 for s in kept if s.route), "estimated": sum(1 for s in kept if s.details.get("estimated")),
        "rss_before_mb": rss_before, "peak_mb": _peak_mb(resource.RUSAGE_SELF),
        "children_peak_mb": _peak_mb(resource.RUSAGE_CHILDREN),
    }


def _child(args: list[str], src: str | None) -> dict:
    env = dict(os.environ)
    if src:
        env[SRC_ENV] = src
    out = subprocess.run([sys.executable, __file__, *args], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def render(parks: list[dict], parks_before: list[dict] | None, round_row: dict | None, scale: list[dict],
           tax_dir: str, load: tuple[float, ...], baseline_src: str | None) -> str:
    lines = [
        "# Pooling benchmark",
        "",
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, OR-Tools {ortools.__version__}; "
        f"taxonomy `{tax_dir}`; load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        "(other work on the machine slows every figure). Command: `python benchmarks/bench_pooling.py"
        + (f" --baseline-src {baseline_src}" if baseline_src else "") + "`"
        + (f"; *before* is the code of `{baseline_src}` measured in the same run." if baseline_src else "."),
        "",
        "## Parks: best Jaccard per real group",
        "",
        "For each real group of `datasets/pooling/*/expected_groups.yaml`, the best Jaccard index between "
        "its members and a mutualisation proposed for its family: a group at critical mass (`synergy`) or a "
        "lead below it (`to_complete`, « à compléter »). Target ≥ 0.6 for every group; excluded companies "
        "must stay out.",
        "",
    ]
    before = {(r["park"], r["family"], r["members"]): r for r in (parks_before or [])}
    head = "| park | family | kind | members | " + ("Jaccard before | " if parks_before is not None else "") + \
        "Jaccard after | found as | intruders | missed / extra |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for r in parks:
        b = before.get((r["park"], r["family"], r["members"]))
        cells = [r["park"], f"`{r['family']}`", r["kind"] or "", str(r["members"])]
        if parks_before is not None:
            cells.append(f"{b['jaccard']:.2f}" if b else "–")
        cells += [f"**{r['jaccard']:.2f}**" if r["jaccard"] < 0.6 else f"{r['jaccard']:.2f}",
                  r["found_as"] or "not found", ", ".join(r["intruders"]) or "–",
                  f"{', '.join(r['missed']) or '–'} / {', '.join(r['extra']) or '–'}"]
        lines.append("| " + " | ".join(cells) + " |")
    ok = sum(r["jaccard"] >= 0.6 for r in parks)
    summary = f"{ok} of {len(parks)} real groups at Jaccard ≥ 0.6"
    if parks_before is not None:
        summary += f" (before: {sum(r['jaccard'] >= 0.6 for r in parks_before)} of {len(parks_before)})"
    lines += ["", summary + ".", ""]
    if round_row:
        lines += [
            "## One round of 50 stops",
            "",
            "Stops within ~5 km of the depot, 0.05–0.4 t each, trucks of 5 t, detour factor 1.3; the engine's "
            "default search: a greedy descent capped at 20 solutions per visit (deterministic, no wall-clock "
            "limit), rounds of more than 40 visits routed by sectors swept around the depot; against a guided "
            "local search of the whole round stopped at 10 s.",
            "",
            "| stops | seeds | median s | max s | trips | km / lone return trips | gap to a 10 s search (mean / max) |",
            "|---:|---:|---:|---:|---|---:|---|",
            f"| {round_row['stops']} | {round_row['seeds']} | {round_row['median_s']:.3f} | {round_row['max_s']:.3f} "
            f"| {round_row['trips']} | {round_row['km_vs_lone']:.1%} "
            f"| {round_row['gap_vs_10s']:.2%} / {round_row['max_gap_vs_10s']:.2%} |",
            "",
        ]
    if scale:
        lines += [
            "## Scale",
            "",
            "One fresh process per territory. *pooling s*: `outside_values` + `pool_synergies` (routing in a "
            "process pool by default), wall clock; *CPU s*: the CPU time they took, routing workers included "
            "(on a shared machine the wall clock mostly measures the other jobs); *routed / estimated*: "
            "collection rounds routed, and estimated beyond the routing budget; "
            "*peak MB*: peak resident memory of the process, territory included "
            "(+ its routing workers); *pooling MB*: what the pooling adds to the territory already in memory "
            "(peak − resident before pooling). *before*: the baseline checkout on the same territory in the "
            "same run; ratios are after / before.",
            "",
            "| layout | flows | companies | synergies / leads | routed / estimated | largest group | pooling s "
            "| CPU s | peak MB (+ workers) | pooling MB | before s | before CPU s | before peak MB | CPU ratio "
            "| memory ratio |",
            "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in scale:
            b = r.get("before")
            t = r["outside_s"] + r["pool_s"]
            bt = b["outside_s"] + b["pool_s"] if b else None
            bc = b.get("cpu_s") if b else None
            lines.append(
                f"| {r['layout']} | {r['flows']:,} | {r['companies']:,} | {r['synergies']:,} / {r['leads']:,} "
                f"| {r['routed']:,} / {r['estimated']:,} "
                f"| {r['max_group']:,} | {t:.1f} | {r['cpu_s']:.1f} | {r['peak_mb']:,.0f} (+{r['children_peak_mb']:,.0f}) "
                f"| {r['peak_mb'] - r['rss_before_mb']:,.0f} "
                f"| {_fmt(bt, 1)} | {_fmt(bc, 1)} | {_fmt(b['peak_mb'], 0) if b else '–'} "
                f"| {_fmt(r['cpu_s'] / bc if bc else None)} | {_fmt(r['peak_mb'] / b['peak_mb'] if b else None)} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument("--baseline-src", default=None, help="another checkout to measure in the same run")
    parser.add_argument("--baseline-max", type=int, default=100_000, help="largest size measured on the baseline")
    parser.add_argument("--no-round", action="store_true")
    parser.add_argument("--taxonomy", default=None, help="taxonomy directory (default: the shipped one)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pooling.md"))
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # child: one scale run, JSON out
    parser.add_argument("--layout", default="even", help=argparse.SUPPRESS)
    parser.add_argument("--parks-json", action="store_true", help=argparse.SUPPRESS)  # child: park scores, JSON out
    args = parser.parse_args(argv)
    tax = load_taxonomy(Path(args.taxonomy)) if args.taxonomy else get_taxonomy()
    if args.one is not None:
        print(json.dumps(measure_scale(args.one, args.layout, tax)))
        return
    if args.parks_json:
        print(json.dumps(score_parks(PARKS, tax)))
        return
    load = os.getloadavg()
    extra = ["--taxonomy", args.taxonomy] if args.taxonomy else []
    parks = score_parks(PARKS, tax)
    parks_before = _child(["--parks-json"], args.baseline_src) if args.baseline_src else None
    print(f"parks: {sum(r['jaccard'] >= 0.6 for r in parks)} of {len(parks)} groups at Jaccard >= 0.6", flush=True)
    round_row = None if args.no_round else bench_round()
    scale = []
    for layout in args.layouts:
        for n in args.sizes:
            row = _child(["--one", str(n), "--layout", layout, *extra], None)
            if args.baseline_src and n <= args.baseline_max:
                row["before"] = _child(["--one", str(n), "--layout", layout], args.baseline_src)
            scale.append(row)
            print(f"{layout} {n:,}: pooling {row['outside_s'] + row['pool_s']:.1f} s, peak {row['peak_mb']:,.0f} MB"
                  + (f" (before {row['before']['outside_s'] + row['before']['pool_s']:.1f} s)" if "before" in row else ""),
                  flush=True)
    text = render(parks, parks_before, round_row, scale, args.taxonomy or "shipped", load, args.baseline_src)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
