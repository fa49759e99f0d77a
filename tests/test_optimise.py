"""The optimiser on toys small enough to solve by hand: the plan must be the hand optimum."""

from __future__ import annotations

import pytest

from symbiose.candidates import generate_candidates
from symbiose.domain import Candidate, months_mask
from symbiose.optimise import build_model, extract, link_capacity, solve
from symbiose.valuation import value_candidates
from tests.conftest import company, diagnostic, flow


def cand(
    s: str, d: str, value: float, cap: float = 1e9, *, fixed: float = 0.0, ratio: float = 1.0, co2: float = 0.0
) -> Candidate:
    return Candidate(
        id=f"{s}>{d}", supply_flow_id=s, demand_flow_id=d, supplier_id=f"c{s}", receiver_id=f"c{d}",
        supply_resource="r", demand_resource="r", rule_id="same", distance_km=1.0, max_quantity=cap,
        unit="t", ratio=ratio, value_eur_per_unit=value, co2_t_per_unit=co2, fixed_cost_eur=fixed,
    )


def plan(sol):
    return {cid: round(a.quantity, 6) for cid, a in sol.allocations.items()}


def test_one_supply_two_receivers_the_better_one_first():
    sol = solve(build_model([cand("S", "D1", 10.0, co2=0.5), cand("S", "D2", 5.0)], {"S": 100}, {"D1": 80, "D2": 80}))
    assert sol.status == "OPTIMAL"
    assert plan(sol) == {"S>D1": 80, "S>D2": 20}
    assert sol.objective_eur == pytest.approx(80 * 10 + 20 * 5)
    assert sol.allocations["S>D1"].co2_avoided_t == pytest.approx(40)
    assert sol.gap == 0 and sol.components == 1


def test_fixed_cost_that_does_not_pay_closes_the_link():
    # 100 t at 10 €/t = 1 000 €/year against a 1 500 €/year pipe: not worth it
    assert plan(solve(build_model([cand("S", "D", 10.0, 100, fixed=1500)], {"S": 100}, {"D": 100}))) == {}
    opened = solve(build_model([cand("S", "D", 10.0, 100, fixed=400)], {"S": 100}, {"D": 100}))
    assert plan(opened) == {"S>D": 100}
    assert opened.objective_eur == pytest.approx(600)
    assert opened.allocations["S>D"].net_benefit_eur == pytest.approx(600)


def test_fixed_cost_decides_between_two_suppliers():
    # D needs 100. S1: 10 €/t with a 300 € link (700 net); S2: 6 €/t, no link cost (600).
    cands = [cand("S1", "D", 10.0, 100, fixed=300), cand("S2", "D", 6.0, 100)]
    model = build_model(cands, {"S1": 100, "S2": 100}, {"D": 100})
    assert model.milp_components == 1
    assert plan(solve(model)) == {"S1>D": 100}
    # with a 500 € link the cheaper supplier wins (500 < 600)
    cands[0] = cand("S1", "D", 10.0, 100, fixed=500)
    assert plan(solve(build_model(cands, {"S1": 100, "S2": 100}, {"D": 100}))) == {"S2>D": 100}


def test_binding_candidate_capacity():
    sol = solve(build_model([cand("S", "D", 10.0, cap=30)], {"S": 100}, {"D": 100}))
    assert plan(sol) == {"S>D": 30}


def test_rule_ratio_converts_supply_into_need():
    # 100 MWh of steam, 45 MWh of heat needed, 0.9 MWh of heat per MWh of steam: 50 MWh of steam move
    sol = solve(build_model([cand("S", "D", 40.0, ratio=0.9)], {"S": 100}, {"D": 45}))
    assert plan(sol) == {"S>D": 50}


def test_outside_option_beats_a_weaker_substitution():
    cands = [cand("S", "D", 10.0)]
    assert plan(solve(build_model(cands, {"S": 100}, {"D": 100}, outside_value={"S": 15.0}))) == {}
    assert plan(solve(build_model(cands, {"S": 100}, {"D": 100}, outside_value={"S": 5.0}))) == {"S>D": 100}
    # a pooled outlet for what the receiver cannot take
    split = solve(build_model(cands, {"S": 100}, {"D": 60}, outside_value={"S": 5.0}))
    assert plan(split) == {"S>D": 60}
    assert split.objective_eur == pytest.approx(60 * 10 + 40 * 5)


def test_months_partial_overlap_end_to_end(small_taxonomy):
    # paper 600 t over January–June, need 900 t over April–December: 3 shared months
    supply = flow("S", "A", "out", "paper", 600, months=months_mask(range(1, 7)))
    demand = flow("D", "B", "in", "paper", 900, months=months_mask(range(4, 13)))
    d = diagnostic([company("A"), company("B", 5)], [supply, demand])
    cands, _ = generate_candidates(d, small_taxonomy)
    valued = value_candidates(cands, d, small_taxonomy)
    sol = solve(build_model(valued, {"S": 600}, {"D": 900}))
    assert plan(sol) == {"S>D": pytest.approx(300)}
    assert sol.objective_eur == pytest.approx(300 * valued[0].value_eur_per_unit)


def test_worthless_candidates_do_not_enter_and_components_split():
    cands = [cand("S1", "D1", 10.0), cand("S2", "D2", 4.0), cand("S3", "D3", -2.0), cand("S4", "D4", 0.0)]
    model = build_model(cands, {"S1": 10, "S2": 10, "S3": 10, "S4": 10}, {"D1": 5, "D2": 5, "D3": 5, "D4": 5})
    assert sorted(model.candidates) == ["S1>D1", "S2>D2"]
    assert len(model.components) == 2 and model.milp_components == 0
    sol = solve(model)
    assert sol.components == 2 and plan(sol) == {"S1>D1": 5, "S2>D2": 5}


def test_never_paying_fixed_link_is_presolved_away_and_caps_tightened():
    c = cand("S", "D", 10.0, 1000, fixed=5000)  # at most 100 t can move: 1 000 € < 5 000 €
    assert link_capacity(c, {"S": 100}, {"D": 400}) == 100
    assert build_model([c], {"S": 100}, {"D": 400}).candidates == {}
    kept = build_model([cand("S", "D", 10.0, 1000, ratio=2.0)], {"S": 100}, {"D": 40}).candidates["S>D"]
    assert kept.max_quantity == 20  # 40 needed / ratio 2


def test_named_constraints_and_variables():
    c = cand("F-1", "F-2", 10.0, 100, fixed=100)
    model = build_model([c], {"F-1": 100}, {"F-2": 100}, outside_value={"F-1": 1.0})
    text = model.components[0].lp_text()
    # the LP format writes "-" and ">" as "_"
    assert "supply[F_1]: +1 x[F_1_F_2] +1 z[F_1]  <= 100" in text
    assert "demand[F_2]: +1 x[F_1_F_2]  <= 100" in text
    assert "link[F_1_F_2]: +1 x[F_1_F_2] -100 y[F_1_F_2]  <= 0" in text
    assert "Maximize" in text


def test_extract_reads_nothing_from_an_unsolved_model():
    model = build_model([cand("S", "D", 10.0)], {"S": 10}, {"D": 10})
    sol = extract(model)  # not solved yet
    assert sol.allocations == {} and sol.status == "FEASIBLE"


def test_time_limit_is_honoured_and_reported():
    cands = [cand(f"S{i}", f"D{j}", 5.0 + (i * 7 + j * 3) % 11, 100, fixed=300.0 + 37 * ((i + j) % 5))
             for i in range(6) for j in range(6)]
    sol = solve(build_model(cands, {f"S{i}": 100 for i in range(6)}, {f"D{j}": 120 for j in range(6)}), time_limit_s=5)
    assert sol.status in ("OPTIMAL", "FEASIBLE")
    assert sol.solve_seconds < 6
    assert sol.best_bound_eur >= sol.objective_eur - 1e-6
    # every supply and need constraint holds
    out: dict[str, float] = {}
    into: dict[str, float] = {}
    for cid, a in sol.allocations.items():
        s, d = cid.split(">")
        out[s] = out.get(s, 0) + a.quantity
        into[d] = into.get(d, 0) + a.quantity
    assert all(q <= 100 + 1e-6 for q in out.values()) and all(q <= 120 + 1e-6 for q in into.values())
