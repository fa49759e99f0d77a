"""Yearly normalisation of diagnostic quantities (pint + taxonomy factors)."""

import math

import pytest

from symbiose.taxonomy import get_taxonomy
from symbiose.units import UnitError, normalise_period, normalise_unit, to_yearly


@pytest.fixture(scope="module")
def tax():
    return get_taxonomy()


def test_mass_and_periods(tax):
    pallets = tax.get("wood.pallet")
    assert to_yearly(500, "kg", "month", pallets).quantity == pytest.approx(6.0)
    assert to_yearly(1, "t", "year", pallets).quantity == pytest.approx(1.0)
    weekly = to_yearly(1, "t", "week", pallets).quantity
    assert 52.0 < weekly < 52.3  # pint's year is 365.25 days
    assert to_yearly(2, "t", "day", pallets).quantity == pytest.approx(2 * 365.25)
    assert to_yearly(7, "t", "once", pallets).quantity == pytest.approx(7)


def test_counted_items_use_unit_mass(tax):
    pallets = tax.get("wood.pallet")
    mass = pallets.unit_mass_t.value
    got = to_yearly(40, "palettes", "month", pallets)
    assert got.unit == "t"
    assert got.quantity == pytest.approx(40 * 12 * mass)


def test_energy_and_volume_without_resource():
    assert to_yearly(1000, "kWh", "year", None) .quantity == pytest.approx(1.0)
    assert to_yearly(1000, "kWh", "year", None).unit == "MWh"
    assert to_yearly(3.6, "GJ", "year", None).quantity == pytest.approx(1.0)
    assert to_yearly(2000, "L", "year", None).quantity == pytest.approx(2.0)


def test_count_without_unit_mass_is_refused(tax):
    heat = next(r for r in tax.resources.values() if r.unit == "MWh")
    with pytest.raises(UnitError):
        to_yearly(3, "palette", "year", heat)


@pytest.mark.parametrize("text,key", [("Kg", "kg"), (" T ", "t"), ("m³", "m3"), ("kWh", "kwh"), ("pièce", "piece"), ("U", "u")])
def test_unit_spellings(text, key):
    assert normalise_unit(text) == key


@pytest.mark.parametrize("text,period", [("", "year"), ("an", "year"), ("Mois", "month"), ("semaine", "week"), ("par jour", "day"), ("ponctuel", "once")])
def test_period_spellings(text, period):
    assert normalise_period(text) == period


def test_unknown_unit_and_period():
    with pytest.raises(UnitError):
        normalise_unit("brouettes")
    with pytest.raises(UnitError):
        normalise_period("parfois")
    assert not math.isnan(to_yearly(0, "t", "year", None).quantity)
