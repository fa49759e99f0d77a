"""Ranking of synergies (symbiose.ranking): the multi-criteria score and its factors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from symbiose.matching import match
from symbiose.ranking import FACTORS, merit, rank_synergies, weights_of
from symbiose.taxonomy import Figure
from tests.conftest import TEST_PARAMETERS, company, diagnostic, flow, make_taxonomy

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WEIGHTS = {"benefit": 0.25, "co2": 0.10, "confidence": 0.15, "link": 0.10, "figures": 0.15, "checked": 0.05,
           "proximity": 0.10, "coverage": 0.10}
LINKS = {"rank_link_same": 1.0, "rank_link_descendant": 0.9, "rank_link_rule": 0.7}


@pytest.fixture(scope="module")
def ranked_taxonomy(tmp_path_factory):
    params = {**TEST_PARAMETERS, **{f"rank_weight_{k}": v for k, v in WEIGHTS.items()}, **LINKS}
    return make_taxonomy(tmp_path_factory.mktemp("ranked"), parameters=params)


@pytest.fixture()
def park():
    """A small acid exchange both firms priced themselves; a larger paper one at reference prices."""
    return diagnostic(
        [company("A"), company("B", 1), company("C", 2), company("D", 3)],
        [
            flow("F-acid", "A", "out", "chemical.acid.hcl", 100, concentration_pct=33, cost_eur_per_unit=-20.0),
            flow("F-acid-need", "D", "in", "chemical.acid.hcl", 100, concentration_pct=33, cost_eur_per_unit=120.0),
            flow("F-paper", "B", "out", "paper", 1000),
            flow("F-paper-need", "C", "in", "paper", 1000, confidence=0.9),
        ],
    )


def test_weights_are_data_and_sum_to_one(ranked_taxonomy, small_taxonomy):
    w = weights_of(ranked_taxonomy)
    assert set(w) == set(FACTORS) and sum(w.values()) == pytest.approx(1.0)
    assert w["benefit"] == pytest.approx(0.25)
    assert weights_of(small_taxonomy) == {"benefit": 1.0}  # no rank_weight_*: by benefit alone


def test_factors_are_bounded_and_explain_the_order(park, ranked_taxonomy):
    r = match(park, ranked_taxonomy, now=NOW)
    acid, paper = r.synergies[0], r.synergies[1]
    assert acid.resource == "chemical.acid.hcl" and paper.resource == "paper"
    assert paper.savings_eur > 5 * acid.savings_eur  # the acid comes first although it is worth less
    fa, fp = acid.details["score_factors"], paper.details["score_factors"]
    for f in (fa, fp):
        assert set(f) <= set(FACTORS) and all(0.0 <= v <= 1.0 for v in f.values())
    assert fa["figures"] == 1.0 and fp["figures"] == 0.0  # both firms priced the acid, nobody the paper
    assert fa["checked"] == 1.0 and "checked" not in fp  # the acid's concentration was stated on both sides
    assert fp["benefit"] == 1.0 > fa["benefit"] > 0.5  # log scale: 10x less is not worthless
    assert fp["confidence"] == pytest.approx(0.9) and fa["confidence"] == 1.0
    assert fa["coverage"] == fp["coverage"] == 1.0 and fa["link"] == fp["link"] == 1.0
    assert 0.0 < fp["proximity"] < 1.0
    assert [s.score for s in r.synergies] == sorted((s.score for s in r.synergies), reverse=True)
    assert acid.score == pytest.approx(0.5 + 0.5 * merit(fa, weights_of(ranked_taxonomy)), abs=1e-4)


def test_by_benefit_alone_the_larger_exchange_comes_first(park, small_taxonomy):
    r = match(park, small_taxonomy, now=NOW)
    assert [s.resource for s in r.synergies[:2]] == ["paper", "chemical.acid.hcl"]


def test_plan_comes_before_a_better_left_out_synergy(park, ranked_taxonomy):
    r = match(park, ranked_taxonomy, now=NOW)
    plan = r.synergies[0]
    left_out = replace(plan, in_plan=False, reason="test", savings_eur=plan.savings_eur * 10)
    flows = {f.id: f for f in park.flows}
    again = rank_synergies([left_out, *r.synergies[1:]], flows, ranked_taxonomy)
    assert [s.in_plan for s in again] == sorted((s.in_plan for s in again), reverse=True)
    assert again[-1].reason == "test" and again[-1].score <= 0.5 < again[0].score
    assert [s.id for s in again] == [f"S-{i:04d}" for i in range(1, len(again) + 1)]


def test_a_missing_link_weight_leaves_the_factor_out(park, tmp_path):
    params = {**TEST_PARAMETERS, "rank_weight_benefit": 1.0, "rank_weight_link": 1.0}
    tax = make_taxonomy(tmp_path, parameters=params)  # no rank_link_* figures
    r = match(park, tax, now=NOW)
    assert all("link" not in s.details["score_factors"] for s in r.synergies)
    tax.parameters["rank_link_same"] = Figure(value=0.5, source="test-src")
    r = match(park, tax, now=NOW)
    assert all(s.details["score_factors"]["link"] == 0.5 for s in r.synergies)
