"""Behaviour of the free-text classifier (symbiose.classify)."""

from __future__ import annotations

import csv
import math
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbiose.classify import (
    LOW_CONFIDENCE,
    UNKNOWN_THRESHOLD,
    Classification,
    Classifier,
    get_classifier,
    normalise_key,
)
from symbiose.domain import UNKNOWN_RESOURCE
from symbiose.taxonomy import get_taxonomy
from symbiose.taxonomy.model import with_resources

LABELS = Path(__file__).resolve().parents[1] / "datasets" / "labels" / "classifier_labels.csv"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return get_classifier()


@pytest.fixture(scope="module")
def tax():
    return get_taxonomy()


def _valid(c: Classification, tax) -> None:
    assert isinstance(c, Classification)
    assert 0.0 <= c.confidence <= 1.0 and not math.isnan(c.confidence)
    assert c.code == UNKNOWN_RESOURCE or c.code in tax.resources
    assert len(c.alternatives) <= 3
    confs = [p for _, p in c.alternatives]
    assert confs == sorted(confs, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in confs)
    assert c.code not in [code for code, _ in c.alternatives]
    if c.code != UNKNOWN_RESOURCE:
        assert all(p <= c.confidence for p in confs)
        assert c.label == tax.resources[c.code].label_fr


def test_thresholds_are_ordered():
    assert 0.0 < UNKNOWN_THRESHOLD < LOW_CONFIDENCE < 1.0


def test_exact_code_is_certain(clf, tax):
    for code in tax.resources:
        c = clf.classify(code)
        assert (c.code, c.confidence, c.alternatives) == (code, 1.0, ())
    assert clf.classify("  Wood.Pallet ").code == "wood.pallet"


@pytest.mark.parametrize(
    "variants",
    [
        ("Déchets verts", "dechets verts", "DÉCHET VERT", "déchets  verts."),
        ("Huiles alimentaires usagées", "huile alimentaire usagee", "HUILES ALIMENTAIRES USAGÉES"),
        ("Métaux ferreux", "metaux ferreux", "métal ferreux"),
        ("Boues de STEP", "boue de step", "BOUES STEP"),
        ("Eau déminéralisée", "eau demineralisee", "eaux déminéralisées"),
    ],
)
def test_case_accents_plurals_do_not_change_the_answer(clf, variants):
    results = [clf.classify(v) for v in variants]
    assert results[0].code != UNKNOWN_RESOURCE
    assert {r.code for r in results} == {results[0].code}
    assert max(r.confidence for r in results) - min(r.confidence for r in results) < 0.05


def test_abbreviations_read_as_their_expansion(clf):
    assert clf.normalise("D3E").tokens == clf.normalise("DEEE").tokens
    assert clf.classify("D3E").code == clf.classify("déchets d'équipements électriques et électroniques").code
    hau = clf.classify("HAU")
    assert hau.code == clf.classify("huiles alimentaires usagées").code
    assert clf.classify("GRV").code == clf.classify("IBC").code


def test_dimensions_quantities_and_units_are_signals_not_words(clf):
    n = clf.normalise("Palettes 120x80 - 5 t/an, 60 °C, 33 %")
    assert n.dimensions_mm == (1200, 800)
    assert n.temperature_c == 60.0
    assert n.concentration_pct == 33.0
    assert not any(ch.isdigit() for t in n.tokens if not t.startswith("dim") for ch in t)
    assert clf.normalise("palette 1200 x 800 mm").dimensions_mm == (1200, 800)
    plain = clf.classify("palettes")
    for noisy in ("palettes 80x120", "palettes 1200x800", "palettes 3 t/an", "12 palettes par semaine"):
        assert clf.classify(noisy).code == plain.code


def test_the_most_specific_code_wins_when_the_text_says_more(clf, tax):
    base = clf.classify("palettes")
    euro = clf.classify("palettes EUR")
    assert base.code == "wood.pallet"
    assert euro.code != base.code and tax.is_under(euro.code, base.code)


def _heat_bands(tax):
    """Children of energy.heat with their own temperature band."""
    parent = tax.resources["energy.heat"]
    return [
        r
        for r in tax.resources.values()
        if r.parent == "energy.heat" and r.temperature_range_c and r.temperature_range_c != parent.temperature_range_c
    ]


def test_temperature_picks_the_heat_band(clf, tax):
    bands = _heat_bands(tax)
    assert len(bands) >= 2
    for band in bands:
        lo, hi = band.temperature_range_c
        mid = round((lo + hi) / 2)
        assert clf.classify(f"chaleur fatale {mid}°C").code == band.code
        assert clf.classify("chaleur fatale", temperature_c=mid).code == band.code
    assert clf.classify("chaleur fatale").code == "energy.heat"


def test_steam_stays_steam_whatever_the_temperature(clf, tax):
    for text in ("vapeur 180°C", "vapeur 60 °C", "vapeur 12 bar", "steam 250°C"):
        assert tax.is_under(clf.classify(text).code, "energy.steam"), text


def test_a_pressure_gives_the_steam_band(clf, tax):
    low, high = clf.classify("vapeur 2 bar").code, clf.classify("vapeur 40 bar").code
    assert low != high
    for code, bar in ((low, 2), (high, 40)):
        t = clf.vocabulary.saturation_c(bar)
        lo, hi = tax.resources[code].temperature_range_c
        assert lo <= t <= hi


def test_concentration_keeps_the_named_chemical(clf):
    c = clf.classify("acide chlorhydrique 33%")
    assert c.code == "chemical.acid.hcl" and c.confidence >= LOW_CONFIDENCE
    assert clf.classify("acide chlorhydrique", concentration_pct=33).code == "chemical.acid.hcl"


def test_a_purpose_or_origin_clause_does_not_name_the_resource(clf, tax):
    n = clf.normalise("chaleur pour le réseau urbain")
    assert n.tokens[: n.head] == ("chaleur",) and len(n.tokens) > n.head
    assert clf.normalise("chaleur fatale").head is None
    assert clf.classify("sulphur for sulphuric acid production").code == "chemical.sulphur"
    assert clf.classify("sulphuric acid").code == "chemical.acid.sulfuric"
    assert clf.classify("fly ash as cement constituent").code == "mineral.fly_ash"
    assert tax.is_under(clf.classify("surplus steam from sulphuric acid plant waste heat").code, "energy.steam")
    assert tax.is_under(clf.classify("chaleur pour le réseau urbain").code, "energy.heat")
    assert clf.classify("hydrogène coproduit de l'électrolyse").code == "gas.h2"


def test_direction_words_do_not_pull_towards_purchases(clf, tax):
    for text in ("district heating supply", "heat demand for space heating"):
        c = clf.classify(text)
        assert tax.is_under(c.code, "energy.heat") and c.confidence >= LOW_CONFIDENCE, (text, c)
    assert clf.classify("achat groupé d'électricité").code.startswith("supply.energy")


def test_ewc_code_moves_the_answer_to_the_codes_that_list_it(clf, tax):
    without = clf.classify("emballages")
    with_ewc = clf.classify("emballages", ewc="15 01 10*")
    assert with_ewc.code != without.code
    assert with_ewc.code in tax.codes_for_ewc("150110")
    oils = clf.classify("huiles usagées", ewc="130205")
    assert oils.code in tax.codes_for_ewc("130205")
    # the EWC code written inside the text counts the same
    assert clf.classify("huiles usagées 13 02 05").code == oils.code


def test_ewc_alone_still_ranks_its_codes(clf, tax):
    c = clf.classify("", ewc="160103")
    proposed = {c.code} | {code for code, _ in c.alternatives}
    assert proposed & set(tax.codes_for_ewc("160103"))


def test_naf_code_points_at_the_sector_resource(clf, tax):
    plain = clf.classify("huiles usagées")
    restaurant = clf.classify("huiles usagées", naf="56.10A")
    assert restaurant.code != plain.code
    hints = [h for a in tax.ancestors(restaurant.code) for h in tax.resources[a].naf_hints]
    assert any("5610A".startswith(h.replace(".", "")) for h in hints)


@pytest.mark.parametrize("text", ["", "   ", "divers", "Autres", "xxx", "?", "asdfgh qwerty", "n/a", "123", "déchets"])
def test_nonsense_is_unknown(clf, text):
    c = clf.classify(text)
    assert c.code == UNKNOWN_RESOURCE
    assert c.confidence < UNKNOWN_THRESHOLD


def test_unknown_keeps_its_best_guesses(clf, tax):
    c = clf.classify("déchets", ewc="150103")
    _valid(c, tax)
    if c.code == UNKNOWN_RESOURCE:
        assert all(code in tax.resources for code, _ in c.alternatives)


def test_classify_many_matches_classify_and_accepts_rows(clf):
    items = [
        "cartons bruns",
        {"text": "huiles usagées", "ewc": "130205"},
        ("chaleur fatale", None, None, 45.0, None),
        "cartons bruns",
    ]
    many = clf.classify_many(items)
    assert [c.code for c in many] == [
        clf.classify("cartons bruns").code,
        clf.classify("huiles usagées", ewc="130205").code,
        clf.classify("chaleur fatale", temperature_c=45.0).code,
        clf.classify("cartons bruns").code,
    ]
    assert many[0] == many[3]


def test_a_new_taxonomy_code_is_found_without_code_changes(tax):
    base = tax.resources["wood.pallet"]
    gizmo = replace(
        base, code="wood.pallet.gizmo", label_fr="Palettes gizmo", label_en="Gizmo pallets", synonyms=("gizmos",)
    )
    clf = Classifier(with_resources(tax, **{"wood.pallet.gizmo": gizmo}))
    assert clf.classify("Palettes Gizmo").code == "wood.pallet.gizmo"
    assert clf.classify("palettes").code == "wood.pallet"


def test_speed(clf):
    texts = [f"palettes bois lot {i}" for i in range(200)]
    fresh = Classifier(clf.taxonomy)
    t0 = time.perf_counter()
    fresh.classify_many(texts)
    new_rate = len(texts) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(25):
        fresh.classify_many(texts)
    repeated_rate = 25 * len(texts) / (time.perf_counter() - t0)
    assert new_rate > 200
    assert repeated_rate > 5000


def test_labelled_set_accuracy_does_not_regress(clf):
    with LABELS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 450
    right = sum(
        clf.classify(r["text"], ewc=r["ewc"] or None, naf=r["naf"] or None).code == r["expected_code"] for r in rows
    )
    assert right / len(rows) >= 0.85


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(max_size=120),
    ewc=st.none() | st.text(alphabet="0123456789 *", max_size=10),
    naf=st.none() | st.text(max_size=8),
    temperature=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    concentration=st.none() | st.floats(allow_nan=True, allow_infinity=True),
)
def test_any_input_gives_a_valid_classification(clf, tax, text, ewc, naf, temperature, concentration):
    c = clf.classify(text, ewc=ewc, naf=naf, temperature_c=temperature, concentration_pct=concentration)
    _valid(c, tax)
    assert c.text == text


# --------------------------------------------------------------------------
# Mechanisms: roles, state words, evidence, unknown with guesses, corrections
# (examples of our own, never from the blind label set)
# --------------------------------------------------------------------------


def test_roles_purpose_context_and_complement_words(clf):
    n = clf.normalise("cartons bruns de l'entrepôt pour recyclage")
    roles = dict(zip(n.tokens, n.roles, strict=True))
    assert roles["carton"] == "name"
    assert roles["entrepot"] == "context"
    assert n.roles[-1] == "purpose"
    # the material comes after the preposition when the head says nothing itself
    n = clf.normalise("déchets de chantier")
    assert set(n.roles) == {"name"}
    # a naming head: what follows "de" is a complement, the head decides
    n = clf.normalise("tourets de câbles")
    assert n.roles == ("name", "complement")


def test_a_context_or_purpose_word_does_not_outweigh_the_material(clf, tax):
    assert tax.is_under(clf.classify("vapeur du réseau de la chaufferie").code, "energy.steam")
    assert tax.is_under(clf.classify("caisses plastiques réutilisables de la cantine").code, "packaging")
    assert tax.is_under(clf.classify("PET flakes for the extrusion line").code, "plastic")


def test_extra_words_keep_a_known_term(clf, tax):
    for text in ("excédent de vapeur du four n°3", "chutes de placo de l'atelier", "huile hydraulique de la presse 4"):
        c = clf.classify(text)
        assert c.code != UNKNOWN_RESOURCE, text
    assert clf.classify("chutes de placo de l'atelier").code == "construction.plaster"


def test_state_words_choose_the_used_variant(clf, tax):
    assert tax.is_under(clf.classify("used acetone from degreasing").code, "solvent.spent")
    assert clf.classify("acetone").code != clf.classify("used acetone").code
    assert clf.classify("palettes abîmées du quai").code == "wood.pallet.damaged"
    n = clf.normalise("spent caustic")
    assert "etatused" in n.states
    # a state word alone says nothing about the resource
    assert clf.classify("produits usagés").code == UNKNOWN_RESOURCE


def test_a_form_word_yields_to_the_material(clf, tax):
    assert tax.is_under(clf.classify("aluminium offcuts").code, "metal")
    assert tax.is_under(clf.classify("PVC trimmings").code, "plastic")
    assert clf.classify("offcuts").code == "wood.offcuts"


def test_unit_is_evidence(clf, tax):
    # "eau chaude" counted in MWh is heat, in m3 water
    assert tax.is_under(clf.classify("eau chaude 70°C", unit="MWh").code, "energy")
    in_m3 = clf.classify("eau chaude 70°C", unit="m3")
    best = in_m3.code if in_m3.code != UNKNOWN_RESOURCE else in_m3.alternatives[0][0]
    assert tax.is_under(best, "water")


def test_direction_is_evidence(clf, tax):
    plain = clf.ranked("gants de protection")
    out = clf.ranked("gants de protection", direction="out")
    top = plain[0][0]
    assert tax.is_under(top, "supply")
    assert dict(out)[top] < dict(plain)[top]


def test_ewc_only_row_is_classified_with_that_evidence(clf, tax):
    from symbiose.classify.evidence import mapped_resource

    mapped = [e for e in ("130205", "150101", "200108", "170405") if mapped_resource(tax, e)]
    assert mapped
    for entry in mapped:
        for text in ("", "déchets", "divers"):
            c = clf.classify(text, ewc=entry)
            assert c.code == mapped_resource(tax, entry), (text, entry)
            assert LOW_CONFIDENCE <= c.confidence < 1.0


def test_description_column_helps_a_vague_text(clf):
    assert clf.classify("lot 3").code == UNKNOWN_RESOURCE
    assert clf.classify("lot 3", description="huiles alimentaires usagées de la friteuse").code == "oil.cooking_used"


def test_unsure_answers_unknown_with_three_guesses(clf, tax):
    c = clf.classify("boues et résidus mélangés")  # names no material the taxonomy can tell
    assert c.code == UNKNOWN_RESOURCE
    assert len(c.alternatives) == 3
    assert c.alternatives[0][1] == c.confidence
    assert all(code in tax.resources for code, _ in c.alternatives)


def test_corrections_of_a_territory(clf):
    text = "Résidus de la ligne K7 (voir fiche)"
    assert clf.classify(text).code == UNKNOWN_RESOURCE
    mapping = {normalise_key(text): "mineral.foundry_sand"}
    fixed = clf.classify(text, corrections=mapping)
    assert (fixed.code, fixed.confidence) == ("mineral.foundry_sand", 1.0)
    territory = clf.with_corrections(mapping)
    assert territory is clf.with_corrections(dict(mapping))  # built once
    # a near text of that territory is helped by the correction
    assert territory.classify("résidus ligne K7").code == "mineral.foundry_sand"
    # other territories are not affected
    assert clf.classify("résidus ligne K7").code == UNKNOWN_RESOURCE


def test_normalise_key_is_stable_and_plain():
    assert normalise_key("  Chutes de PLACO-hydrofuge ") == "chutes de placo hydrofuge"
    assert normalise_key("Eaux usées n°2") == normalise_key("eaux  USÉES, n°2")
    assert normalise_key("") == ""
