"""Candidate generation: which outputs can feed which inputs, and the spatial index."""

from __future__ import annotations

import random

import pytest

from symbiose.candidates import generate_candidates, links_between, naive_candidates
from symbiose.domain import ALL_MONTHS, UNKNOWN_RESOURCE, Company, Diagnostic, Direction, Flow, months_mask
from tests.conftest import company, diagnostic, flow


def ids(cands):
    return [c.id for c in cands]


def pair(tax, supply: Flow, demand: Flow, sup_at=0.0, dem_at=1.0):
    d = diagnostic([company("A", sup_at), company("B", dem_at)], [supply, demand])
    return generate_candidates(d, tax)


def test_same_code_within_reach_gives_one_candidate(small_taxonomy):
    supply, demand = flow("S", "A", "out", "paper", 100), flow("D", "B", "in", "paper", 40)
    cands, issues = pair(small_taxonomy, supply, demand, dem_at=10)
    assert issues == []
    (c,) = cands
    assert c.id == "S>D"
    assert (c.supplier_id, c.receiver_id, c.rule_id, c.ratio) == ("A", "B", "same", 1.0)
    assert c.distance_km == pytest.approx(10.0, rel=1e-3)
    assert c.max_quantity == 40  # capped by the need
    assert c.unit == "t"


def test_distance_beyond_reach_gives_nothing(small_taxonomy):
    # paper has no max_distance_km of its own: the default parameter (30 km) applies
    near, _ = pair(small_taxonomy, flow("S", "A", "out", "paper", 100), flow("D", "B", "in", "paper", 40), dem_at=29)
    far, _ = pair(small_taxonomy, flow("S", "A", "out", "paper", 100), flow("D", "B", "in", "paper", 40), dem_at=31)
    assert ids(near) == ["S>D"] and far == []


def test_specific_and_generic_codes_meet_both_ways_saying_what_to_check(small_taxonomy):
    euro, pallet = "wood.pallet.euro", "wood.pallet"
    def units(supply_code, demand_code):
        return flow("S", "A", "out", supply_code, 100, unit="unit"), flow("D", "B", "in", demand_code, 50, unit="unit")

    down, _ = pair(small_taxonomy, *units(euro, pallet))
    up, _ = pair(small_taxonomy, *units(pallet, euro))
    assert [c.rule_id for c in down] == ["descendant"] and down[0].checks == ()
    assert [c.rule_id for c in up] == ["generic"]
    assert up[0].checks == ("qualité « palettes EUR »",)
    # a root stands for too much to be matched as a generic supply
    root, _ = pair(small_taxonomy, flow("S", "A", "out", "wood", 10), flow("D", "B", "in", "wood.pallet", 4, unit="unit"))
    assert root == []


def test_rule_links_steam_to_heat_with_its_ratio_and_temperature(small_taxonomy):
    hot, _ = pair(small_taxonomy, flow("S", "A", "out", "energy.steam", 1000, unit="MWh", temperature_c=180),
                  flow("D", "B", "in", "energy.heat", 450, unit="MWh", temperature_c=90))
    (c,) = hot
    assert (c.rule_id, c.ratio) == ("R-steam-heat", 0.9)
    assert c.max_quantity == pytest.approx(500.0)  # 450 MWh of heat need / 0.9
    assert "temperature" in c.reasons
    cold, _ = pair(small_taxonomy, flow("S", "A", "out", "energy.steam", 1000, unit="MWh", temperature_c=80),
                   flow("D", "B", "in", "energy.heat", 450, unit="MWh", temperature_c=90))
    assert cold == []
    unknown, _ = pair(small_taxonomy, flow("S", "A", "out", "energy.steam", 1000, unit="MWh"),
                      flow("D", "B", "in", "energy.heat", 450, unit="MWh", temperature_c=90))
    assert ids(unknown) == ["S>D"] and "temperature" not in unknown[0].reasons


def test_heat_of_the_same_code_must_be_hot_enough(small_taxonomy):
    warm, _ = pair(small_taxonomy, flow("S", "A", "out", "energy.heat", 100, unit="MWh", temperature_c=60),
                   flow("D", "B", "in", "energy.heat", 100, unit="MWh", temperature_c=70))
    assert warm == []


def test_concentration_tolerance_of_the_covering_rule(small_taxonomy):
    def acid(supply_pct, need_pct):
        return pair(small_taxonomy, flow("S", "A", "out", "chemical.acid.hcl", 100, concentration_pct=supply_pct),
                    flow("D", "B", "in", "chemical.acid.hcl", 100, concentration_pct=need_pct))[0]

    assert ids(acid(33, 32)) == ["S>D"]
    assert "concentration" in acid(33, 31.5)[0].reasons
    assert acid(33, 30) == []  # 3 points apart, tolerance 2


def test_same_code_without_a_rule_keeps_within_the_grade_spread(small_taxonomy):
    from dataclasses import replace

    tax = replace(small_taxonomy, rules=tuple(r for r in small_taxonomy.rules if r.id != "R-hcl"))

    def acid(supply_pct, need_pct):
        return pair(tax, flow("S", "A", "out", "chemical.acid.hcl", 100, concentration_pct=supply_pct),
                    flow("D", "B", "in", "chemical.acid.hcl", 100, concentration_pct=need_pct))[0]

    # the grade spans 10-37 %: a need accepts half that spread either side
    assert ids(acid(33, 25)) == ["S>D"]
    assert acid(5, 33) == []  # diluted acid does not replace a 33 % grade


def test_hazardous_supply_only_to_a_receiver_that_takes_hazard(small_taxonomy):
    bad = flow("S", "A", "out", "paper", 100, hazardous=True)
    refused, _ = pair(small_taxonomy, bad, flow("D", "B", "in", "paper", 50))
    accepted, _ = pair(small_taxonomy, bad, flow("D", "B", "in", "paper", 50, hazardous=True))
    assert refused == []
    assert ids(accepted) == ["S>D"] and "hazardous" in accepted[0].reasons
    # hazardous by taxonomy on the receiving side (chemicals): accepted without a flag
    hcl = "chemical.acid.hcl"
    chem, _ = pair(small_taxonomy, flow("S", "A", "out", hcl, 10), flow("D", "B", "in", hcl, 10))
    assert ids(chem) == ["S>D"]


def test_months_overlap_scales_the_quantity(small_taxonomy):
    spring_summer = months_mask(range(1, 7))  # 6 months
    later = months_mask(range(4, 13))  # 9 months
    cands, _ = pair(small_taxonomy, flow("S", "A", "out", "paper", 600, months=spring_summer),
                    flow("D", "B", "in", "paper", 900, months=later))
    (c,) = cands
    assert c.month_overlap == 3
    assert c.max_quantity == pytest.approx(min(600 * 3 / 6, 900 * 3 / 9))
    assert "months" in c.reasons
    none, _ = pair(small_taxonomy, flow("S", "A", "out", "paper", 600, months=months_mask([1, 2])),
                   flow("D", "B", "in", "paper", 900, months=months_mask([7, 8])))
    assert none == []


def test_a_company_never_matches_itself(small_taxonomy):
    d = diagnostic([company("A")], [flow("S", "A", "out", "paper", 10), flow("D", "A", "in", "paper", 10)])
    assert generate_candidates(d, small_taxonomy)[0] == []


def test_rule_distance_overrides_the_resource_reach(small_taxonomy):
    # used cooking oil → heat by rule (40 km), though heat itself reaches only 5 km
    cands, _ = pair(small_taxonomy, flow("S", "A", "out", "oil.cooking_used", 10),
                    flow("D", "B", "in", "energy.heat", 500, unit="MWh"), dem_at=30)
    (c,) = cands
    assert (c.rule_id, c.ratio) == ("R-oil-heat", 10.0)
    assert c.max_quantity == pytest.approx(10.0)  # the oil, not 500 / 10


def test_unusable_flows_are_skipped_with_a_warning_not_a_crash(small_taxonomy):
    d = Diagnostic(
        territory="t",
        companies=(company("A"), Company(id="B", name="Sans adresse")),
        flows=(
            flow("F1", "A", "out", UNKNOWN_RESOURCE, 10),
            flow("F2", "B", "in", "paper", 10),  # no location at all
            flow("F3", "A", "out", "paper", 0.0, at=(0, 0)),
            flow("F4", "A", "out", "no.such.code", 5, at=(0, 0)),
            flow("F5", "A", "out", "paper", 5, at=(0, 0), months=0),
        ),
    )
    cands, issues = generate_candidates(d, small_taxonomy)
    assert cands == []
    assert sorted(i.value for i in issues) == ["F1", "F2", "F3", "F4", "F5"]
    assert all("skipped" in i.message for i in issues)


def test_flow_without_coordinates_takes_its_company_place(small_taxonomy):
    d = Diagnostic(
        territory="t",
        companies=(company("A"), company("B", 3)),
        flows=(flow("S", "A", "out", "paper", 10), flow("D", "B", "in", "paper", 10)),
    )
    (c,), issues = generate_candidates(d, small_taxonomy)
    assert issues == [] and c.distance_km == pytest.approx(3.0, rel=1e-3)


def test_links_prefer_taxonomy_match_then_most_specific_rule(small_taxonomy):
    links = links_between("chemical.acid.hcl", "chemical.acid.hcl", small_taxonomy)
    assert [link.rule_id for link in links] == ["same", "R-hcl"]
    assert links[0].concentration_tolerance_pct == 2.0  # conditions of the covering rule
    assert links_between("paper", "wood", small_taxonomy) == []


CODES = [("paper", "t"), ("wood", "t"), ("wood.pallet", "unit"), ("wood.pallet.euro", "unit"),
         ("energy.heat", "MWh"), ("energy.steam", "MWh"), ("chemical.acid.hcl", "t"),
         ("oil.cooking_used", "t"), ("water.demineralised", "m3")]


def random_territory(seed: int, n_flows: int) -> Diagnostic:
    rng = random.Random(seed)
    companies = [company(f"C{i}", rng.uniform(-60, 60), rng.uniform(-60, 60)) for i in range(n_flows // 3)]
    flows = []
    for i in range(n_flows):
        code, unit = rng.choice(CODES)
        owner = rng.choice(companies)
        cluster = rng.random() < 0.3  # some flows share their company's exact place (ties)
        flows.append(
            Flow(
                id=f"F{i:04d}",
                company_id=owner.id,
                direction=rng.choice([Direction.OUT, Direction.IN]),
                resource=code,
                quantity=rng.uniform(1, 1000),
                unit=unit,
                lat=owner.lat if cluster else owner.lat + rng.uniform(-0.05, 0.05),
                lon=owner.lon if cluster else owner.lon + rng.uniform(-0.05, 0.05),
                months=ALL_MONTHS if rng.random() < 0.7 else months_mask(rng.sample(range(1, 13), 4)),
                temperature_c=rng.choice([None, 60.0, 90.0, 180.0]),
                concentration_pct=rng.choice([None, 30.0, 32.0, 33.0]),
                hazardous=rng.random() < 0.1,
            )
        )
    return Diagnostic(territory="random", companies=tuple(companies), flows=tuple(flows))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("nearest", [None, 1, 3])
def test_spatial_index_finds_exactly_what_all_pairs_find(small_taxonomy, seed, nearest):
    d = random_territory(seed, 400)
    indexed, issues_a = generate_candidates(d, small_taxonomy, nearest=nearest)
    naive, issues_b = naive_candidates(d, small_taxonomy, nearest=nearest)
    assert indexed == naive
    assert issues_a == issues_b
    assert len(indexed) > 50  # the territory is dense enough to test something


def test_nearest_keeps_each_flows_closest_partners(small_taxonomy):
    d = random_territory(9, 400)
    full, _ = generate_candidates(d, small_taxonomy)
    near, _ = generate_candidates(d, small_taxonomy, nearest=2)
    assert set(ids(near)) <= set(ids(full)) and len(near) < len(full)
    by_supply: dict[str, list[float]] = {}
    for c in full:
        by_supply.setdefault(c.supply_flow_id, []).append(c.distance_km)
    for c in full:  # every supply keeps its closest compatible demand
        if c.distance_km == min(by_supply[c.supply_flow_id]):
            assert c.id in set(ids(near))


def test_ids_are_deterministic_and_sorted(small_taxonomy):
    d = random_territory(5, 200)
    a, _ = generate_candidates(d, small_taxonomy)
    shuffled = Diagnostic(d.territory, d.companies, tuple(reversed(d.flows)))
    b, _ = generate_candidates(shuffled, small_taxonomy)
    assert a == b
    assert ids(a) == sorted(ids(a))
    assert all(c.id == f"{c.supply_flow_id}>{c.demand_flow_id}" for c in a)


# --------------------------------------------------------------------------
# Codes matched by meaning: generic and specific steam, rules through a generic code
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def steam_taxonomy(tmp_path_factory):
    from tests.conftest import TEST_RESOURCES, TEST_RULES, fig, make_taxonomy

    extra = [
        {"code": "energy.steam.high", "label_fr": "Vapeur haute pression (> 20 bar)", "label_en": "HP steam",
         "temperature_range_c": [215, 300], "purchase_price_eur": fig(70)},
        {"code": "energy.steam.low", "label_fr": "Vapeur basse pression (< 5 bar)", "label_en": "LP steam",
         "temperature_range_c": [100, 160]},
        {"code": "energy.cold", "label_fr": "Froid", "label_en": "Cold", "temperature_range_c": [-10, 15]},
    ]
    rules = [*TEST_RULES, {"id": "R-hp-cold", "supply": "energy.steam.high", "demand": "energy.cold", "ratio": 0.7,
                           "label_fr": "Vapeur HP pour machine à absorption", "source": "test-src"}]
    return make_taxonomy(tmp_path_factory.mktemp("steam"), resources=[*TEST_RESOURCES, *extra], rules=rules)


def _steam(tax, supply_code, demand_code, s_temp=None, d_temp=None):
    return pair(tax, flow("S", "A", "out", supply_code, 1000, unit="MWh", temperature_c=s_temp),
                flow("D", "B", "in", demand_code, 500, unit="MWh", temperature_c=d_temp))[0]


def test_generic_steam_meets_a_specific_need_and_says_what_to_check(steam_taxonomy):
    (c,) = _steam(steam_taxonomy, "energy.steam", "energy.steam.high")
    assert c.rule_id == "generic" and c.max_quantity == 500
    assert c.checks == ("qualité « vapeur haute pression (> 20 bar) »", "température")
    # a stated temperature below the grade's range rules it out; one within it leaves only the grade to check
    assert _steam(steam_taxonomy, "energy.steam", "energy.steam.high", s_temp=150) == []
    (hot,) = _steam(steam_taxonomy, "energy.steam", "energy.steam.high", s_temp=250, d_temp=230)
    assert hot.checks == ("qualité « vapeur haute pression (> 20 bar) »",)
    # a specific grade too cold for what the need states: its code's range says so even with no flow temperature
    assert _steam(steam_taxonomy, "energy.steam.low", "energy.steam", d_temp=200) == []
    (ok,) = _steam(steam_taxonomy, "energy.steam.high", "energy.steam", d_temp=200)
    assert ok.rule_id == "descendant" and ok.checks == ()


def test_a_rule_reaches_a_generic_supply_through_its_more_specific_code(steam_taxonomy):
    (c,) = _steam(steam_taxonomy, "energy.steam", "energy.cold")
    assert (c.rule_id, c.ratio) == ("R-hp-cold", 0.7)
    assert c.checks == ("qualité « vapeur haute pression (> 20 bar) »",)
    # held to the rule's grade: a generic steam stated at 150 °C is not HP steam
    assert _steam(steam_taxonomy, "energy.steam.low", "energy.cold") == []


def test_units_that_do_not_convert_are_refused_and_counted_items_converted(small_taxonomy, tmp_path):
    from tests.conftest import TEST_RESOURCES, make_taxonomy

    # pallets counted in units meet a need of wood in tonnes through the pallet's unit mass
    (c,), _ = pair(small_taxonomy, flow("S", "A", "out", "wood.pallet", 400, unit="unit"), flow("D", "B", "in", "wood", 5))
    assert c.ratio == pytest.approx(0.025) and c.max_quantity == pytest.approx(200)  # 5 t / 0.025 t
    # a child in m3 with no density under a parent in t: never valued per the wrong unit
    tax = make_taxonomy(tmp_path, resources=[*TEST_RESOURCES, {"code": "paper.pulp", "label_fr": "Pâte",
                                                               "label_en": "Pulp", "unit": "m3"}])
    assert pair(tax, flow("S", "A", "out", "paper.pulp", 10, unit="m3"), flow("D", "B", "in", "paper", 5))[0] == []


def test_a_flow_not_in_its_resources_unit_is_skipped_with_a_warning(small_taxonomy):
    cands, issues = pair(small_taxonomy, flow("S", "A", "out", "energy.heat", 100, unit="t"),
                         flow("D", "B", "in", "energy.heat", 100, unit="MWh"))
    assert cands == []
    assert [i.value for i in issues] == ["S"] and "expected the resource's canonical unit MWh" in issues[0].message


@pytest.mark.skipif(
    "checks_fr" not in getattr(__import__("symbiose.taxonomy", fromlist=["SubstitutionRule"]).SubstitutionRule,
                               "__dataclass_fields__", {}),
    reason="the taxonomy's rules carry no checks_fr yet (added by the taxonomy work of issue 11)",
)
def test_a_rules_quality_points_are_the_candidates_checks():
    from symbiose.taxonomy import get_taxonomy

    tax = get_taxonomy()
    rule = next(r for r in tax.rules if r.checks_fr and tax.get(r.supply).unit == tax.get(r.demand).unit == "t")
    cands, _ = pair(tax, flow("S", "A", "out", rule.supply, 100), flow("D", "B", "in", rule.demand, 50))
    (c,) = [c for c in cands if c.rule_id == rule.id]
    assert set(rule.checks_fr) <= set(c.checks)
