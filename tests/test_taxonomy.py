"""The shipped taxonomy data: resources, substitution rules, pooling families,
parameters and sources, loaded with the real loader."""

from __future__ import annotations

import importlib.util
import re
import shutil
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from symbiose.taxonomy import DATA_DIR, Taxonomy, load_taxonomy
from symbiose.taxonomy.model import TaxonomyError

ROOT = Path(__file__).resolve().parents[1]

# Codes the specs and the domain notes name explicitly.
SPEC_CODES = [
    "wood.pallet", "wood.pallet.euro", "organic.biowaste", "energy.heat", "energy.steam",
    "chemical.acid.hcl", "water.demineralised", "metal.ferrous", "paper.cardboard",
    "oil.cooking_used", "sludge.wwtp", "weee", "toner", "capsule", "mineral.gypsum.fgd",
    "construction.plaster", "mineral.foundry_sand", "organic.cocoa_shells", "water.borehole",
]
# Streams animators count in items rather than weigh.
COUNTED_PREFIXES = [
    "wood.pallet", "packaging", "toner", "capsule", "tyre", "weee", "battery", "hazardous.soiled_packaging",
]
# Parameters the engine reads by name.
ENGINE_PARAMETERS = [
    "transport_eur_per_tkm", "transport_co2_kg_per_tkm", "truck_eur_per_km", "truck_co2_kg_per_km",
    "handling_eur_per_t", "pipe_cost_eur_per_m", "pipe_annuity_years", "discount_rate",
    "default_max_distance_km", "landfill_tax_eur_per_t", "road_detour_factor",
]


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy(DATA_DIR)


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(c for c in nfkd if not unicodedata.combining(c)).split())


def _members(tax: Taxonomy, family_id: str) -> list:
    """Resolved resources the engine pools in a family."""
    fam = tax.families[family_id]
    return [r for r in tax.resources.values() if tax.family_of(r.code) is fam]


# --------------------------------------------------------------------------- resources


def test_taxonomy_is_large_and_has_the_codes_the_specs_name(tax):
    assert len(tax.resources) >= 150
    missing = [c for c in SPEC_CODES if c not in tax]
    assert missing == []


def test_tree_stays_shallow_and_covers_industrial_families(tax):
    assert max(c.count(".") + 1 for c in tax.resources) <= 4
    for family in ("organic.cereal", "organic.sugar", "organic.starch", "organic.fermentation",
                   "mineral.gypsum", "chemical.brine", "chemical.alcohol", "chemical.petrochemical",
                   "rubber", "fuel.residue", "metal.stainless", "metal.aluminium", "metal.copper"):
        children = [c for c in tax.resources if tax.resources[c].parent == family]
        assert len(children) >= 2, family


def test_every_code_has_labels_synonyms_and_a_canonical_unit(tax):
    for r in tax.resources.values():
        assert r.label_fr.strip() and r.label_en.strip(), r.code
        assert r.synonyms, f"{r.code} has no synonyms for the classifier"
        assert r.unit in ("t", "MWh", "m3", "unit"), r.code


def test_only_purchases_and_services_are_counted_in_bare_units(tax):
    bad = [r.code for r in tax.resources.values()
           if r.unit == "unit" and r.root not in ("service", "supply")]
    assert bad == []


def test_every_material_code_has_a_distance_and_a_price(tax):
    for r in tax.resources.values():
        if r.unit == "unit":
            continue
        assert r.max_distance_km is not None and r.max_distance_km.value > 0, r.code
        assert r.disposal_cost_eur is not None or r.purchase_price_eur is not None, r.code


def test_counted_items_have_a_plausible_unit_mass(tax):
    counted = [r for r in tax.resources.values() if any(tax.is_under(r.code, p) for p in COUNTED_PREFIXES)]
    assert len(counted) >= 25
    for r in counted:
        assert r.unit_mass_t is not None, f"{r.code} is counted in items but has no unit_mass_t"
        assert 0 < r.unit_mass_t.value < 1, r.code


def test_volume_codes_have_a_density(tax):
    for r in tax.resources.values():
        if r.unit == "m3":
            assert r.density_t_per_m3 is not None and r.density_t_per_m3.value > 0, r.code


def test_pipe_resources_stay_within_pipe_distances(tax):
    pipes = [r for r in tax.resources.values() if r.infrastructure == "pipe"]
    assert {"energy.heat.low", "energy.steam", "water.industrial"} <= {r.code for r in pipes}
    for r in pipes:
        assert r.max_distance_km.value <= 20, r.code
    assert tax.get("energy.steam").max_distance_km.value <= tax.get("energy.heat.high").max_distance_km.value


def test_heat_bands_are_contiguous_and_ordered(tax):
    bands = [tax.get(f"energy.heat.{b}").temperature_range_c for b in ("low", "medium", "high")]
    assert bands[0][1] == 60 and bands[1] == (60, 90) and bands[2] == (90, 250)
    for lower, upper in zip(bands, bands[1:]):
        assert lower[1] == upper[0]
    steam = [tax.get(f"energy.steam.{b}").temperature_range_c for b in ("low", "medium", "high")]
    assert steam == sorted(steam) and steam[0][0] >= bands[2][0]


def test_hcl_range_covers_the_33_percent_grade(tax):
    lo, hi = tax.get("chemical.acid.hcl").concentration_range_pct
    assert lo <= 33 <= hi
    assert tax.get("chemical.acid.hcl").hazardous


def test_market_sold_streams_have_negative_disposal_costs(tax):
    for code in ("metal.ferrous", "metal.copper", "metal.aluminium", "paper.cardboard", "oil.cooking_used"):
        assert tax.get(code).disposal_cost_eur.value < 0, code
    for code in ("hazardous.paint", "organic.biowaste", "construction.mixed"):
        assert tax.get(code).disposal_cost_eur.value > 0, code


def test_hazardous_streams_cost_more_to_dispose_of_than_their_ordinary_kin(tax):
    def cost(code: str) -> float:
        return tax.get(code).disposal_cost_eur.value

    assert cost("hazardous.treated_wood") > cost("wood.treated")
    assert cost("solvent.spent") > cost("plastic.mixed")
    assert cost("weee.it") <= cost("hazardous")


def test_ewc_codes_are_six_digits_and_in_the_shipped_list(tax):
    assert tax.ewc_labels, "ewc.csv missing"
    for r in tax.resources.values():
        for code in r.ewc:
            assert re.fullmatch(r"\d{6}", code), (r.code, code)
            assert code in tax.ewc_labels, (r.code, code)


def test_non_hazardous_codes_list_no_hazardous_ewc_entry(tax):
    for r in tax.resources.values():
        if not r.hazardous:
            haz = [c for c in r.ewc if tax.ewc_labels[c][1]]
            assert haz == [], f"{r.code} is not flagged hazardous but lists {haz}"


def test_naf_hints_are_prefixes_of_real_naf_codes(tax):
    assert tax.naf_labels, "naf.csv missing"
    for r in tax.resources.values():
        for hint in r.naf_hints:
            assert re.fullmatch(r"\d{2}(\.\d{1,2}[A-Z]?)?", hint), (r.code, hint)
            assert any(k.startswith(hint) for k in tax.naf_labels), (r.code, hint)


def test_no_synonym_points_to_two_codes(tax):
    owners: dict[str, set[str]] = defaultdict(set)
    for r in tax.resources.values():
        for text in (*r.synonyms, r.label_fr, r.label_en):
            owners[_fold(text)].add(r.code)
    clashes = {t: sorted(c) for t, c in owners.items() if len(c) > 1}
    assert clashes == {}


def test_animator_vocabulary_is_covered(tax):
    known = {_fold(s) for r in tax.resources.values() for s in (*r.synonyms, r.label_fr)}
    for word in ("palettes perdues", "boues de STEP", "HAU", "D3E", "DEEE", "Placoplatre", "CSR",
                 "EPI", "GRV", "IBC", "eau de forage", "chaleur fatale", "coques de cacao", "drêches",
                 "sables de fonderie", "déchets du BTP", "acide chlorhydrique 33 %", "ferraille",
                 "carton brun"):
        assert _fold(word) in known, word


# --------------------------------------------------------------------------- EWC -> resource


def _ewc_entries(tax):
    return [c for c in tax.ewc_labels if len(c) == 6]


def test_every_ewc_entry_maps_to_an_existing_code(tax):
    entries = _ewc_entries(tax)
    assert len(entries) == 842
    unmapped = [c for c in entries if tax.resource_for_ewc(c) not in tax.resources]
    assert unmapped == []
    levels = Counter(tax.ewc_mapping(c).level for c in entries)
    assert set(levels) <= {"entry", "sub_chapter", "chapter"}
    assert levels["entry"] >= 600, levels  # most entries have their own, exact row


def test_hazardous_entries_map_to_hazardous_resources(tax):
    wrong = [(c, tax.resource_for_ewc(c)) for c in _ewc_entries(tax)
             if tax.ewc_labels[c][1] and not tax.get(tax.resource_for_ewc(c)).hazardous]
    assert wrong == []


def test_non_hazardous_entries_map_to_non_hazardous_resources_where_the_taxonomy_has_one(tax):
    # batteries are hazardous as a family: the taxonomy has no non-hazardous battery code
    wrong = [(c, tax.resource_for_ewc(c)) for c in _ewc_entries(tax)
             if not tax.ewc_labels[c][1] and tax.get(tax.resource_for_ewc(c)).hazardous
             and tax.get(tax.resource_for_ewc(c)).root != "battery"]
    assert wrong == []


def test_ewc_codes_listed_by_a_resource_map_exactly_to_that_family(tax):
    listed: dict[str, list[str]] = defaultdict(list)
    for r in tax.resources.values():
        for e in r.ewc:
            listed[e].append(r.code)
    for ewc, codes in listed.items():
        m = tax.ewc_mapping(ewc)
        assert m.exact, ewc
        assert any(tax.is_under(m.resource, c) or tax.is_under(c, m.resource) for c in codes), (ewc, m, codes)


@pytest.mark.parametrize(
    ("ewc", "resource", "level"),
    [
        ("15 01 10*", "hazardous.soiled_packaging", "entry"),
        ("150101", "paper.cardboard", "entry"),
        ("100105", "mineral.gypsum.fgd", "entry"),
        ("060904", "mineral.gypsum.phospho", "entry"),
        ("020402", "mineral.caco3_residue.sugar_lime", "entry"),
        ("030307", "fuel.residue.pulper_rejects", "entry"),
        ("200125", "oil.cooking_used", "entry"),
        ("100199", "mineral.bottom_ash", "sub_chapter"),
        ("070214", "hazardous", "sub_chapter"),
        ("010305", "hazardous", "chapter"),
    ],
)
def test_ewc_mapping_of_known_entries(tax, ewc, resource, level):
    m = tax.ewc_mapping(ewc)
    assert (m.resource, m.level, m.exact) == (resource, level, level == "entry")
    assert tax.resource_for_ewc(ewc) == resource


@pytest.mark.parametrize("code", ["999999", "1501", "15", "", "abcdef"])
def test_codes_that_are_not_ewc_entries_map_to_nothing(tax, code):
    assert tax.ewc_mapping(code) is None and tax.resource_for_ewc(code) is None


def test_codes_for_naf_lists_the_sector_streams_most_specific_first(tax):
    sugar = tax.codes_for_naf("10.81Z")
    assert sugar[:3] and all(c in tax for c in sugar)
    assert "organic.sugar" in sugar and "mineral.caco3_residue.sugar_lime" in sugar
    assert sugar.index("organic.sugar") < sugar.index("organic")  # "10.81" beats "10"
    assert tax.codes_for_naf("1081Z") == sugar == tax.codes_for_naf(" 10.81 z ")
    assert "chemical.brine.saturated" in tax.codes_for_naf("20.13B")
    assert tax.codes_for_naf("") == [] and tax.codes_for_naf("99.99Z") == []


# --------------------------------------------------------------------------- rules


def test_rules_are_numerous_and_link_different_existing_codes(tax):
    assert len(tax.rules) >= 40
    assert len({r.id for r in tax.rules}) == len(tax.rules)
    for rule in tax.rules:
        assert rule.supply in tax and rule.demand in tax, rule.id
        assert rule.supply != rule.demand, rule.id
        # a code already feeds itself and its ancestors: such a rule would be redundant
        assert not tax.is_under(rule.supply, rule.demand), rule.id
        assert not tax.is_under(rule.demand, rule.supply), rule.id
        assert rule.ratio > 0 and rule.label_fr.strip(), rule.id


def test_condition_rules_have_the_data_their_condition_needs(tax):
    for rule in tax.rules:
        s = tax.get(rule.supply)
        if rule.temperature:
            assert s.temperature_range_c is not None, rule.id
        if rule.concentration_tolerance_pct is not None:
            assert s.concentration_range_pct is not None, rule.id
            assert tax.get(rule.demand).concentration_range_pct is not None, rule.id


def test_heat_cascades_only_downwards(tax):
    for rule in tax.rules:
        if rule.temperature and rule.supply.startswith("energy.") and rule.demand.startswith("energy."):
            s_hi = tax.get(rule.supply).temperature_range_c[1]
            d_lo = min(r.temperature_range_c[0] for r in tax.resources.values()
                       if tax.is_under(r.code, rule.demand) and r.temperature_range_c)
            assert s_hi >= d_lo, rule.id


def test_the_brief_substitutions_exist(tax):
    pairs = {(r.supply, r.demand) for r in tax.rules}
    for pair in [
        ("mineral.gypsum.fgd", "mineral.gypsum.natural"),
        ("mineral.fly_ash", "mineral.clinker"),
        ("sludge.wwtp", "agri.fertiliser"),
        ("organic.brewers_grain", "agri.feed"),
        ("oil.cooking_used", "fuel.biodiesel"),
        ("energy.steam", "energy.heat"),
        ("energy.heat.high", "energy.heat.medium"),
        ("water.treated_effluent", "water.industrial"),
        ("gas.biogas", "fuel.natural_gas"),
        ("mineral.foundry_sand", "mineral.sand"),
    ]:
        assert pair in pairs, pair


def test_the_platform_chains_exist(tax):
    """By-product -> raw-material chains run on industrial platforms (issue 11)."""
    pairs = {(r.supply, r.demand) for r in tax.rules}
    chains = [
        ("mineral.gypsum.phospho", "mineral.gypsum.natural"),  # gypsum family into plaster and cement
        ("mineral.gypsum.titano", "mineral.gypsum.natural"),
        ("mineral.silica_fume", "mineral.cement"),  # ashes and fillers into concrete and cement
        ("mineral.filler", "mineral.limestone"),
        ("organic.sugar.molasses", "organic.fermentation.substrate"),  # sugar co-products
        ("organic.sugar.molasses", "agri.feed"),
        ("organic.sugar.bagasse", "fuel.biomass"),
        ("gas.co2.raw.fermentation", "gas.co2.technical"),  # fermentation CO2 to greenhouses
        ("gas.co2.raw", "gas.co2.feedstock"),  # ... and to chemistry
        ("chemical.brine.spent", "chemical.brine.saturated"),  # brines into chlor-alkali
        ("plastic.mixed", "fuel.coal.injection"),  # plastics into steelmaking reduction
        ("plastic.mixed", "fuel.gasification_feedstock"),  # ... and gasification
        ("fuel.residue", "fuel.recovery_feedstock"),  # process residues into energy recovery
        ("water.condensate", "water.boiler_feed"),  # condensate returns
        ("fuel.residue.pulper_rejects", "fuel.biomass"),  # pulper rejects into biomass boilers
        ("wood.chips", "fuel.biomass.wood_chips"),  # recycled wood into biomass boilers
        ("organic.spent_yeast", "agri.feed"),
        ("organic.whey", "organic.methanisation_feedstock"),
    ]
    assert [c for c in chains if c not in pairs] == []


def test_rule_checks_are_french_sentences(tax):
    checks = [c for r in tax.rules for c in r.checks_fr]
    assert len(checks) >= 60
    assert all(c.strip() and c == c.strip() for c in checks)


def test_prices_are_plausible_for_their_unit(tax):
    """A price per tonne put on a code counted in m3 or MWh shows up here."""
    for r in tax.resources.values():
        for fig in (r.purchase_price_eur, r.disposal_cost_eur):
            if fig is None:
                continue
            if r.unit == "MWh":
                assert -100 <= fig.value <= 300, r.code
            elif r.unit == "m3" and r.root == "water":
                assert abs(fig.value) <= 10, r.code
            elif r.unit == "t":
                assert abs(fig.value) <= 20000, r.code


def test_hazardous_supplies_are_only_waved_through_to_like_inputs(tax):
    for rule in tax.rules:
        if rule.hazardous_ok:
            assert tax.get(rule.supply).hazardous, rule.id
            demand = tax.get(rule.demand)
            assert demand.hazardous or demand.root == "fuel", rule.id


# --------------------------------------------------------------------------- pooling families


def test_families_cover_the_three_kinds(tax):
    kinds = defaultdict(list)
    for fam in tax.families.values():
        kinds[fam.kind].append(fam.id)
    assert len(kinds["collection"]) >= 15 and len(kinds["purchase"]) >= 6 and len(kinds["service"]) >= 6


def test_family_members_exist_and_resolve_to_the_family(tax):
    for fam in tax.families.values():
        assert fam.members, fam.id
        for m in fam.members:
            assert m in tax, (fam.id, m)
        assert _members(tax, fam.id), f"no resource resolves to family {fam.id}"


def test_no_family_mixes_hazard_or_food_grade(tax):
    for fam in tax.families.values():
        members = _members(tax, fam.id)
        assert len({r.hazardous for r in members}) == 1, fam.id
        assert len({r.food_grade for r in members}) == 1, fam.id


def test_family_unit_matches_its_members(tax):
    for fam in tax.families.values():
        assert {r.unit for r in _members(tax, fam.id)} == {fam.unit}, fam.id


def test_pooling_lowers_the_cost_and_collections_have_round_figures(tax):
    for fam in tax.families.values():
        assert fam.critical_mass.value > 0 and fam.radius_km.value > 0, fam.id
        assert fam.pooled_cost_eur_per_unit is not None, fam.id
        assert fam.pooled_cost_eur_per_unit.value < fam.individual_cost_eur_per_unit.value, fam.id
        if fam.kind == "collection":
            for name in ("vehicle_capacity", "cost_per_km_eur", "cost_per_stop_eur", "individual_trip_km"):
                assert getattr(fam, name) is not None, (fam.id, name)
            assert 1.1 <= fam.cost_per_km_eur.value <= 1.9, fam.id
            assert fam.min_collections_per_year >= 1, fam.id


def test_pooling_calibration_figures(tax):
    paper = tax.families["paper_cardboard"]
    assert (paper.individual_cost_eur_per_unit.value, paper.pooled_cost_eur_per_unit.value) == (131, 93)
    assert tax.families["biowaste"].min_collections_per_year == 52
    ppe = tax.families["ppe"]
    saving = 1 - ppe.pooled_cost_eur_per_unit.value / ppe.individual_cost_eur_per_unit.value
    assert 0.05 <= saving <= 0.20
    assert "2024" in tax.families["biowaste"].legal_fr
    assert "2021-950" in tax.families["paper_cardboard"].legal_fr


def test_key_streams_fall_in_their_family(tax):
    expected = {
        "wood.pallet.euro": "pallets", "paper.office": "paper_cardboard", "plastic.film.pe": "plastics",
        "metal.ferrous": "metals", "organic.food_waste": "biowaste", "oil.motor_used": "motor_oil",
        "hazardous.paint": "hazardous_waste", "solvent.spent.halogenated": "hazardous_waste",
        "weee.it": "weee", "weee.lamps": "weee_hazardous", "construction.plaster": "construction",
        "supply.ppe": "ppe", "service.security": "security",
    }
    assert {c: tax.family_of(c).id for c in expected} == expected
    assert tax.family_of("energy.heat.low") is None


# --------------------------------------------------------------------------- parameters and sources


def test_engine_parameters_are_present_and_calibrated(tax):
    for name in ENGINE_PARAMETERS:
        assert name in tax.parameters, name
    assert tax.param("landfill_tax_eur_per_t") == 65
    assert tax.param("pipe_cost_eur_per_m") == 195
    assert 1.1 <= tax.param("truck_eur_per_km") <= 1.9
    assert 0.05 <= tax.param("transport_eur_per_tkm") <= 0.08


def test_every_source_is_described_and_used(tax):
    used = {p.source for p in tax.parameters.values()} | {r.source for r in tax.rules}
    for r in tax.resources.values():
        for name in ("unit_mass_t", "density_t_per_m3", "max_distance_km", "disposal_cost_eur",
                     "purchase_price_eur", "co2_virgin_kg", "co2_treatment_kg", "handling_eur"):
            fig = getattr(r, name)
            if fig is not None:
                used.add(fig.source)
    for fam in tax.families.values():
        used |= {f.source for f in (fam.critical_mass, fam.radius_km, fam.individual_cost_eur_per_unit)}
    assert used <= set(tax.sources)
    for sid, s in tax.sources.items():
        assert s.title.strip() and s.publisher.strip(), sid


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    for f in [*DATA_DIR.glob("*.yaml"), DATA_DIR / "ewc.csv", DATA_DIR / "ewc_resources.csv"]:
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_a_figure_with_an_unknown_source_is_rejected(data_copy):
    def drop_source(d):
        del d["epal-palette"]

    _edit(data_copy / "sources.yaml", drop_source)
    with pytest.raises(TaxonomyError, match="epal-palette"):
        load_taxonomy(data_copy)


def test_a_rule_to_an_unknown_code_is_rejected(data_copy):
    def break_rule(d):
        d["rules"][0]["demand"] = "mineral.unobtainium"

    _edit(data_copy / "rules.yaml", break_rule)
    with pytest.raises(TaxonomyError, match="unobtainium"):
        load_taxonomy(data_copy)


def test_an_unknown_family_is_rejected(data_copy):
    def drop_family(d):
        d["families"] = [f for f in d["families"] if f["id"] != "pallets"]

    _edit(data_copy / "pooling.yaml", drop_family)
    with pytest.raises(TaxonomyError, match="pallets"):
        load_taxonomy(data_copy)


def test_a_bad_ewc_code_is_rejected(data_copy):
    def bad_ewc(d):
        d["resources"][1]["ewc"] = ["15 01"]

    _edit(data_copy / "resources.yaml", bad_ewc)
    with pytest.raises(TaxonomyError, match="six digits"):
        load_taxonomy(data_copy)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("150110,hazardous.unobtainium,", "unobtainium"),
        ("1501,packaging,paper.cardboard", "not a hazardous resource"),
        ("150199,plastic,", "not a chapter, sub-chapter or entry"),
        ("150101,,paper.cardboard", "one resource"),
    ],
)
def test_a_bad_ewc_mapping_row_is_rejected(data_copy, row, message):
    path = data_copy / "ewc_resources.csv"
    path.write_text(path.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(data_copy)


# --------------------------------------------------------------------------- generated docs


def _doc_tool():
    spec = importlib.util.spec_from_file_location("taxonomy_doc", ROOT / "tools" / "taxonomy_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_table_lists_every_code_and_is_up_to_date(tax):
    tool = _doc_tool()
    text = tool.render(tax)
    for code in tax.resources:
        assert f"| `{code}` |" in text, code
    for rule in tax.rules:
        assert f"| `{rule.id}` |" in text, rule.id
    shipped = (ROOT / "docs" / "taxonomy.md").read_text(encoding="utf-8")
    assert shipped == text, "docs/taxonomy.md is stale: run python tools/taxonomy_doc.py"
