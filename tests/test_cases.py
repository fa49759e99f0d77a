"""Documented real symbioses (``datasets/cases``): the real exchanges must come
out among the engine's proposals.

Each case is read as an animator's file, matched end to end and scored by
``benchmarks/bench_cases.py`` (the same code as the benchmark report): share
of the ``n`` real exchanges among the first ``3n`` substitutions proposed, and
share of the first ``n`` that are real. Target: ≥ 90 % and ≥ 60 %.

A case that reaches the target must keep it. A case that does not is listed
in :data:`BELOW_TARGET` with each real exchange it misses and why (the
benchmark's reason: ``classification``, ``no rule``, ``quality``,
``distance``, ``valuation``, ``ranking``); the test fails on any new miss or a
changed reason, so the list stays the truth. A case whose every miss is a
taxonomy gap documented in its ``expected.yaml`` (no code for the resource
yet) is an expected failure (xfail) with that reason. After a taxonomy or
classifier change, ``python benchmarks/bench_cases.py --known`` prints the
table as it now is, to paste and comment.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_cases import TARGET_TOP3N, TARGET_TOPN, case_dirs, evaluate, expected_exchanges

CASES = case_dirs()

# case -> {(supplier, receiver): reason} for the real exchanges missed today.
# "classification": the supplier's output or the receiver's input is read as
# another resource (classifier, issue 10); "no rule": both read, but no
# substitution rule links them yet (taxonomy chains, issue 11 point 1, data);
# "quality": a rule links them, its conditions refuse the pair; "valuation":
# a candidate exists, worth too little to be proposed.
BELOW_TARGET: dict[str, dict[tuple[str, str], str]] = {
    "gladstone": {  # 3/6 in top 3n, 3/6 of top n real
        ("boyne", "cement"): "classification",  # taxonomy gap: no spent pot lining code
        ("gps", "boyne"): "classification",  # grid electricity read as a purchase (supply.energy.electricity)
        ("waste", "cement"): "quality",  # hazardous spent solvent: the kiln-fuel rule does not accept hazard
    },
    "guayama": {  # 2/3 in top 3n
        ("aes", "landfill"): "classification",  # the landfill's intake (ash for cover) unknown
    },
    "guitang": {  # 4/9 in top 3n, 2/9 of top n real
        ("gt_sugar", "gt_alcohol"): "classification",  # taxonomy gap: no molasses / sugar by-product code
        ("gt_sugar", "gt_paper"): "classification",  # taxonomy gap: no bagasse / crop-fibre code
        ("small_mills", "gt_paper"): "no rule",  # taxonomy gap: no bagasse / crop-fibre code
        ("gt_sugar", "gt_cement"): "classification",  # press mud read as ash / unknown
        ("gt_paper", "gt_caco3"): "no rule",  # spent lime -> CaCO3 plant: no rule
    },
    "handelo": {  # 4/8 in top 3n, 4/8 of top n real
        ("sawmill", "eon"): "no rule",  # sawdust -> the CHP's wood chips / waste fuel
        ("agroetanol", "farmers"): "classification",  # distillers' grains unknown
        ("agroetanol", "biogas"): "classification",  # thin stillage unknown
        ("bakery", "agroetanol"): "no rule",  # bread -> the ethanol plant's need read as steam
    },
    "harjavalta": {  # 4/5 in top 3n, 4/5 of top n real
        ("boliden", "nornickel"): "classification",  # nickel matte unknown
    },
    "kawasaki": {  # 4/7 in top 3n, 4/7 of top n real
        ("city", "jfe_plastics"): "classification",  # the plastics recycler's intake unknown
        ("jfe_plastics", "jfe_steel"): "no rule",  # plastics into blast-furnace reduction: no rule
        ("offices", "corelex"): "classification",  # the paper recycler's intake unknown
    },
    "lacq": {  # 2/4 in top 3n, 2/4 of top n real
        ("total", "sobegi"): "classification",  # residual gas read as a methanisation feedstock
        ("sobegi", "arkema"): "no rule",  # sulphur -> thiochemistry: the need read otherwise
    },
    "pomacle_bazancourt": {  # 4/11 in top 3n, 4/11 of top n real
        ("cristal", "cristanol"): "no rule",  # sugar syrups: the distillery's need read as steam
        ("chamtor", "cristanol"): "no rule",  # taxonomy gap: no starch by-product / hydrolysate code
        ("cristanol", "chamtor"): "no rule",  # taxonomy gap: no flour / milling product code
        ("chamtor", "soliance"): "classification",  # taxonomy gap: no glucose / sugar syrup code
        ("chamtor", "bioamber"): "no rule",  # taxonomy gap: no glucose / sugar syrup code
        ("cristanol", "soliance"): "classification",  # taxonomy gap: no ethanol / alcohol code
        ("cristal", "chamtor"): "no rule",  # beet condensates -> process water: no rule
    },
    "roussillon": {  # 3/5 in top 3n, 2/5 of top n real
        ("tredi", "osiris"): "classification",  # incinerator steam read as high-temperature heat
        ("bois", "suez_robin"): "classification",  # class B waste wood read as untreated wood / chips
    },
    "styria": {  # 8/12 in top 3n, 8/12 of top n real
        ("oil", "cement_r"): "no rule",  # used oil and tyres -> the kiln's alternative fuels (read as fuel oil)
        # FGD gypsum trucked 120-150 km: sold ~5 €/t, bought ~10 €/t, the truck costs 8-10 €/t; the 10 kgCO2e/t
        # of natural gypsum avoided does not pay the loss at the carbon shadow price, so it is not proposed
        ("power_v", "gypsum"): "valuation",
        ("power_m", "gypsum"): "valuation",
    },
}


def _gaps(case) -> dict[tuple[str, str], str]:
    return {(e["supplier"], e["receiver"]): e["taxonomy_gap"] for e in expected_exchanges(case) if e.get("taxonomy_gap")}


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_real_exchanges_among_the_proposals(case):
    r = evaluate(case)
    assert r.coded, f"{case.name}: every real exchange needs a resource code in expected.yaml"
    misses = {(m.supplier, m.receiver): m.reason for m in r.misses}
    known = BELOW_TARGET.get(case.name)
    if known is None:
        assert r.top3n >= TARGET_TOP3N and r.topn >= TARGET_TOPN, (
            f"{case.name}: {r.found_top3n}/{r.n} in the top 3n, {r.real_in_topn}/{r.n} of the top n real; "
            f"missed: {misses}"
        )
        return
    new = {k: v for k, v in misses.items() if known.get(k) != v}
    assert not new, f"{case.name}: misses not in BELOW_TARGET (or with another reason): {new}"
    if r.at_target:
        return  # better than listed: BELOW_TARGET can lose this case
    gaps = _gaps(case)
    if misses and all(k in gaps for k in misses):
        pytest.xfail(f"taxonomy gap: {'; '.join(sorted(set(gaps[k] for k in misses)))}")


def test_the_list_of_cases_below_target_names_real_cases():
    assert set(BELOW_TARGET) <= {p.name for p in CASES}
    assert len(CASES) >= 15
