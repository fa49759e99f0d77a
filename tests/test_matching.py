"""Matching end to end: ranking, explanations, left-out reasons, the synergy
JSON and its schema, codes matched by meaning and figures a practitioner signs
(the documented symbioses of ``datasets/cases`` are in ``test_cases.py``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from symbiose.domain import Issue, SynergyType
from symbiose.matching import match
from symbiose.report.synergy_json import dumps, load_schema, result_to_dict, write_json
from tests.conftest import company, diagnostic, flow

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture()
def park():
    """A supplier of paper two receivers want; acid for a third; steam too far to pay its pipe."""
    return diagnostic(
        [company("A", name="Papeterie Alpha"), company("B", 2, name="Cartonnerie Bêta"),
         company("C", 4, name="Gamma Emballages"), company("D", 1, 1, name="Delta Chimie"),
         company("E", 4.5, name="Epsilon Serres")],
        [
            flow("F-paper", "A", "out", "paper", 100),
            flow("F-need-b", "B", "in", "paper", 100),
            flow("F-need-c", "C", "in", "paper", 100),
            flow("F-acid", "A", "out", "chemical.acid.hcl", 1500, concentration_pct=33, ewc="060102"),
            flow("F-acid-need", "D", "in", "chemical.acid.hcl", 1200, concentration_pct=32),
            flow("F-steam", "A", "out", "energy.steam", 300, unit="MWh", temperature_c=180),
            flow("F-heat", "E", "in", "energy.heat", 300, unit="MWh", temperature_c=90),
        ],
    )


def test_plan_first_then_left_out_with_reasons(park, small_taxonomy):
    r = match(park, small_taxonomy, now=NOW)
    plan = [s for s in r.synergies if s.in_plan]
    rest = [s for s in r.synergies if not s.in_plan]
    assert r.synergies == tuple(plan + rest)
    assert [s.id for s in r.synergies] == [f"S-{i:04d}" for i in range(1, len(r.synergies) + 1)]
    assert [s.rank for s in r.synergies] == list(range(1, len(r.synergies) + 1))
    scores = [s.score for s in r.synergies]
    assert scores == sorted(scores, reverse=True) and all(0 <= x <= 1 for x in scores)
    assert [s.savings_eur for s in plan] == sorted((s.savings_eur for s in plan), reverse=True)

    acid, paper = plan[0], plan[1]  # acid is worth far more than paper
    assert acid.resource == "chemical.acid.hcl"
    assert (acid.suppliers[0].company_id, acid.receivers[0].company_id) == ("A", "D")
    assert acid.quantity == pytest.approx(1200) and acid.unit == "t/year" and acid.type == SynergyType.SUBSTITUTION
    assert paper.receivers[0].company_id == "B"  # the nearer receiver gets the paper
    assert paper.tonnes_diverted == pytest.approx(100)

    by_receiver = {s.receivers[0].company_id: s for s in rest}
    assert "le flux de papiers de Papeterie Alpha est déjà alloué à Cartonnerie Bêta" == by_receiver["C"].reason
    assert "coût d'investissement" in by_receiver["E"].reason and "canalisation" in by_receiver["E"].reason
    assert r.summary["synergies"] == len(plan)
    assert r.summary["savings_eur"] == pytest.approx(sum(s.savings_eur for s in plan), abs=0.01)
    assert r.solver["status"] == "OPTIMAL"


def test_explanations_say_who_what_how_much_and_why(park, small_taxonomy):
    r = match(park, small_taxonomy, now=NOW)
    acid = r.synergies[0]
    text = acid.explanation
    assert text.startswith(
        "Papeterie Alpha peut fournir 1\u202f200 t/an d'acide chlorhydrique à Delta Chimie, à 1,4 km : "
    )
    assert "€ d'économies par an" in text and "tCO₂e évitées" in text
    assert "concentration 33 % pour 32 % demandés" in text and "code déchet 06 01 02" in text
    assert len(re.findall(r"\.(?:\s|$)", text)) <= 2  # one or two sentences


def test_deterministic_and_passes_warnings_and_progress(park, small_taxonomy):
    calls = []
    extra = Issue(3, "quantity", "x", "an import warning")
    a = match(park, small_taxonomy, now=NOW, warnings=[extra], progress=lambda done, total: calls.append((done, total)))
    b = match(park, small_taxonomy, now=NOW, warnings=[extra])
    assert dumps(a) == dumps(b)
    assert a.warnings[0] == extra
    assert calls == [(i, 5) for i in range(1, 6)]
    assert a.generated_at == "2026-11-23T10:00:00Z"


def test_json_follows_the_contract_and_the_schema(park, small_taxonomy, tmp_path, capsys):
    r = match(park, small_taxonomy, now=NOW)
    doc = result_to_dict(r)
    assert list(doc) == ["version", "territory", "generated_at", "summary", "synergies", "warnings", "solver"]
    first = doc["synergies"][0]
    assert list(first)[:13] == ["id", "type", "resource", "suppliers", "receivers", "quantity", "unit",
                                "distance_km", "savings_eur", "co2_avoided_t", "score", "rank", "explanation"]
    jsonschema.Draft202012Validator.check_schema(load_schema())
    jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)
    path = tmp_path / "out.json"
    write_json(r, path)
    assert json.loads(path.read_text(encoding="utf-8")) == doc
    write_json(r, "-")
    assert json.loads(capsys.readouterr().out) == doc


def test_schema_rejects_what_the_contract_forbids(park, small_taxonomy):
    doc = result_to_dict(match(park, small_taxonomy, now=NOW))
    schema = load_schema()
    bad = json.loads(json.dumps(doc))
    del bad["synergies"][0]["explanation"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)
    bad = json.loads(json.dumps(doc))
    bad["synergies"][-1]["reason"] = None  # a left-out synergy must say why
    assert not bad["synergies"][-1]["in_plan"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


def test_spec_example_is_valid_against_the_schema():
    spec = ROOT.parent / "shared" / "spec" / "synergy-output.md"
    if not spec.exists():
        pytest.skip("shared/spec is not beside the repository")
    example = json.loads(re.search(r"```json\n(.*?)```", spec.read_text(encoding="utf-8"), re.S).group(1))
    jsonschema.validate(example, load_schema(), cls=jsonschema.Draft202012Validator)


def test_empty_diagnostic(small_taxonomy):
    r = match(diagnostic([], []), small_taxonomy, now=NOW)
    assert r.synergies == () and r.summary["synergies"] == 0
    jsonschema.validate(result_to_dict(r), load_schema(), cls=jsonschema.Draft202012Validator)


# --------------------------------------------------------------------------
# Matching by meaning and figures a practitioner signs
# --------------------------------------------------------------------------


def test_cli_match_proposes_generic_steam_for_a_specific_need_with_what_to_check(tmp_path):
    import subprocess
    import sys

    csv = tmp_path / "vapeur.csv"
    csv.write_text(
        "company_id,company_name,direction,resource,quantity,unit,period,lat,lon\n"
        "chauf,Chaufferie Nord,out,energy.steam,20000,MWh,year,43.4400,4.9400\n"
        "chim,Chimie Sud,in,energy.steam.high,15000,MWh,year,43.4440,4.9450\n",
        encoding="utf-8",
    )
    proc = subprocess.run([sys.executable, "-m", "symbiose", "match", str(csv), "--json", "-"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (s,) = [s for s in doc["synergies"] if s["type"] == "substitution"]
    assert (s["suppliers"][0]["company_id"], s["receivers"][0]["company_id"]) == ("chauf", "chim")
    assert s["in_plan"] and s["quantity"] == pytest.approx(15000) and s["details"]["rule"] == "generic"
    assert any("haute pression" in c for c in s["checks"]) and "température" in s["checks"]
    assert "à vérifier : " in s["explanation"] and "haute pression" in s["explanation"]
    jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)


@pytest.fixture()
def signed_taxonomy(tmp_path):
    from tests.conftest import TEST_PARAMETERS, TEST_RESOURCES, TEST_RULES, fig, make_taxonomy

    gypsum = [
        {"code": "mineral", "label_fr": "Minéraux", "label_en": "Minerals", "unit": "t", "max_distance_km": fig(150)},
        {"code": "mineral.gypsum", "label_fr": "Gypse", "label_en": "Gypsum"},
        {"code": "mineral.gypsum.fgd", "label_fr": "Gypse de désulfuration", "label_en": "FGD gypsum",
         "ewc": ["100105"], "disposal_cost_eur": fig(-5), "purchase_price_eur": fig(7),
         "co2_virgin_kg": fig(10)},
    ]
    params = {**TEST_PARAMETERS, "materiality_min_eur": 1000, "materiality_min_t": 1, "co2_shadow_price_eur_per_t": 250}
    return make_taxonomy(tmp_path, resources=[*TEST_RESOURCES, *gypsum], rules=TEST_RULES, parameters=params)


def test_minor_leads_stay_out_of_the_plan_and_its_totals(signed_taxonomy):
    d = diagnostic(
        [company("A", name="Bureaux Alpha"), company("B", 2, name="Cartonnerie Bêta"),
         company("C", 4, name="Chimie Gamma"), company("D", 1, 1, name="Delta")],
        [flow("F-paper", "A", "out", "paper", 0.1), flow("F-need", "B", "in", "paper", 0.1),
         flow("F-acid", "C", "out", "chemical.acid.hcl", 1500), flow("F-acid-need", "D", "in", "chemical.acid.hcl", 1200)],
    )
    r = match(d, signed_taxonomy, now=NOW)
    paper = next(s for s in r.synergies if s.resource == "paper")
    acid = next(s for s in r.synergies if s.resource == "chemical.acid.hcl")
    assert 0 < paper.savings_eur < 1000 and paper.minor and not paper.in_plan
    assert paper.reason.startswith("piste mineure") and paper is r.synergies[-1]
    assert acid.in_plan and not acid.minor
    assert r.summary["synergies"] == 1 and r.summary["savings_eur"] == pytest.approx(acid.savings_eur, abs=0.01)
    doc = result_to_dict(r)
    assert [s["minor"] for s in doc["synergies"]] == [False, True]
    jsonschema.validate(doc, load_schema(), cls=jsonschema.Draft202012Validator)


def test_a_by_product_at_zero_net_value_is_not_dropped(signed_taxonomy):
    d = diagnostic(
        [company("P", name="Centrale"), company("G", 3, name="Plâtrerie")],
        [flow("F-fgd", "P", "out", "mineral.gypsum.fgd", 50_000), flow("F-gyp", "G", "in", "mineral.gypsum", 40_000)],
    )
    r = match(d, signed_taxonomy, now=NOW)
    (s,) = r.synergies
    # it is sold at 5 €/t today and bought 7 €/t: handling and the truck eat the margin
    assert s.details["value_eur_per_unit"] <= 0
    assert s.in_plan and not s.minor and s.quantity == pytest.approx(40_000) and s.tonnes_diverted == pytest.approx(40_000)
    assert "coût net" in s.explanation and "Débouché de sous-produit" in s.explanation and s.co2_avoided_t > 0
    assert s.details["basis"] == "byproduct_outlet"
    # 140 km away the truck costs 14 €/t, more than the 10 kgCO2e/t avoided is worth at 250 €/t: not proposed
    far = diagnostic(
        [company("P", name="Centrale"), company("G", 140, name="Plâtrerie")],
        [flow("F-fgd", "P", "out", "mineral.gypsum.fgd", 50_000), flow("F-gyp", "G", "in", "mineral.gypsum", 40_000)],
    )
    assert match(far, signed_taxonomy, now=NOW).synergies == ()


def test_same_postcode_distance_is_said_approximate(small_taxonomy):
    from symbiose.domain import Company

    a = Company("A", "Alpha", 43.44, 4.94, postcode="13270")
    b = Company("B", "Bêta", 43.44, 4.94, postcode="13270")
    r = match(diagnostic([a, b], [flow("S", "A", "out", "paper", 100), flow("D", "B", "in", "paper", 100)]),
              small_taxonomy, now=NOW)
    (s,) = r.synergies
    assert "même code postal : distance approximative" in s.explanation and "à 0 km" not in s.explanation
    assert s.details["distance_approximate"] is True


def test_report_lists_minor_leads_apart_and_leaves_them_out_of_its_totals(tmp_path):
    from symbiose.services.reports import write_file_report_set

    csv = tmp_path / "zone.csv"
    csv.write_text(
        "company_id,company_name,direction,resource,quantity,unit,period,lat,lon\n"
        "cab,Cabinet Comptable,out,paper.office,0.4,t,year,43.4400,4.9400\n"
        "cart,Cartonnages,in,paper.office,30,t,year,43.4700,4.9800\n"
        "chim,Chimie Alpha,out,chemical.acid.hcl,1500,t,year,43.4500,4.9500\n"
        "chim2,Chimie Bêta,in,chemical.acid.hcl,1200,t,year,43.4550,4.9550\n",
        encoding="utf-8",
    )
    files = write_file_report_set(csv, tmp_path / "out", territory="zone")
    doc = json.loads(Path(files["json"]).read_text(encoding="utf-8"))
    minor = [s for s in doc["synergies"] if s["minor"]]
    assert [s["resource"] for s in minor] == ["paper.office"] and not minor[0]["in_plan"]
    assert doc["summary"]["synergies"] == sum(s["in_plan"] for s in doc["synergies"])
    html = Path(files["html"]).read_text(encoding="utf-8")
    assert "Pistes mineures, hors totaux (1)" in html and "Pistes étudiées mais non retenues" not in html
