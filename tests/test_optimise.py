"""The optimiser on toys small enough to solve by hand: the plan must be the hand optimum."""

from __future__ import annotations

import pytest

from symbiose.candidates import generate_candidates
from symbiose.domain import Candidate, months_mask
from symbiose.optimise import WorkLimit, build_model, extract, link_capacity, solve
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


def _grid(n: int = 6):
    cands = [cand(f"S{i}", f"D{j}", 5.0 + (i * 7 + j * 3) % 11, 100, fixed=300.0 + 37 * ((i + j) % 5))
             for i in range(n) for j in range(n)]
    return cands, {f"S{i}": 100 for i in range(n)}, {f"D{j}": 120 for j in range(n)}


def test_plan_is_feasible_and_bounded():
    cands, supplies, demands = _grid()
    sol = solve(build_model(cands, supplies, demands), time_limit_s=5)
    assert sol.status in ("OPTIMAL", "FEASIBLE")
    assert sol.best_bound_eur >= sol.objective_eur - 1e-6
    # every supply and need constraint holds
    out: dict[str, float] = {}
    into: dict[str, float] = {}
    for cid, a in sol.allocations.items():
        s, d = cid.split(">")
        out[s] = out.get(s, 0) + a.quantity
        into[d] = into.get(d, 0) + a.quantity
    assert all(q <= 100 + 1e-6 for q in out.values()) and all(q <= 120 + 1e-6 for q in into.values())


# --------------------------------------------------------------------------
# relaxation plan, SCIP within a work limit, reports, determinism, layout
# --------------------------------------------------------------------------


def _partial_link_toy():
    # S (100 t) can feed D1 (need 100, 10 €/t, 300 € pipe) or D2 (need 60, 8 €/t, no pipe).
    # Relaxation: D1 is worth 10 − 300/100 = 7 €/t < 8, so 60 t go to D2 and 40 t to D1:
    # bound 60·8 + 40·7 = 760 €. Integer plans: pipe open, all 100 t to D1 → 700 €;
    # pipe closed → 480 €. Optimum 700 €.
    return [cand("S", "D1", 10.0, fixed=300), cand("S", "D2", 8.0)], {"S": 100}, {"D1": 100, "D2": 60}


def test_plan_from_relaxation_alone_reports_its_gap_to_the_bound():
    model = build_model(*_partial_link_toy(), work=WorkLimit(max_binaries=0))
    sol = solve(model)
    assert plan(sol) == {"S>D1": 100}
    assert sol.objective_eur == pytest.approx(700)
    assert sol.best_bound_eur == pytest.approx(760)
    comp = model.components[0]
    assert comp.method == "relaxation" and comp.status == "FEASIBLE"
    assert comp.gap == pytest.approx(60 / 760)
    report = model.solver_report()
    assert report["worst_status"] == "FEASIBLE" and report["worst_gap"] == pytest.approx(60 / 760, abs=1e-6)
    assert report["worst_component"]["binaries"] == 1


def test_scip_closes_the_gap_of_the_relaxation_plan():
    model = build_model(*_partial_link_toy())
    sol = solve(model)
    assert plan(sol) == {"S>D1": 100}
    assert sol.status == "OPTIMAL" and sol.best_bound_eur == pytest.approx(700, rel=1e-4)
    assert model.solver_report()["worst_status"] == "OPTIMAL"


def test_scip_improves_a_plan_the_repair_spoils():
    # S1 (100) feeds D2 (need 50, 6 €/t) and, by a 501 € pipe, D1 (need 100, 10 €/t);
    # S2 (100) feeds D1 by a 501 € pipe too. The relaxation shares D1 between both pipes
    # (each worth 10 − 501/100 €/t); the best plan opens one pipe only: 50·6 + 100·10 − 501 = 799 €.
    cands = [cand("S1", "D1", 10.0, fixed=501), cand("S1", "D2", 6.0), cand("S2", "D1", 10.0, fixed=501)]
    sol = solve(build_model(cands, {"S1": 100, "S2": 100}, {"D1": 100, "D2": 50}))
    assert sol.objective_eur == pytest.approx(799)
    assert sol.allocations["S1>D2"].quantity == pytest.approx(50)
    assert sum(a.quantity for cid, a in sol.allocations.items() if cid.endswith(">D1")) == pytest.approx(100)
    assert len([cid for cid in sol.allocations if cid.endswith(">D1")]) == 1


def test_same_plan_twice_and_whatever_the_order():
    cands, supplies, demands = _grid(9)
    first = solve(build_model(cands, supplies, demands))
    again = solve(build_model(cands, supplies, demands))
    shuffled = list(reversed(cands[::2])) + cands[1::2]
    other = solve(build_model(shuffled, supplies, demands))
    assert first.allocations == again.allocations == other.allocations
    assert first.objective_eur == again.objective_eur == other.objective_eur


def test_every_component_reports_status_and_gap():
    cands, supplies, demands = _grid(4)
    cands += [cand("A", "B", 3.0)]
    model = build_model(cands, {**supplies, "A": 5}, {**demands, "B": 5})
    solve(model)
    assert {c.kind for c in model.components} == {"LP", "MILP"}
    for comp in model.components:
        assert comp.status in ("OPTIMAL", "FEASIBLE") and 0 <= comp.gap < 0.01
        assert comp.best_bound_eur >= comp.objective_eur - 1e-6
    lp = next(c for c in model.components if c.kind == "LP")
    assert lp.method == "lp" and lp.gap == 0


def test_layout_names_the_ranges_build_and_extract_share():
    c1, c2 = cand("S", "D1", 10.0, 100, fixed=50), cand("S", "D2", 4.0, 100)
    model = build_model([c1, c2], {"S": 100}, {"D1": 30, "D2": 100}, outside_value={"S": 1.0})
    layout = model.components[0].layout
    assert [(b.name, b.start, b.stop) for b in layout.columns] == [("x", 0, 2), ("y", 2, 3), ("z", 3, 4)]
    assert [(b.name, b.start, b.stop) for b in layout.rows] == [("supply", 0, 1), ("demand", 1, 3), ("link", 3, 4)]
    assert layout.column_names() == ["x[S>D1]", "x[S>D2]", "y[S>D1]", "z[S]"]
    assert layout.row_names() == ["supply[S]", "demand[D1]", "demand[D2]", "link[S>D1]"]
    sol = solve(model)
    assert plan(sol) == {"S>D1": 30, "S>D2": 70}
    assert sol.allocations["S>D1"].net_benefit_eur == pytest.approx(300 - 50)
