"""Substitution rules of documented symbioses (issue 11), on the shipped taxonomy.

Each test builds the two flows as an animator would code them and checks the
outcome of the real engine: the rule found, its ratio, what partners must
verify, and that hazard and valuation stay where a practitioner would sign.
"""

from __future__ import annotations

import pytest

from symbiose.candidates import generate_candidates
from symbiose.taxonomy import get_taxonomy
from symbiose.valuation import value_candidate
from tests.conftest import company, diagnostic, flow


@pytest.fixture(scope="module")
def tax():
    return get_taxonomy()


def _pair(tax, supply, demand, km=1.0):
    d = diagnostic([company("A", 0.0), company("B", km)], [supply, demand])
    cands, _ = generate_candidates(d, tax)
    return cands, d


def test_surplus_steam_replaces_the_gas_of_the_receivers_boiler(tax):
    steam = flow("S", "A", "out", "energy.steam.high", 1000, unit="MWh", temperature_c=240)
    gas = flow("D", "B", "in", "fuel.natural_gas.boiler", 3000, unit="MWh")
    cands, _ = _pair(tax, steam, gas)
    (c,) = cands
    assert c.rule_id == "steam_for_boiler_gas"
    assert c.ratio == pytest.approx(1.15)
    assert any("condensats" in check for check in c.checks)
    # never worth more than the steam it is: gas avoided <= the steam's own purchase price
    v = value_candidate(c, steam, gas, tax)
    assert v.avoided_purchase_eur <= tax.get("energy.steam.high").purchase_price_eur.value


def test_plain_gas_meets_steam_only_as_a_lead_saying_the_boiler_use_must_be_checked(tax):
    # a combined-cycle plant or a kiln buys gas too: the need is not known to be a boiler's
    cands, _ = _pair(tax, flow("S", "A", "out", "energy.steam", 1000, unit="MWh"),
                     flow("D", "B", "in", "fuel.natural_gas", 3000, unit="MWh"))
    (c,) = cands
    assert c.rule_id == "steam_for_boiler_gas"
    assert any(check.startswith("besoin exact") and "chaudière" in check for check in c.checks)
    # no such rule towards coal (power plants, kilns, reductant)
    coal, _ = _pair(tax, flow("S", "A", "out", "energy.steam", 1000, unit="MWh"), flow("D", "B", "in", "fuel.coal", 500))
    assert coal == []


def test_steam_is_not_offered_beyond_its_pipe_reach(tax):
    far, _ = _pair(tax, flow("S", "A", "out", "energy.steam", 1000, unit="MWh"),
                   flow("D", "B", "in", "fuel.natural_gas.boiler", 3000, unit="MWh"), km=20)
    assert far == []


def test_hazardous_spent_solvent_goes_only_to_a_permitted_fuel_intake(tax):
    solvent = flow("S", "A", "out", "solvent.spent.non_halogenated", 100, hazardous=True)
    plain_coal, _ = _pair(tax, solvent, flow("D", "B", "in", "fuel.coal", 1000))
    assert plain_coal == []  # a coal buyer that does not declare hazardous intake
    permitted, _ = _pair(tax, solvent, flow("D", "B", "in", "fuel.coal", 1000, hazardous=True))
    assert [c.rule_id for c in permitted] == ["spent_solvent_for_kiln_fuel"]
    assert any("2770" in check for check in permitted[0].checks)
    # a liquid substitute fuel intake is a hazardous resource by itself
    cls, _ = _pair(tax, solvent, flow("D", "B", "in", "fuel.residue.liquid", 500))
    assert [c.rule_id for c in cls] == ["spent_solvent_for_liquid_substitute_fuel"]


def test_condensate_returns_as_process_water(tax):
    cands, _ = _pair(tax, flow("S", "A", "out", "water.condensate", 5000, unit="m3", temperature_c=90),
                     flow("D", "B", "in", "water.industrial", 8000, unit="m3"))
    (c,) = cands
    assert c.rule_id == "condensate_for_industrial_water" and c.max_quantity == 5000


def test_sawmill_sawdust_meets_a_boilers_chips_need(tax):
    cands, _ = _pair(tax, flow("S", "A", "out", "wood.sawdust", 2000), flow("D", "B", "in", "wood.chips", 5000), km=20)
    (c,) = cands
    assert c.rule_id == "sawdust_for_chips"
    assert any("humidité" in check for check in c.checks)


def test_lime_mud_feeds_a_calcium_carbonate_plant(tax):
    cands, _ = _pair(tax, flow("S", "A", "out", "mineral.spent_lime", 1000),
                     flow("D", "B", "in", "mineral.caco3_residue.precipitated", 800))
    assert [c.rule_id for c in cands] == ["lime_mud_for_precipitated_carbonate"]
