"""Benchmark on documented real symbioses (``datasets/cases/*``).

For each case folder (``diagnostic.csv`` + ``expected.yaml``), the diagnostic
is read as an animator's file (free text classified), matched end to end, and
the proposed substitutions (in the order of the synergy JSON: plan, options
left out, minor leads) are compared with the exchanges that really took
place. With ``n`` real exchanges:

- ``top3n``: share of the real exchanges found among the first ``3n``
  proposals;
- ``topn``: share of the first ``n`` proposals that are real exchanges;
- each real exchange missing from the first ``3n``, with the reason read from
  the run: ``classification`` (no output of the supplier is read as the
  resource, or the receiver's inputs are ``unknown``), ``no rule`` (no link
  between any of the supplier's outputs of that resource and any of the
  receiver's inputs), ``distance`` / ``quality`` (a link exists but the pair
  is out of reach, or its temperature, concentration, hazard or months do not
  agree), ``valuation`` (a candidate exists but was worth nothing, so it was
  not proposed) or ``ranking`` (proposed, but below the first ``3n``).

A real exchange matches a proposal when the supplier and the receiver are
the same companies and the proposal's supply or demand code falls under the
expected code prefix (``resource``: the supply side, as the case's README
says; the demand side counts too, since a rule may read the same exchange
from the receiver's code). An exchange with only ``resource_text`` (a case not
yet coded) matches on the two companies alone; the report says so.

    python benchmarks/bench_cases.py                       # report, writes benchmarks/results/cases.md
    python benchmarks/bench_cases.py --code /tmp/before    # the same cases with another checkout's engine
    python benchmarks/bench_cases.py --taxonomy DIR        # another taxonomy data directory
    python benchmarks/bench_cases.py --json out.json       # figures per case, for comparisons
    python benchmarks/bench_cases.py --known               # the BELOW_TARGET table of tests/test_cases.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "datasets" / "cases"
RESULT = ROOT / "benchmarks" / "results" / "cases.md"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TARGET_TOP3N = 0.9
TARGET_TOPN = 0.6


@dataclass
class Miss:
    supplier: str
    receiver: str
    resource: str
    reason: str
    detail: str = ""


@dataclass
class CaseResult:
    case: str
    n: int
    found_top3n: int
    real_in_topn: int
    proposals: int
    coded: bool  # every exchange has a ``resource`` code
    misses: list[Miss] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def top3n(self) -> float:
        return self.found_top3n / self.n if self.n else 1.0

    @property
    def topn(self) -> float:
        return self.real_in_topn / self.n if self.n else 1.0

    @property
    def at_target(self) -> bool:
        return self.top3n >= TARGET_TOP3N - 1e-9 and self.topn >= TARGET_TOPN - 1e-9


def case_dirs(root: Path = CASES) -> list[Path]:
    """Case folders with a diagnostic and an ``expected.yaml``, by name."""
    return sorted(p for p in root.iterdir() if (p / "expected.yaml").exists() and (p / "diagnostic.csv").exists())


def expected_exchanges(case: Path) -> list[dict[str, Any]]:
    """The realised exchanges of a case (``studied`` ones are not counted)."""
    return list(yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8")).get("exchanges") or [])


def _under(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


def _is(s: Any, e: dict[str, Any]) -> bool:
    if s.suppliers[0].company_id != e["supplier"] or s.receivers[0].company_id != e["receiver"]:
        return False
    if "resource" not in e:
        return True
    demand = (s.details or {}).get("demand_resource", "")
    return _under(s.resource, e["resource"]) or _under(demand, e["resource"])


def _reason(e: dict[str, Any], diagnostic: Any, candidates: list[Any], proposals: list[Any], taxonomy: Any) -> Miss:
    """Why one real exchange is not among the first 3n proposals (see the module docstring)."""
    from symbiose.candidates import links_between

    miss = Miss(e["supplier"], e["receiver"], e.get("resource") or e.get("resource_text", ""), "")
    rank = next((i for i, s in enumerate(proposals, start=1) if _is(s, e)), None)
    if rank is not None:
        miss.reason, miss.detail = "ranking", f"proposed at rank {rank}"
        return miss
    mine = [c for c in candidates if c.supplier_id == e["supplier"] and c.receiver_id == e["receiver"]]
    mine = [c for c in mine if "resource" not in e or _under(c.supply_resource, e["resource"])
            or _under(c.demand_resource, e["resource"])]
    if mine:
        best = max(mine, key=lambda c: c.value_eur_per_unit)
        miss.reason = "valuation"
        miss.detail = (
            f"candidate {best.supply_resource} → {best.demand_resource} ({best.rule_id}) "
            f"worth {best.value_eur_per_unit:.2f} €/unit, {best.distance_km} km, not proposed"
        )
        return miss
    flows = diagnostic.flows
    outs = [f for f in flows if f.company_id == e["supplier"] and f.direction == "out"]
    if "resource" in e:
        outs = [f for f in outs if _under(f.resource, e["resource"])]
    ins = [f for f in flows if f.company_id == e["receiver"] and f.direction == "in" and f.resource != "unknown"]
    if not outs:
        got = sorted({f.resource for f in flows if f.company_id == e["supplier"] and f.direction == "out"})
        miss.reason, miss.detail = "classification", f"supplier's outputs read as {', '.join(got) or 'nothing'}"
        return miss
    if not ins:
        miss.reason, miss.detail = "classification", "receiver's inputs all unknown"
        return miss
    linked = [(o, i) for o in outs for i in ins if o.resource in taxonomy and i.resource in taxonomy
              and links_between(o.resource, i.resource, taxonomy)]
    if not linked:
        miss.reason = "no rule"
        miss.detail = f"{', '.join(sorted({o.resource for o in outs}))} → " + ", ".join(
            sorted({i.resource for i in ins})
        )
        return miss
    from symbiose.geo import haversine_km

    companies = diagnostic.companies_by_id
    o, i = linked[0]
    a, b = companies[o.company_id], companies[i.company_id]
    reach = max(lk.max_distance_km for lk in links_between(o.resource, i.resource, taxonomy))
    km = haversine_km(a.lat, a.lon, b.lat, b.lon) if None not in (a.lat, a.lon, b.lat, b.lon) else float("nan")
    if km > reach:
        miss.reason, miss.detail = "distance", f"{o.resource} → {i.resource}: {km:.1f} km > {reach:g} km"
    else:
        miss.reason, miss.detail = "quality", f"{o.resource} → {i.resource}: " + _refusal(o, i, taxonomy)
    return miss


def _refusal(o: Any, i: Any, taxonomy: Any) -> str:
    """Which condition of the links between two flows refuses them (hazard, months, temperature, concentration)."""
    from symbiose.candidates import links_between

    s_res, d_res = taxonomy.get(o.resource), taxonomy.get(i.resource)
    said = []
    links = links_between(o.resource, i.resource, taxonomy)
    if (o.hazardous or s_res.hazardous) and not (i.hazardous or d_res.hazardous) and not any(
        lk.hazardous_ok for lk in links
    ):
        said.append("hazardous supply, receiver does not accept hazard")
    if not (o.months & i.months & 0xFFF):
        said.append("no month in common")
    if o.temperature_c is not None and i.temperature_c is not None and o.temperature_c < i.temperature_c:
        said.append(f"{o.temperature_c:g} °C < {i.temperature_c:g} °C")
    return "; ".join(said) or "temperature or concentration (codes' ranges)"


def evaluate(case: Path, taxonomy: Any = None) -> CaseResult:
    """Match one case and score its proposals against its real exchanges."""
    from symbiose.candidates import generate_candidates
    from symbiose.domain import SynergyType
    from symbiose.ingest import read_diagnostic
    from symbiose.matching import match
    from symbiose.taxonomy import get_taxonomy
    from symbiose.valuation import value_candidates

    tax = taxonomy or get_taxonomy()
    expected = expected_exchanges(case)
    start = time.perf_counter()
    parsed = read_diagnostic(case / "diagnostic.csv", territory=case.name, taxonomy=tax)
    if not parsed.ok:
        raise ValueError(f"{case.name}: " + "; ".join(e.as_text() for e in parsed.errors[:5]))
    result = match(parsed.diagnostic, tax, now=NOW)
    seconds = time.perf_counter() - start
    subs = [s for s in result.synergies if s.type == SynergyType.SUBSTITUTION]
    n = len(expected)
    top = subs[: 3 * n]
    found = [e for e in expected if any(_is(s, e) for s in top)]
    real_in_topn = sum(1 for s in subs[:n] if any(_is(s, e) for e in expected))
    out = CaseResult(case.name, n, len(found), real_in_topn, len(subs), all("resource" in e for e in expected))
    out.seconds = seconds
    missed = [e for e in expected if not any(_is(s, e) for s in top)]
    if missed:
        candidates, _ = generate_candidates(parsed.diagnostic, tax)
        valued = value_candidates(candidates, parsed.diagnostic, tax)
        out.misses = [_reason(e, parsed.diagnostic, valued, subs, tax) for e in missed]
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def table(results: list[CaseResult], before: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The Markdown table of the report (with the ``before`` figures when given)."""
    head = "| case | n | in top 3n | real in top n | at target |"
    rule = "|---|---:|---:|---:|:---:|"
    if before:
        head = "| case | n | in top 3n before | in top 3n after | real in top n before | real in top n after | at target |"
        rule = "|---|---:|---:|---:|---:|---:|:---:|"
    lines = [head, rule]
    for r in results:
        mark = "yes" if r.at_target else "no"
        name = r.case if r.coded else f"{r.case} (pairs only)"
        if before:
            b = before.get(r.case)
            b3 = _pct(b["found_top3n"] / b["n"]) if b and b["n"] else "—"
            b1 = _pct(b["real_in_topn"] / b["n"]) if b and b["n"] else "—"
            lines.append(f"| {name} | {r.n} | {b3} | {_pct(r.top3n)} | {b1} | {_pct(r.topn)} | {mark} |")
        else:
            lines.append(f"| {name} | {r.n} | {_pct(r.top3n)} | {_pct(r.topn)} | {mark} |")
    return lines


def report(results: list[CaseResult], before: dict[str, dict[str, Any]] | None, note: str) -> str:
    lines = [
        "# Documented symbioses: real exchanges among the proposals",
        "",
        "`python benchmarks/bench_cases.py` on `datasets/cases/*`: each diagnostic read as an animator's",
        "file (free text classified), matched end to end; proposals = substitutions in the order of the",
        "synergy JSON (plan, options left out, minor leads). n = real exchanges of the case.",
        f"Target: ≥ {_pct(TARGET_TOP3N)} of the real exchanges in the top 3n and ≥ {_pct(TARGET_TOPN)} of the top n real.",
        "",
    ]
    if note:
        lines += [note, ""]
    lines += table(results, before)
    tot_n = sum(r.n for r in results)
    if tot_n:
        lines += [
            "",
            f"All cases: {_pct(sum(r.found_top3n for r in results) / tot_n)} in the top 3n, "
            f"{_pct(sum(r.real_in_topn for r in results) / tot_n)} of the top n real "
            f"({sum(r.at_target for r in results)} of {len(results)} cases at target).",
        ]
    misses = [(r.case, m) for r in results for m in r.misses]
    if misses:
        lines += ["", "## Real exchanges not in the top 3n", "", "| case | supplier → receiver | resource | reason | detail |",
                  "|---|---|---|---|---|"]
        for case, m in misses:
            lines.append(f"| {case} | {m.supplier} → {m.receiver} | `{m.resource}` | {m.reason} | {m.detail} |")
    return "\n".join(lines) + "\n"


def known_misses(results: list[CaseResult], root: Path = CASES) -> str:
    """The ``BELOW_TARGET`` literal of ``tests/test_cases.py`` for these results (to paste, then comment)."""
    lines = ["BELOW_TARGET: dict[str, dict[tuple[str, str], str]] = {"]
    for r in results:
        if r.at_target:
            continue
        gaps = {(e["supplier"], e["receiver"]): e.get("taxonomy_gap") for e in expected_exchanges(root / r.case)}
        lines.append(f'    "{r.case}": {{  # {r.found_top3n}/{r.n} in top 3n, {r.real_in_topn}/{r.n} of top n real')
        for m in r.misses:
            gap = gaps.get((m.supplier, m.receiver))
            lines.append(f'        ("{m.supplier}", "{m.receiver}"): "{m.reason}",' + (f"  # taxonomy gap: {gap}" if gap else ""))
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--taxonomy", type=Path, default=None, help="taxonomy data directory")
    ap.add_argument("--code", type=Path, default=None, help="checkout whose symbiose package to run")
    ap.add_argument("--json", type=Path, default=None, help="write the figures per case as JSON")
    ap.add_argument("--before", type=Path, default=None, help="JSON of a previous run, shown beside")
    ap.add_argument("--note", default="", help="a line written above the table")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--known", action="store_true", help="print the BELOW_TARGET dict of tests/test_cases.py")
    args = ap.parse_args()
    sys.path.insert(0, str(args.code.resolve() if args.code else ROOT))
    from symbiose.taxonomy import get_taxonomy

    tax = get_taxonomy(str(args.taxonomy) if args.taxonomy else None)
    results = []
    for case in case_dirs(args.cases):
        r = evaluate(case, tax)
        results.append(r)
        print(f"{r.case:16} n={r.n:2} top3n={_pct(r.top3n):>5} topn={_pct(r.topn):>5} "
              f"proposals={r.proposals} {r.seconds:.2f}s", file=sys.stderr)
    if args.known:
        print(known_misses(results, args.cases))
        return
    before = None
    if args.before:
        before = {d["case"]: d for d in json.loads(args.before.read_text(encoding="utf-8"))}
    text = report(results, before, args.note)
    print(text)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    if not args.no_write and not args.code:
        RESULT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
