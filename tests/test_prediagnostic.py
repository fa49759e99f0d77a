"""Deductive pre-diagnostic: profiles, firm list, probable flows, visit
ranking, storage (declared flows win, visits keep a trace) and the CLI."""

from __future__ import annotations

import json

import pytest
import yaml

from symbiose.domain import Company, Direction, Flow
from symbiose.prediagnostic import get_profiles, predict_firm, read_firms
from symbiose.prediagnostic.firms import Firm
from symbiose.prediagnostic.messages import prediag_fr
from symbiose.prediagnostic.visits import rank_visits
from symbiose.services.imports import import_diagnostic
from symbiose.services.prediagnostic import confirm_visit, latest_visits, run_prediagnostic, visit_trace
from symbiose.services.queries import list_flows
from symbiose.services.runs import load_diagnostic
from symbiose.store import UnitOfWork
from symbiose.taxonomy import DATA_DIR, get_taxonomy


FIRMS = (
    "siret;raison_sociale;activite_principale;tranche_effectif;code_postal;commune;latitude;longitude;confidentiel\n"
    "11111111100011;Négoce Palettes du Golfe;46.69B;12;13270;Fos-sur-Mer;43.4600;4.8800;non\n"
    "22222222200022;Cabinet Comptable;69.20Z;02;13270;Fos-sur-Mer;43.4610;4.8810;non\n"
    "33333333300033;Chimie Discrète;20.59Z;21;13270;Fos-sur-Mer;43.4620;4.8820;oui\n"
)
DIAG = (
    "company_id;company_name;direction;resource;quantity;unit;lat;lon;naf\n"
    "D1;Menuiserie Recup;in;wood.pallet;40;t;43.4650;4.8850;16.23Z\n"
    "D2;Reconditionneur Palettes;in;wood.pallet;60;t;43.4660;4.8860;16.24Z\n"
    "D3;Imprimerie Voisine;out;paper.cardboard;20;t;43.4640;4.8840;18.12Z\n"
)


# --------------------------------------------------------------------------
# Profiles: sourced data
# --------------------------------------------------------------------------


def test_profiles_cover_40_divisions_and_every_figure_names_a_known_source():
    profiles = get_profiles()
    assert len(profiles.divisions()) >= 40
    sources = set(yaml.safe_load((DATA_DIR / "sources.yaml").read_text(encoding="utf-8")))
    sources |= set(yaml.safe_load((DATA_DIR / "sources_profiles.yaml").read_text(encoding="utf-8")))
    tax = get_taxonomy()
    data = profiles.data
    entries = [*data.common, *data.office_overrides, *(e for p in data.profiles.values() for e in p.flows)]
    assert entries and all(e.source in sources and e.resource in tax for e in entries)


def test_a_group_profile_adds_to_and_overrides_its_division():
    profiles = get_profiles()
    division = {f.resource: f for f in profiles.for_naf("25.11Z").flows}
    group = {f.resource: f for f in profiles.for_naf("25.62B").flows}
    assert "chemical.acid.spent" in group and "chemical.acid.spent" not in division
    assert group["metal.ferrous"].profile == "25" and group["chemical.acid.spent"].profile == "25.6"
    office = {f.resource: f for f in profiles.for_naf("69.20Z").flows}
    assert office["wood.pallet"].profile == "office" and office["wood.pallet"].probability[0] < 0.2


def test_a_broken_profiles_file_is_refused(tmp_path):
    from symbiose.prediagnostic.profiles import load_profiles
    from symbiose.taxonomy.model import TaxonomyError

    data = yaml.safe_load((DATA_DIR / "profiles.yaml").read_text(encoding="utf-8"))
    data["common"][0]["source"] = "no-such-source"
    (tmp_path / "profiles.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TaxonomyError, match="no-such-source"):
        load_profiles(tmp_path, get_taxonomy())


# --------------------------------------------------------------------------
# Firm list
# --------------------------------------------------------------------------


def test_firm_list_reads_sirene_names_bands_and_headcounts():
    data = ("siret,denominationUniteLegale,activitePrincipaleEtablissement,trancheEffectifsEtablissement,effectif,codePostalEtablissement\n"
            "12345678900011,Atelier A,2562B,1,,13270\n"
            "12345678900029,Atelier B,25.62B,,1 250,13270\n").encode()
    parsed = read_firms(data, filename="sirene.csv")
    assert parsed.ok
    a, b = parsed.firms
    assert (a.naf, a.size_band, a.employees) == ("25.62B", "01", None)
    assert (b.size_band, b.employees) == (None, 1250.0)
    assert a.lat is not None and a.city  # located from the postcode


def test_bad_rows_give_row_column_value_and_nothing_is_returned():
    data = ("siret;raison_sociale;ape;tranche_effectif;code_postal\n"
            "12345678900011;Bon;2562B;12;13270\n"
            "12345678900029;;25.62B;77;13270\n"
            "12345678900037;Mauvais NAF;abc;12;99999\n").encode()
    parsed = read_firms(data, filename="f.csv")
    found = {(e.row, e.column, e.value) for e in parsed.errors}
    assert (3, "raison_sociale", "") in found and (3, "tranche_effectif", "77") in found
    assert (4, "ape", "abc") in found and (4, "code_postal", "99999") in found
    band = next(e for e in parsed.errors if e.column == "tranche_effectif")
    assert "tranche d'effectif INSEE" in prediag_fr(band)
    header_missing = read_firms(b"siret;raison_sociale\n1;A\n", filename="f.csv")
    assert {e.column for e in header_missing.errors} == {"naf", "postcode"}


# --------------------------------------------------------------------------
# Probable flows
# --------------------------------------------------------------------------


def _firm(naf: str | None, band: str | None = None, employees: float | None = None) -> Firm:
    return Firm(id="F1", name="F", naf=naf, row=2, size_band=band, employees=employees, lat=43.46, lon=4.88)


def test_probable_flow_ranges_follow_the_band_and_the_per_employee_bounds():
    flows, warnings = predict_firm(_firm("25.62B", band="12"), get_profiles(), get_taxonomy())
    assert warnings == []
    metal = next(f for f in flows if f.resource == "metal.ferrous")
    # division 25: 0.5-6 t per employee; band 12 = 20 to 49 employees; size class "small"
    assert (metal.quantity_low, metal.quantity_high, metal.probability, metal.unit) == (10.0, 294.0, 0.85, "t")
    exact, _ = predict_firm(_firm("25.62B", employees=30), get_profiles(), get_taxonomy())
    metal30 = next(f for f in exact if f.resource == "metal.ferrous")
    assert (metal30.quantity_low, metal30.quantity_high) == (15.0, 180.0)
    # most probable first, the residual mixed bin (probability 0.9 here) last
    assert flows[-1].resource == "waste.mixed_ordinary" and flows[-1].probability == 0.9
    assert flows[:-1] == sorted(flows[:-1], key=lambda f: (-f.probability, f.direction, f.resource))


def test_unknown_naf_gets_a_warning_and_only_the_flows_nearly_all_firms_share():
    flows, warnings = predict_firm(_firm("99.00Z", band="11"), get_profiles(), get_taxonomy())
    assert {f.resource for f in flows} == {"paper.cardboard", "wood.pallet", "waste.mixed_ordinary"}
    assert len(warnings) == 1 and "99.00Z" in warnings[0].message
    assert "n'a pas de profil sectoriel" in prediag_fr(warnings[0])


# --------------------------------------------------------------------------
# Visit ranking
# --------------------------------------------------------------------------


def _toy():
    companies = [
        Company("D1", "Menuiserie Recup", 43.4650, 4.8850, naf="16.23Z"),
        Company("D2", "Reconditionneur Palettes", 43.4660, 4.8860, naf="16.24Z"),
        Company("N1", "Négoce", 43.4600, 4.8800, naf="46.69B"),
        Company("N2", "Cabinet", 43.4610, 4.8810, naf="69.20Z"),
    ]
    declared = [
        Flow("F-d1", "D1", Direction.IN, "wood.pallet", 40.0, "t", 43.4650, 4.8850),
        Flow("F-d2", "D2", Direction.IN, "wood.pallet", 60.0, "t", 43.4660, 4.8860),
    ]
    prof, tax = get_profiles(), get_taxonomy()
    probable = {
        "N1": predict_firm(Firm("N1", "Négoce", "46.69B", 2, size_band="12", lat=43.46, lon=4.88), prof, tax)[0],
        "N2": predict_firm(Firm("N2", "Cabinet", "69.20Z", 3, size_band="02", lat=43.461, lon=4.881), prof, tax)[0],
    }
    return companies, declared, probable


def test_the_firm_whose_probable_pallets_neighbours_seek_is_visited_first():
    companies, declared, probable = _toy()
    plan = rank_visits(companies, declared, probable, territory="toy")
    ranked = plan.ranked()
    assert [i.company_id for i in ranked] == ["N1", "N2"]
    first = ranked[0]
    assert first.expected_value_eur > 0 and ranked[1].expected_value_eur < first.expected_value_eur
    assert "probablement" in first.reason and "palettes" in first.reason.lower()
    assert "2 entreprises voisines en cherchent" in first.reason
    assert all(not i.visit_rank for i in plan.items if i.company_id in ("D1", "D2"))
    on_probable = [s for s in plan.probable_synergies if s.in_plan]
    assert on_probable and all(s.explanation.endswith("À confirmer lors de la visite.") for s in on_probable)
    # declared-only matching of the same park proposes nothing resting on a guess
    assert all("probable_flows" not in s.details for s in plan.result.synergies if s not in plan.probable_synergies)


def test_a_declared_flow_wins_over_the_probable_one_of_the_same_family():
    companies, declared, probable = _toy()
    declared.append(Flow("F-n1", "N1", Direction.OUT, "wood.pallet.euro", 5.0, "t", 43.46, 4.88))
    plan = rank_visits(companies, declared, probable, territory="toy")
    n1 = next(i for i in plan.items if i.company_id == "N1")
    assert n1.visited and n1.visit_rank is None
    assert not any(p.resource.startswith("wood.pallet") and p.direction == "out" for p in n1.probable_flows)


# --------------------------------------------------------------------------
# Store: probable flows apart, declared win, visits traced
# --------------------------------------------------------------------------


def test_stored_probable_flows_stay_apart_and_a_visit_turns_one_into_a_declared_flow(sqlite_url):
    with UnitOfWork(sqlite_url) as uow:
        assert import_diagnostic(uow, DIAG.encode(), territory="zi", filename="d.csv").written
    with UnitOfWork(sqlite_url) as uow:
        report = run_prediagnostic(uow, FIRMS.encode(), territory="zi", filename="firms.csv", time_limit_s=5)
    assert report.written
    rank = {f["company_id"]: f["visit_rank"] for f in report.firms}
    # the pallet dealer, two neighbours of which buy pallets, comes before the accountant's office
    assert rank["11111111100011"] < rank["22222222200022"] and rank["11111111100011"] <= 2
    first = report.firms[0]
    assert first["visit_rank"] == 1 and first["probable_flows"][0].keys() >= {
        "resource", "direction", "probability", "quantity_low", "quantity_high", "unit"}
    with UnitOfWork(sqlite_url) as uow:
        matched = load_diagnostic(uow, "zi")
        assert {c.id for c in matched.companies} == {"D1", "D2", "D3"} and len(matched.flows) == 3
        probable = list_flows(uow, "zi", status="probable", size=500)
        assert probable.total > 10 and {i["status"] for i in probable.items} == {"probable"}
        assert list_flows(uow, "zi", status="declared").total == 3
        pallets = next(i for i in probable.items
                       if i["company_id"] == "11111111100011" and i["resource"] == "wood.pallet")
        done = confirm_visit(uow, "zi", pallets["id"], quantity=3, unit="t", period="month", note="vu le 7/12")
    assert done["status"] == "declared" and done["declared"]["quantity"] == 36.0
    with UnitOfWork(sqlite_url) as uow:
        trace = visit_trace(uow, "zi")
        assert trace[0]["probable"]["probability"] == pallets["probability"] and trace[0]["note"] == "vu le 7/12"
        assert len(load_diagnostic(uow, "zi").flows) == 4
        visits = latest_visits(uow, "zi")
        negoce = next(f for f in visits["firms"] if f["company_id"] == "11111111100011")
        assert negoce["visited"] and negoce["visit_rank"] is None
    # a second pre-diagnostic never touches the confirmed flow
    with UnitOfWork(sqlite_url) as uow:
        run_prediagnostic(uow, FIRMS.encode(), territory="zi", filename="firms.csv", time_limit_s=5)
        assert list_flows(uow, "zi", status="declared").total == 4


def test_a_declared_import_supersedes_the_probable_flow_and_bad_lists_write_nothing(sqlite_url):
    with UnitOfWork(sqlite_url) as uow:
        run_prediagnostic(uow, FIRMS.encode(), territory="zi", filename="firms.csv", time_limit_s=5)
    late = ("company_id;company_name;direction;resource;quantity;unit;lat;lon\n"
            "11111111100011;Négoce Palettes du Golfe;out;palettes EUR;30;t;43.46;4.88\n")
    with UnitOfWork(sqlite_url) as uow:
        import_diagnostic(uow, late.encode(), territory="zi", filename="late.csv")
    with UnitOfWork(sqlite_url) as uow:
        probable = list_flows(uow, "zi", status="probable", company_id="11111111100011", size=500).items
        assert not any(i["resource"].startswith("wood.pallet") and i["direction"] == "out" for i in probable)
        before = list_flows(uow, "zi", size=500).total
        bad = run_prediagnostic(uow, b"siret;raison_sociale;naf;code_postal\n1;X;abc;13270\n", territory="zi",
                                filename="bad.csv")
        assert bad.errors and not bad.written
    with UnitOfWork(sqlite_url) as uow:
        assert list_flows(uow, "zi", size=500).total == before


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def test_cli_prediagnostic_prints_the_visit_list_and_writes_the_json_contract(sqlite_url, tmp_path):
    from typer.testing import CliRunner

    from symbiose.cli import app

    firms = tmp_path / "etablissements.csv"
    firms.write_text(FIRMS, encoding="utf-8")
    out_json = tmp_path / "pre.json"
    runner = CliRunner()
    done = runner.invoke(app, ["prediagnostic", str(firms), "--territory", "zi", "--json", str(out_json), "--db", sqlite_url])
    assert done.exit_code == 0, done.output
    assert "Entreprises à rencontrer en priorité" in done.output
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    assert {"company_id", "naf", "probable_flows", "visit_rank", "reason"} <= set(doc["firms"][0])
    assert doc["firms"][0]["probable_flows"][0].keys() >= {"resource", "direction", "probability", "quantity_low",
                                                           "quantity_high", "unit"}
    bad = tmp_path / "bad.csv"
    bad.write_text("siret;raison_sociale;naf;code_postal\n1;X;abc;13270\n", encoding="utf-8")
    refused = runner.invoke(app, ["prediagnostic", str(bad), "--territory", "zi", "--db", sqlite_url])
    assert refused.exit_code == 1 and "ligne 2, colonne naf : « abc » trouvé" in refused.output
