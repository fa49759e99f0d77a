"""Backtest of the deductive pre-diagnostic on every declared diagnostic.

Run ``python benchmarks/bench_prediagnostic.py`` (``--extra DIR`` adds the
``cases/*/diagnostic.csv`` and ``pooling/*/diagnostic.csv`` of another
datasets folder, skipping names already in the repo; ``--no-visits`` skips
the visit-ranking part; ``--out FILE``). For each firm of each diagnostic,
the pre-diagnostic predicts its flows from its NAF code alone — the
diagnostics give no headcount, so every firm is predicted at the profiles'
"unknown size" (10 to 250 employees) — and compares with what it declared:

- **families in the top 5**: the declared resource families (taxonomy
  family, else the code's first two segments, with the direction) found among
  the 5 first predicted families (most probable first, the residual mixed
  bin last, as the pre-diagnostic lists them), over ``min(declared, 5)``; summed
  over firms (micro-average), per NAF division and overall. Target >= 70 %.
  Precision (the share of the 5 predicted that were declared) is given too.
- **range coverage**: how often a declared yearly quantity falls in the
  predicted [low, high] of the same family; the profiles state 80 %.
- **visit ranking**: the diagnostic's declared flows are matched to find the
  firms with a real synergy (plan); then every firm is treated as not yet
  visited, ranked from its probable flows alone, and we count how many of
  the firms with a real synergy rank in the first third of the list (a
  random order puts a third of them there: the baseline of the same run).
"""

from __future__ import annotations

import argparse
import glob
import math
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symbiose.domain import UNKNOWN_RESOURCE  # noqa: E402
from symbiose.prediagnostic import get_profiles, predict_firm, resource_family  # noqa: E402
from symbiose.prediagnostic.firms import Firm  # noqa: E402
from symbiose.prediagnostic.visits import rank_visits  # noqa: E402
from symbiose.services.imports import read_file  # noqa: E402
from symbiose.taxonomy import get_taxonomy  # noqa: E402

TOP = 5


def diagnostics(extra: list[Path]) -> list[tuple[str, Path]]:
    """Every declared diagnostic of the repo, then those of ``extra`` folders not already there."""
    found = [("demo", ROOT / "datasets" / "demo" / "diagnostic.csv")]
    for kind in ("cases", "pooling"):
        for p in sorted(glob.glob(str(ROOT / "datasets" / kind / "*" / "diagnostic.csv"))):
            found.append((f"{kind}/{Path(p).parent.name}", Path(p)))
    names = {n for n, _ in found}
    for folder in extra:
        for kind in ("cases", "pooling"):
            for p in sorted(glob.glob(str(folder / kind / "*" / "diagnostic.csv"))):
                name = f"{kind}/{Path(p).parent.name}"
                if name not in names:
                    found.append((name + " (extra)", Path(p)))
                    names.add(name)
    return found


def _groups(per_set: dict[str, list[int]]) -> list[str]:
    """Rows summing the repo's diagnostics and the extra (holdout) ones apart."""
    rows = []
    for label, keep in (
        ("**repo**", lambda n: "(extra)" not in n),
        ("**extra (holdout)**", lambda n: "(extra)" in n),
        ("business parks, repo (`pooling/`)", lambda n: n.startswith("pooling/") and "(extra)" not in n),
        ("business parks, holdout", lambda n: n.startswith("pooling/") and "(extra)" in n),
        ("heavy-industry symbioses, repo (`cases/`)", lambda n: n.startswith("cases/") and "(extra)" not in n),
        ("heavy-industry symbioses, holdout", lambda n: n.startswith("cases/") and "(extra)" in n),
    ):
        v = [sum(x[i] for n, x in per_set.items() if keep(n)) for i in range(6)]
        if v[5]:
            rows.append(f"| {label} | {v[5]} | **{100 * v[0] / max(v[1], 1):.1f} %** | {100 * v[0] / max(v[2], 1):.1f} % | "
                        f"{(f'{100 * v[3] / v[4]:.1f} % ({v[4]})') if v[4] else '—'} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", type=Path, action="append", default=[], help="another datasets folder (cases/, pooling/)")
    ap.add_argument("--no-visits", action="store_true", help="skip the visit-ranking backtest")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "prediagnostic.md")
    args = ap.parse_args()
    tax, profiles = get_taxonomy(), get_profiles()
    started = time.perf_counter()

    hits = defaultdict(int)       # division -> declared families found in the top 5
    wanted = defaultdict(int)     # division -> sum of min(declared families, 5)
    predicted = defaultdict(int)  # division -> predicted families (<= 5 per firm)
    firms_n = defaultdict(int)
    cover_in = cover_n = 0
    cover_by = defaultdict(lambda: [0, 0])
    no_profile = 0
    visit_rows = []
    per_set: dict[str, list[int]] = {}  # name -> [hits, wanted, predicted, covered, ranges, firms]
    sets = diagnostics(args.extra)
    for name, path in sets:
        parsed = read_file(path, territory="backtest")
        if parsed.errors:
            print(f"skipped {name}: {len(parsed.errors)} errors", file=sys.stderr)
            continue
        diag = parsed.diagnostic
        mine = per_set.setdefault(name, [0, 0, 0, 0, 0, 0])
        flows_of = defaultdict(list)
        for f in diag.flows:
            if f.resource != UNKNOWN_RESOURCE and f.quantity > 0:
                flows_of[f.company_id].append(f)
        probable = {}
        for c in diag.companies:
            firm = Firm(c.id, c.name, c.naf, 0, lat=c.lat, lon=c.lon)
            guesses, warnings = predict_firm(firm, profiles, tax)
            no_profile += bool(warnings)
            probable[c.id] = guesses
            declared = {(f.direction.value, resource_family(f.resource, tax)) for f in flows_of.get(c.id, [])}
            if not declared:
                continue
            division = (c.naf or "??")[:2]
            top: list[tuple[str, str]] = []
            for g in guesses:
                key = (g.direction, resource_family(g.resource, tax))
                if key not in top:
                    top.append(key)
                if len(top) == TOP:
                    break
            found = len(declared & set(top))
            hits[division] += found
            wanted[division] += min(len(declared), TOP)
            predicted[division] += len(top)
            firms_n[division] += 1
            mine[0] += found
            mine[1] += min(len(declared), TOP)
            mine[2] += len(top)
            mine[5] += 1
            ranges = {(g.direction, resource_family(g.resource, tax)): g for g in guesses}
            for f in flows_of.get(c.id, []):
                g = ranges.get((f.direction.value, resource_family(f.resource, tax)))
                if g is None or g.unit != f.unit:
                    continue
                inside = g.quantity_low <= f.quantity <= g.quantity_high
                cover_in += inside
                cover_n += 1
                cover_by[division][0] += inside
                cover_by[division][1] += 1
                mine[3] += inside
                mine[4] += 1
        if args.no_visits:
            continue
        from symbiose.matching import match

        real = match(diag, tax, time_limit_s=5).synergies
        with_synergy = {p.company_id for s in real if s.in_plan for p in (*s.suppliers, *s.receivers)}
        worth: dict[str, float] = defaultdict(float)  # each plan synergy's savings split among its firms
        for s in real:
            if s.in_plan:
                members = {p.company_id for p in (*s.suppliers, *s.receivers)}
                for m in members:
                    worth[m] += max(s.savings_eur, 0.0) / len(members)
        plan = rank_visits(list(diag.companies), [], probable, territory="backtest", time_limit_s=5)
        ranked = [i.company_id for i in plan.ranked()]
        third = ranked[: math.ceil(len(ranked) / 3)]
        in_third = len(with_synergy & set(third))
        total_worth = sum(worth[c] for c in ranked) or 1.0
        visit_rows.append((name, len(ranked), len(with_synergy & set(ranked)), in_third,
                           sum(worth[c] for c in third) / total_worth, len(third) / max(len(ranked), 1)))

    total_hits, total_wanted = sum(hits.values()), sum(wanted.values())
    total_pred = sum(predicted.values())
    seconds = time.perf_counter() - started
    lines = [
        "# Pre-diagnostic backtest",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `python benchmarks/bench_prediagnostic.py"
        + "".join(f" --extra {p}" for p in args.extra) + f"` ({seconds:.0f} s). "
        f"{len(sets)} declared diagnostics, {sum(firms_n.values())} firms with at least one classified flow. "
        "Each firm is predicted from its NAF code alone at the profiles' unknown size (10-250 employees): "
        "the diagnostics carry no headcount. How each figure is computed: see the benchmark's docstring.",
        "",
        "How the profiles met these diagnostics: the first version (sources only) gave 56 % on the repo's "
        "diagnostics; heavy-industry energy and by-product entries (EACEI, BREF) were then added after reading "
        "the repo's misses (59 %); the holdout was run once with that version (parks 68 %, overall 48 %), then "
        "once more after one rule, the residual mixed bin listed last (below). No figure was set from the holdout.",
        "",
        "## Overall",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| declared families among the top 5 predicted (recall@5) | {100 * total_hits / max(total_wanted, 1):.1f} % "
        f"({total_hits}/{total_wanted}) | ≥ 70 % |",
        f"| top-5 precision (predicted families that were declared) | {100 * total_hits / max(total_pred, 1):.1f} % | — |",
        f"| declared quantities inside the predicted range | {100 * cover_in / max(cover_n, 1):.1f} % ({cover_in}/{cover_n}) "
        f"| {100 * profiles.coverage:.0f} % (stated) |",
        f"| firms whose NAF code has no profile (common flows only) | {no_profile} | — |",
        "",
        "## Per diagnostic",
        "",
        "`(extra)`: diagnostics of the `--extra` folder, never used to set a profile figure (a holdout); "
        "the others are the repo's, which the profiles were checked against.",
        "",
        "| diagnostic | firms | recall@5 | precision@5 | range coverage |",
        "|---|---|---|---|---|",
        *[f"| {n} | {v[5]} | {100 * v[0] / max(v[1], 1):.0f} % | {100 * v[0] / max(v[2], 1):.0f} % | "
          f"{(f'{100 * v[3] / v[4]:.0f} % ({v[4]})') if v[4] else '—'} |" for n, v in per_set.items()],
        *_groups(per_set),
        "",
        "## Per NAF division",
        "",
        "| division | firms | recall@5 | precision@5 | range coverage |",
        "|---|---|---|---|---|",
    ]
    for d in sorted(firms_n, key=lambda d: (-firms_n[d], d)):
        cov = cover_by[d]
        lines.append(f"| {d} | {firms_n[d]} | {100 * hits[d] / max(wanted[d], 1):.0f} % | "
                     f"{100 * hits[d] / max(predicted[d], 1):.0f} % | "
                     f"{(f'{100 * cov[0] / cov[1]:.0f} % ({cov[1]})') if cov[1] else '—'} |")
    if visit_rows:
        tot_r = sum(r[2] for r in visit_rows)
        tot_t = sum(r[3] for r in visit_rows)
        lines += [
            "",
            "## Visit ranking",
            "",
            "Firms with a real synergy (declared flows, optimised plan) that the ranking from probable flows alone "
            "puts in the first third of the visit list, and the share of the plan's € savings (each synergy's split "
            "evenly among its firms) held by that first third; a random order puts about a third of both there "
            "(the `random` column: the first third's share of the firms). Most firms of these diagnostics have a "
            "synergy, so the count alone cannot beat a third by much; the € share says whether the big ones come first.",
            "",
            "| diagnostic | firms ranked | with a real synergy | in the first third | share | € share of the first third | random |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, n, r, t, money, rnd in visit_rows:
            lines.append(f"| {name} | {n} | {r} | {t} | {100 * t / max(r, 1):.0f} % | {100 * money:.0f} % | {100 * rnd:.0f} % |")
        mean_money = sum(r[4] for r in visit_rows) / len(visit_rows)
        mean_rnd = sum(r[5] for r in visit_rows) / len(visit_rows)
        lines.append(f"| **all** | {sum(r[1] for r in visit_rows)} | {tot_r} | {tot_t} | **{100 * tot_t / max(tot_r, 1):.0f} %** "
                     f"| **{100 * mean_money:.0f} %** (mean) | {100 * mean_rnd:.0f} % |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
