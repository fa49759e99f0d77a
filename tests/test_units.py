"""Yearly normalisation of diagnostic quantities (pint + taxonomy factors)."""

import math
from dataclasses import replace

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


def test_counts_people_write_are_counts_and_keep_what_they_count(tax):
    from symbiose.units import count_noun

    guard = tax.get("service.security")
    for written, noun in [("contrat", "contract"), ("Contrats annuels", "contract"), ("places", "place"),
                          ("berceaux", "place"), ("extincteurs", "extinguisher"), ("kits", "kit"),
                          ("passages", "passage"), ("heures", "service_hour"), ("salariés", "person")]:
        assert count_noun(written) == noun
        assert to_yearly(3, normalise_unit(written), "year", guard).quantity == pytest.approx(3.0)
    assert count_noun("u") is None and count_noun("t") is None
    with pytest.raises(UnitError, match="contrat, site, place"):
        normalise_unit("brouettes")


def test_a_count_of_containers_becomes_tonnes_through_the_size_the_row_states(tax):
    from symbiose.units import counted_in, stated_size, to_yearly_stated

    assert stated_size("bac de 660 L collecté(s) par semaine") == pytest.approx((0.66, "m3"))
    assert stated_size("rotations de benne 30 m³ par mois") == pytest.approx((30.0, "m3"))
    assert stated_size("24 appareils par an, ~25 kg pièce") == pytest.approx((0.025, "t"))
    assert stated_size("gardiennage de nuit") is None
    assert counted_in("28 extincteurs") == "extinguisher" and counted_in("heures de surveillance") == "service_hour"
    mixed = tax.get("waste.mixed_ordinary")
    weekly_bins = to_yearly_stated(3, "u", "week", mixed, "bac de 660 L", bulk_density_t_per_m3=0.08)
    assert weekly_bins.unit == "t"
    density = mixed.density_t_per_m3.value if mixed.density_t_per_m3 else 0.08  # the resource's own, else the bulk one
    assert weekly_bins.quantity == pytest.approx(3 * 0.66 * density * 52.1775, rel=1e-3)
    plain = replace(mixed, density_t_per_m3=None)
    assert to_yearly_stated(3, "u", "week", plain, "bac de 660 L", bulk_density_t_per_m3=0.08).quantity == \
        pytest.approx(3 * 0.66 * 0.08 * 52.1775, rel=1e-3)
    assert to_yearly_stated(3, "u", "week", plain, "bac de 660 L") is None  # no density: no guess
    assert to_yearly_stated(3, "t", "week", mixed, "bac de 660 L") is None  # not a count
    assert to_yearly_stated(3, "u", "week", mixed, "DIB en mélange") is None  # no size stated


def test_import_reads_the_bins_of_the_notes_instead_of_dropping_the_row():
    from symbiose.ingest import read_diagnostic

    csv = ("id_entreprise;entreprise;sens;ressource;quantite;unite;frequence;lat;lon;remarques\n"
           "a01;Menuiserie;sortant;DIB en mélange;3;u;semaine;47.5;-0.58;bac de 660 L collecté(s) par semaine\n")
    parsed = read_diagnostic(csv.encode("utf-8"), territory="t")
    assert parsed.ok, parsed.errors
    (flow,) = parsed.diagnostic.flows
    assert flow.resource.startswith("waste") and flow.unit == "t"
    assert 3 * 0.66 * 0.05 * 52 < flow.quantity < 3 * 0.66 * 0.3 * 52  # bins of loose waste: 50-300 kg/m3
    assert any(w.code == "unit.stated_size" and "taille indiquée" in w.message for w in parsed.warnings)
