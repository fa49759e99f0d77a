"""Valuation: € per unit moved, fixed link cost, tCO2e, tonnes diverted, sources."""

from __future__ import annotations

from dataclasses import replace

import pytest

from symbiose.candidates import generate_candidates
from symbiose.valuation import (
    FROM_FLOW,
    annuity_factor,
    pipe_link_cost_eur,
    tonnes_per_unit,
    value_candidate,
    value_candidates,
    with_value,
)
from tests.conftest import TEST_PARAMETERS, company, diagnostic, flow
from tests.test_candidates import random_territory

P = TEST_PARAMETERS


def one(tax, supply, demand, km=10.0):
    d = diagnostic([company("A"), company("B", km)], [supply, demand])
    (c,), _ = generate_candidates(d, tax)
    return c, value_candidate(c, supply, demand, tax), d


def test_trucked_material_with_taxonomy_prices(small_taxonomy):
    c, v, _ = one(small_taxonomy, flow("S", "A", "out", "paper", 100), flow("D", "B", "in", "paper", 100))
    km = c.distance_km
    transport = P["transport_eur_per_tkm"] * km * 1.0
    handling = P["handling_eur_per_t"] * 1.0
    assert v.avoided_disposal_eur == 90 and v.avoided_purchase_eur == 30
    assert v.transport_eur == pytest.approx(transport)
    assert v.handling_eur == pytest.approx(handling)
    assert v.value_eur_per_unit == pytest.approx(90 + 30 - transport - handling)
    assert v.fixed_cost_eur == 0 and not v.pipe
    # paper has no CO2 factors: only the truck counts, and the gap is reported
    assert v.co2_t_per_unit == pytest.approx(-P["transport_co2_kg_per_tkm"] * km / 1000)
    assert set(v.missing) == {"co2_virgin_kg", "co2_treatment_kg"}
    assert v.diverted_unit == "t" and v.diverted(100) == 100


def test_company_figures_beat_taxonomy_figures(small_taxonomy):
    c, v, _ = one(
        small_taxonomy,
        flow("S", "A", "out", "paper", 100, cost_eur_per_unit=-15.0),  # it sells it today
        flow("D", "B", "in", "paper", 100, cost_eur_per_unit=45.0),
    )
    assert v.avoided_disposal_eur == -15.0 and v.avoided_purchase_eur == 45.0
    assert v.value_eur_per_unit == pytest.approx(-15 + 45 - v.transport_eur - v.handling_eur)
    assert ("disposal_cost_eur", FROM_FLOW) in v.sources and ("purchase_price_eur", FROM_FLOW) in v.sources


def test_pipe_link_has_a_fixed_yearly_cost_and_no_transport(small_taxonomy):
    c, v, _ = one(
        small_taxonomy,
        flow("S", "A", "out", "energy.steam", 1000, unit="MWh", temperature_c=180),
        flow("D", "B", "in", "energy.heat", 450, unit="MWh", temperature_c=90),
        km=2.0,
    )
    r, n = P["discount_rate"], P["pipe_annuity_years"]
    annuity = r / (1 - (1 + r) ** -n)
    assert v.pipe and v.transport_eur == 0 and v.handling_eur == 0
    assert v.fixed_cost_eur == pytest.approx(P["pipe_cost_eur_per_m"] * c.distance_km * 1000 * annuity)
    assert v.avoided_purchase_eur == pytest.approx(50 * 0.9)  # heat price × ratio
    assert v.co2_t_per_unit == pytest.approx(200 * 0.9 / 1000)
    assert v.diverted_unit == "MWh" and v.diverted(500) == 500
    assert {"pipe_cost_eur_per_m", "pipe_annuity_years", "discount_rate"} <= {name for name, _ in v.sources}
    assert v.net_benefit_eur(0) == 0
    assert v.net_benefit_eur(400) == pytest.approx(45 * 400 - v.fixed_cost_eur)


def test_counted_items_use_their_unit_mass(small_taxonomy):
    c, v, _ = one(small_taxonomy, flow("S", "A", "out", "wood.pallet.euro", 2000, unit="unit"),
                  flow("D", "B", "in", "wood.pallet", 1500, unit="unit"))
    assert v.tonnes_per_unit == 0.025
    assert v.transport_eur == pytest.approx(P["transport_eur_per_tkm"] * c.distance_km * 0.025)
    assert v.handling_eur == pytest.approx(P["handling_eur_per_t"] * 0.025)
    assert v.co2_t_per_unit == pytest.approx((10 + 1 - P["transport_co2_kg_per_tkm"] * c.distance_km * 0.025) / 1000)
    assert v.diverted(1500) == pytest.approx(37.5)


def test_piped_water_counts_cubic_metres(small_taxonomy):
    _, v, _ = one(small_taxonomy, flow("S", "A", "out", "water.demineralised", 5000, unit="m3"),
                  flow("D", "B", "in", "water.demineralised", 5000, unit="m3"), km=1.0)
    assert v.pipe and v.diverted_unit == "m3" and v.diverted(10) == 10


def test_annuity_and_pipe_cost(small_taxonomy):
    assert annuity_factor(0.0, 20) == pytest.approx(1 / 20)
    assert annuity_factor(0.04, 20) == pytest.approx(0.0735817, rel=1e-5)
    assert pipe_link_cost_eur(1.0, small_taxonomy) == pytest.approx(500 * 1000 * annuity_factor(0.04, 20))
    with pytest.raises(ValueError):
        annuity_factor(0.04, 0)


def test_tonnes_per_unit_by_canonical_unit(small_taxonomy):
    t = small_taxonomy
    assert tonnes_per_unit(t.get("paper")) == 1.0
    assert tonnes_per_unit(t.get("energy.heat")) == 0.0
    assert tonnes_per_unit(t.get("water")) == 1.0
    assert tonnes_per_unit(t.get("wood.pallet.euro")) == 0.025  # inherited


def test_value_candidates_fills_the_candidates(small_taxonomy):
    supply = flow("S", "A", "out", "paper", 100)
    demand = flow("D", "B", "in", "paper", 100)
    c, v, d = one(small_taxonomy, supply, demand)
    (valued,) = value_candidates([c], d, small_taxonomy)
    assert valued == replace(c, value_eur_per_unit=v.value_eur_per_unit, co2_t_per_unit=v.co2_t_per_unit,
                             fixed_cost_eur=v.fixed_cost_eur)
    assert with_value(c, v) == valued


def test_value_candidates_on_columns_equals_one_by_one(small_taxonomy):
    """The vectorised valuation gives, bit for bit, what Valuer.value gives candidate by candidate:
    trucked and piped resources, taxonomy figures and companies' own costs mixed."""
    d = random_territory(7, 300)
    flows = [replace(f, cost_eur_per_unit=float(i % 40) - 5) if i % 3 == 0 else f for i, f in enumerate(d.flows)]
    d = replace(d, flows=tuple(flows))
    cands, _ = generate_candidates(d, small_taxonomy)
    by_id = {f.id: f for f in d.flows}
    assert len(cands) > 100 and any(c.supply_resource.startswith("energy") for c in cands)
    expected = [with_value(c, value_candidate(c, by_id[c.supply_flow_id], by_id[c.demand_flow_id], small_taxonomy))
                for c in cands]
    got = value_candidates(cands, d, small_taxonomy)
    assert got == expected
    assert any(c.fixed_cost_eur > 0 for c in got) and value_candidates([], d, small_taxonomy) == []


def test_heat_recovered_from_water_does_not_avoid_the_water_disposal():
    from symbiose.taxonomy import get_taxonomy

    tax = get_taxonomy()
    supply = flow("S", "A", "out", "water.cooling", 100_000, unit="m3", temperature_c=35, cost_eur_per_unit=2.0)
    need = flow("D", "B", "in", "energy.heat.low", 2_000, unit="MWh", temperature_c=30)
    d = diagnostic([company("A"), company("B", 1.0)], [supply, need])
    cands, _ = generate_candidates(d, tax)
    assert cands, "a cooling-water → low-heat rule links them"
    v = value_candidate(cands[0], supply, need, tax)
    assert v.avoided_disposal_eur == 0  # the supplier still discharges its 2 €/m³ water
    assert v.avoided_purchase_eur > 0


# --------------------------------------------------------------------------
# Figures a practitioner signs
# --------------------------------------------------------------------------


def _practitioner_taxonomy(tmp_path, **params):
    from tests.conftest import TEST_RESOURCES, TEST_RULES, fig, make_taxonomy

    extra = [
        {"code": "chemical.syrup", "label_fr": "Sirop", "label_en": "Syrup", "unit": "m3",
         "density_t_per_m3": fig(1.2), "disposal_cost_eur": fig(20)},
        {"code": "chemical.glucose", "label_fr": "Glucose sec", "label_en": "Dry glucose", "unit": "t",
         "purchase_price_eur": fig(400)},
        {"code": "agro", "label_fr": "Agro", "label_en": "Agro", "unit": "t"},
        {"code": "agro.bran", "label_fr": "Son", "label_en": "Bran"},  # no price, none inherited
        {"code": "agro.bran.wheat", "label_fr": "Son de blé", "label_en": "Wheat bran",
         "purchase_price_eur": fig(120)},
    ]
    rules = [*TEST_RULES, {"id": "R-syrup", "supply": "chemical.syrup", "demand": "chemical.glucose", "ratio": 5.0,
                           "label_fr": "sirop pour glucose", "source": "test-src"}]
    return make_taxonomy(tmp_path, resources=[*TEST_RESOURCES, *extra], rules=rules,
                         parameters={**P, **params})


def test_a_rule_never_claims_more_tonnes_than_a_m3_weighs(tmp_path):
    from symbiose.valuation import unit_ratio

    tax = _practitioner_taxonomy(tmp_path)
    syrup, glucose = tax.get("chemical.syrup"), tax.get("chemical.glucose")
    assert unit_ratio(syrup, glucose, 5.0) == pytest.approx(1.2)  # bounded by the density
    assert unit_ratio(syrup, glucose, 0.3) == pytest.approx(0.3)  # a plausible dry share is kept
    assert unit_ratio(tax.get("wood.pallet"), tax.get("wood")) == pytest.approx(0.025)  # counted items converted
    assert unit_ratio(tax.get("paper"), tax.get("energy.heat")) is None  # no conversion: refused
    c, v, _ = one(tax, flow("S", "A", "out", "chemical.syrup", 1000, unit="m3"),
                  flow("D", "B", "in", "chemical.glucose", 10_000))
    assert c.ratio == pytest.approx(1.2)
    assert v.avoided_purchase_eur == pytest.approx(400 * 1.2)  # per m3: at most its own weight of glucose


def test_prices_between_codes_of_one_family(tmp_path):
    tax = _practitioner_taxonomy(tmp_path)
    # the need's code has no price: the supply's own (the receiver would buy that material)
    _, v, _ = one(tax, flow("S", "A", "out", "agro.bran.wheat", 10), flow("D", "B", "in", "agro.bran", 10))
    assert v.avoided_purchase_eur == 120 and "purchase_price_eur" not in v.missing
    # a generic supply is never valued above its own code's price (its grade is not known)
    _, v, _ = one(tax, flow("S", "A", "out", "wood.pallet", 10, unit="unit"),
                  flow("D", "B", "in", "wood.pallet.euro", 10, unit="unit"))
    assert v.avoided_purchase_eur == tax.get("wood.pallet").purchase_price_eur.value


def test_an_own_cost_far_outside_its_reference_reads_as_a_unit_slip(tmp_path):
    tax = _practitioner_taxonomy(tmp_path, own_cost_max_factor=10)
    supply = flow("S", "A", "out", "paper", 100, cost_eur_per_unit=90_000.0)  # €/t typed as a yearly total
    demand = flow("D", "B", "in", "paper", 100, cost_eur_per_unit=45.0)
    c, v, d = one(tax, supply, demand)
    assert v.avoided_disposal_eur == 90 and v.avoided_purchase_eur == 45  # the reference, and the plausible own cost
    assert "own cost out of range: disposal_cost_eur" in v.missing
    (vc,) = value_candidates([c], d, tax)
    assert vc.value_eur_per_unit == pytest.approx(v.value_eur_per_unit)


def test_no_shipped_rule_claims_more_than_its_supply_holds():
    from symbiose.taxonomy import get_taxonomy
    from symbiose.valuation import unit_ratio

    tax = get_taxonomy()
    inflated = [
        (r.id, r.ratio, bound)
        for r in tax.rules
        if (bound := unit_ratio(tax.get(r.supply), tax.get(r.demand), r.ratio)) is not None and bound < r.ratio - 1e-9
    ]
    assert not inflated, f"rules whose ratio exceeds the mass or energy a unit of supply holds: {inflated}"
