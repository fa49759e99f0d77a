"""Reading diagnostics: formats, aliases, row errors, warnings; never a traceback."""

import io
import string

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbiose.domain import ALL_MONTHS, Direction
from symbiose.ingest import parse_months, parse_number, read_diagnostic

HEADER_EN = "company_id,company_name,direction,resource,quantity,unit,period,lat,lon"
GOOD_EN = HEADER_EN + "\nA1,Alpha,out,wood.pallet,2,t,month,43.44,4.94\nB1,Beta,in,wood.pallet,10,t,year,43.45,4.95\n"


def read(text: str | bytes, **kw):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_diagnostic(data, territory="test", **kw)


def errors_at(parsed):
    return {(e.row, e.column) for e in parsed.errors}


def test_english_csv_reads_and_normalises():
    p = read(GOOD_EN)
    assert p.ok, p.errors
    flows = {f.company_id: f for f in p.diagnostic.flows}
    assert flows["A1"].direction is Direction.OUT
    assert flows["A1"].quantity == pytest.approx(24.0)
    assert flows["B1"].quantity == pytest.approx(10.0)
    assert {c.id for c in p.diagnostic.companies} == {"A1", "B1"}


def test_french_headers_semicolons_decimal_comma_bom_and_nbsp():
    text = (
        "\ufeffID_Entreprise;Raison sociale;Sens;Ressource;Quantité;Unité;Fréquence;Code postal;Commune;Confidentiel\n"
        "c1;Chlorochimie;sortant;wood.pallet;1\u00a0250,5;kg;mois;13270;Fos-sur-Mer;oui\n"
        "c2;Garage;entrant;wood.pallet;3 000;kg;an;13500;Martigues;non\n"
    )
    p = read(text)
    assert p.ok, p.errors
    flows = {f.company_id: f for f in p.diagnostic.flows}
    assert flows["c1"].quantity == pytest.approx(1250.5 * 12 / 1000)
    assert flows["c1"].lat == pytest.approx(43.44, abs=0.1)
    companies = {c.id: c for c in p.diagnostic.companies}
    assert companies["c1"].confidential and not companies["c2"].confidential


def test_xlsx_sheet_named_flux(tmp_path):
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    book.add_worksheet("notes").write(0, 0, "ignore me")
    sheet = book.add_worksheet("Flux")
    for r, row in enumerate([HEADER_EN.split(","), ["A1", "Alpha", "out", "wood.pallet", 2, "t", "month", 43.44, 4.94]]):
        for c, v in enumerate(row):
            sheet.write(r, c, v)
    book.close()
    p = read(buf.getvalue(), filename="d.xlsx")
    assert p.ok, p.errors
    assert p.diagnostic.flows[0].quantity == pytest.approx(24.0)


@pytest.mark.parametrize(
    "row,column",
    [
        ("A1,Alpha,out,wood.pallet,beaucoup,t,year,43.4,4.9", "quantity"),
        ("A1,Alpha,out,wood.pallet,-3,t,year,43.4,4.9", "quantity"),
        ("A1,Alpha,out,wood.pallet,3,brouettes,year,43.4,4.9", "unit"),
        ("A1,Alpha,out,wood.pallet,3,t,year,200,4.9", "lat"),
        ("A1,Alpha,peut-être,wood.pallet,3,t,year,43.4,4.9", "direction"),
        ("A1,Alpha,out,wood.pallet,3,t,parfois,43.4,4.9", "period"),
        (",Alpha,out,wood.pallet,3,t,year,43.4,4.9", "company_id"),
    ],
)
def test_row_errors_name_row_and_column(row, column):
    p = read(HEADER_EN + "\nB1,Beta,in,wood.pallet,10,t,year,43.45,4.95\n" + row + "\n")
    assert (3, column) in errors_at(p), p.errors
    assert all(e.code and "attendu" in e.message for e in p.errors), p.errors


def test_missing_required_column_is_reported_on_header_row():
    p = read("company_id,company_name,direction,resource,unit,lat,lon\nA,a,out,wood.pallet,t,43,5\n")
    assert (1, "quantity") in errors_at(p)


def test_unknown_postcode_is_a_row_error():
    p = read("company_id,company_name,direction,resource,quantity,unit,postcode\nA,a,out,wood.pallet,1,t,99999\n")
    assert (2, "postcode") in errors_at(p)


def test_unknown_columns_are_kept_and_reported():
    p = read("company_id,company_name,direction,resource,quantity,unit,lat,lon,couleur\nA,a,out,wood.pallet,1,t,43,5,bleu\n")
    assert p.ok
    assert p.ignored_columns == ("couleur",)
    assert p.diagnostic.flows[0].attributes == {"couleur": "bleu"}
    assert any(w.column == "couleur" for w in p.warnings)


def test_ewc_star_implies_hazardous_and_naf_normalised():
    p = read(
        "company_id,company_name,direction,resource,quantity,unit,lat,lon,ewc,naf\n"
        "A,a,out,huiles moteur usagées,1,t,43,5,13 02 05*,4520A\n"
    )
    assert p.ok, p.errors
    f = p.diagnostic.flows[0]
    assert f.hazardous and f.ewc == "130205"
    assert p.diagnostic.companies[0].naf == "45.20A"


def test_free_text_is_classified_and_listed():
    p = read("company_id,company_name,direction,resource,quantity,unit,period,lat,lon\nA,a,out,Palettes EUR 120x80 abîmées,30,palette,month,43,5\nA,a,out,xqzzv,1,t,year,43,5\n")
    assert p.ok, p.errors
    by_text = {c.text: c for c in p.classified}
    assert by_text["Palettes EUR 120x80 abîmées"].code.startswith("wood.pallet")
    assert by_text["xqzzv"].code == "unknown"
    assert any(f.resource == "unknown" for f in p.diagnostic.flows), "an unclassifiable row is kept, not dropped"


def test_duplicate_key_rows_are_summed_with_a_warning():
    p = read(HEADER_EN + "\nA1,Alpha,out,wood.pallet,2,t,year,43.44,4.94\nA1,Alpha,out,wood.pallet,3,t,year,43.44,4.94\n")
    assert p.ok
    assert len(p.diagnostic.flows) == 1 and p.diagnostic.flows[0].quantity == pytest.approx(5)
    assert any(w.code == "flow.duplicate" and "ligne 2" in w.message for w in p.warnings)


@pytest.mark.parametrize("text,value", [("1 250,5", 1250.5), ("1.250,5", 1250.5), ("1,250.5", 1250.5), ("12", 12.0), ("0,5", 0.5)])
def test_numbers(text, value):
    assert parse_number(text, "quantity") == pytest.approx(value)


def test_months():
    assert parse_months("1-12") == ALL_MONTHS
    assert parse_months("5-9") == sum(1 << (m - 1) for m in range(5, 10))
    assert parse_months("11-2") == parse_months("11,12,1,2")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_report_never_a_traceback(data):
    p = read_diagnostic(data, territory="fuzz")  # any bytes: a report, never a traceback
    for e in p.errors:
        assert e.message


_cell = st.text(alphabet=string.ascii_letters + string.digits + " ,.;-*éèà%°\"'\n", max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cell, min_size=1, max_size=10), min_size=0, max_size=8), st.sampled_from([",", ";"]))
def test_any_csv_under_the_real_header_gives_report_or_row_errors(rows, sep):
    header = sep.join(["company_id", "company_name", "direction", "resource", "quantity", "unit", "lat", "lon"])
    body = "\n".join(sep.join(r) for r in rows)
    p = read(header + "\n" + body)
    for e in p.errors:
        assert e.row is None or e.row >= 1
    if p.ok:
        assert all(f.quantity >= 0 for f in p.diagnostic.flows)


def test_xlsx_merged_cells_fill_every_row_they_span():
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    sheet = book.add_worksheet("flux")
    sheet.write_row(0, 0, HEADER_EN.split(","))
    sheet.merge_range(1, 0, 2, 0, "A1")  # one company over two rows, as animators' sheets do
    sheet.merge_range(1, 1, 2, 1, "Alpha")
    sheet.write_row(1, 2, ["out", "wood.pallet", 2, "t", "year", 43.44, 4.94])
    sheet.write_row(2, 2, ["in", "wood.pallet", 1, "t", "year", 43.44, 4.94])
    book.close()
    p = read(buf.getvalue(), filename="d.xlsx")
    assert p.ok, p.errors
    assert sorted(f.direction for f in p.diagnostic.flows) == ["in", "out"]
    assert {f.company_id for f in p.diagnostic.flows} == {"A1"}


def test_utf16_excel_export_is_read():
    p = read(GOOD_EN.encode("utf-16"))
    assert p.ok and len(p.diagnostic.flows) == 2
    assert any(w.code == "file.utf16" and "UTF-16" in w.message for w in p.warnings)


# --------------------------------------------------------------------------
# Headers matched by meaning (headers.yaml)
# --------------------------------------------------------------------------

ANIMATOR_HEADER = (
    "Identifiant entreprise;Raison sociale;Sens du flux;Nature du déchet;Quantité annuelle;Unité de mesure;"
    "Périodicité;Code postal;Commune;Coût unitaire (€);Code APE;Déchet dangereux (oui/non);Température (°C);Remarques"
)


def test_animators_headers_are_matched_by_meaning():
    text = ANIMATOR_HEADER + "\nc1;Chimie;sortant;palettes bois;2;t;mois;13270;Fos-sur-Mer;-5;20.13B;non;;à voir\n"
    p = read(text)
    assert p.ok, p.errors
    assert p.columns == {
        "company_id": "Identifiant entreprise", "company_name": "Raison sociale", "direction": "Sens du flux",
        "resource": "Nature du déchet", "quantity": "Quantité annuelle", "unit": "Unité de mesure",
        "period": "Périodicité", "postcode": "Code postal", "city": "Commune", "cost_eur_per_unit": "Coût unitaire (€)",
        "naf": "Code APE", "hazardous": "Déchet dangereux (oui/non)", "temperature_c": "Température (°C)", "notes": "Remarques",
    }
    flow = p.diagnostic.flows[0]
    assert flow.quantity == pytest.approx(24) and flow.notes == "à voir" and flow.cost_eur_per_unit == pytest.approx(-5)
    assert p.diagnostic.companies[0].naf == "20.13B"


def test_every_alias_of_the_format_is_kept():
    from symbiose.ingest import header_vocabulary

    vocab = header_vocabulary()
    spec = {
        "company_id": ["siret", "id_entreprise"], "company_name": ["entreprise", "raison_sociale"], "direction": ["sens"],
        "resource": ["ressource", "flux"], "quantity": ["quantite"], "unit": ["unite"], "period": ["periode", "frequence"],
        "lat": ["latitude"], "lon": ["longitude"], "postcode": ["code_postal"], "city": ["commune"],
        "territory": ["territoire", "zone"], "naf": ["code_naf", "ape"], "ewc": ["code_dechet", "ced"],
        "hazardous": ["dangereux"], "temperature_c": ["temperature"], "concentration_pct": ["concentration"],
        "cost_eur_per_unit": ["cout_unitaire"], "months": ["mois_disponibles"], "confidential": ["confidentiel"],
        "label": ["description", "libelle"], "notes": ["remarques"],
    }
    for column, aliases in spec.items():
        for spelling in [column, *aliases, column.upper(), " ".join(a.replace("_", " ").title() for a in aliases[:1])]:
            assert vocab.match(spelling)[0] == column, spelling


@pytest.mark.parametrize("header,column", [
    ("Quantité (t/an)", "quantity"), ("Nom de l'entreprise", "company_name"), ("N° SIRET", "company_id"),
    ("Commune de l'entreprise", "city"), ("Type de flux", "resource"), ("Prix unitaire", "cost_eur_per_unit"),
    ("Observations", "notes"), ("Code déchet (LER)", "ewc"), ("IDEntreprise", "company_id"),
])
def test_header_variants(header, column):
    from symbiose.ingest import header_vocabulary

    assert header_vocabulary().match(header)[0] == column


def test_ambiguous_and_unknown_headers_are_reported_clearly():
    text = "siret;entreprise;sens;ressource;quantite;unite;code_postal;Flux et quantité;couleur\nc1;A;sortant;carton;3;t;13270;x;bleu\n"
    p = read(text)
    assert p.ok, p.errors
    by_column = {w.column: w for w in p.warnings}
    assert by_column["Flux et quantité"].code == "header.ambiguous"
    assert "quantity ou resource" in by_column["Flux et quantité"].message
    assert by_column["couleur"].code == "header.unknown"
    assert p.diagnostic.flows[0].attributes == {"Flux et quantité": "x", "couleur": "bleu"}


def test_an_exact_header_wins_over_one_that_only_contains_an_alias():
    text = "siret;entreprise;sens;ressource;quantite;Quantité annuelle estimée;unite;code_postal\nc1;A;sortant;carton;3;99;t;13270\n"
    p = read(text)
    assert p.ok, p.errors
    assert p.diagnostic.flows[0].raw_quantity == 3
    assert [w.code for w in p.warnings if w.row == 1] == ["header.shadowed"]
    same = read("quantite;quantity;siret;entreprise;sens;ressource;unite;code_postal\n1;2;c;A;sortant;carton;t;13270\n")
    assert [(e.code, e.column) for e in same.errors] == [("header.duplicate", "quantity")]


# --------------------------------------------------------------------------
# Stored lengths checked while reading; EWC-only rows
# --------------------------------------------------------------------------


def test_length_limits_match_the_stored_columns():
    from symbiose.ingest import MAX_LENGTH
    from symbiose.store.orm import CompanyRow, FlowRow

    stored = {"company_id": CompanyRow.external_id, "company_name": CompanyRow.name, "city": CompanyRow.city,
              "unit": FlowRow.raw_unit}
    assert {k: c.type.length for k, c in stored.items()} == MAX_LENGTH


def test_over_long_values_are_row_errors():
    header = "company_id,company_name,direction,resource,quantity,unit,postcode,city\n"
    rows = [
        f"{'1' * 129},a,out,wood.pallet,1,t,13270,Fos-sur-Mer",
        f"B,{'n' * 513},out,wood.pallet,1,t,13270,Fos-sur-Mer",
        f"C,c,out,wood.pallet,1,t,13270,{'v' * 129}",
        f"{'2' * 128},{'n' * 512},out,wood.pallet,1,t,13270,Fos-sur-Mer",
    ]
    p = read(header + "\n".join(rows) + "\n")
    assert [(e.row, e.column, e.code) for e in p.errors] == [
        (2, "company_id", "text.too_long"), (3, "company_name", "text.too_long"), (4, "city", "text.too_long"),
    ]
    assert "128 caractères au plus attendus (la valeur en a 129)" in p.errors[0].message


def test_a_row_with_only_an_ewc_code_is_classified_from_it():
    p = read(
        "company_id,company_name,direction,resource,quantity,unit,lat,lon,ewc\n"
        "A,Garage,out,,1,t,43,5,13 02 05*\n"
        "B,Cartonnerie,out,,2,t,43,5,150101\n"
        "C,Sans code,out,,2,t,43,5,\n"
    )
    assert [(e.row, e.column, e.code) for e in p.errors] == [(4, "resource", "resource.missing")]
    p = read(
        "company_id,company_name,direction,quantity,unit,lat,lon,code_dechet\n"  # no resource column at all
        "A,Garage,out,1,t,43,5,13 02 05*\nB,Cartonnerie,out,2,t,43,5,150101\n"
    )
    assert p.ok, p.errors
    assert [(c.row, c.text, c.code, c.source) for c in p.classified] == [
        (2, "", "oil.motor_used", "ewc"), (3, "", "paper.cardboard", "ewc"),
    ]
    assert {f.resource for f in p.diagnostic.flows} == {"oil.motor_used", "paper.cardboard"}
    assert all(f.text == "" and f.ewc for f in p.diagnostic.flows)


def test_corrections_are_applied_before_classifying():
    text = HEADER_EN + "\nA1,Alpha,out,XQZZV  bidules !,2,t,year,43.44,4.94\nB1,Beta,out,xqzzv bidules,1,t,year,43.44,4.94\n"
    plain = read(text)
    assert {c.code for c in plain.classified} == {"unknown"}
    fixed = read(text, corrections=lambda territory: {"xqzzv bidules": "wood.pallet"} if territory == "test" else {})
    assert [(c.code, c.confidence, c.source) for c in fixed.classified] == [("wood.pallet", 1.0, "correction")] * 2
    assert {f.resource for f in fixed.diagnostic.flows} == {"wood.pallet"}
    elsewhere = read_diagnostic(text.encode(), territory="autre",
                                corrections=lambda territory: {"xqzzv bidules": "wood.pallet"} if territory == "test" else {})
    assert {c.code for c in elsewhere.classified} == {"unknown"}  # another territory's corrections do not apply


def test_a_code_whose_unit_cannot_count_the_row_is_a_row_error_not_a_crash():
    csv = ("company_id;company_name;direction;resource;quantity;unit;lat;lon\n"
           "A;Alpha;out;energy.heat;40;palette;43.45;4.87\n"
           "B;Beta;out;energy.heat;0;palette;43.45;4.87\n")
    parsed = read_diagnostic(csv.encode("utf-8"), territory="t")
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "unit"), (3, "unit")]
    assert all("energy.heat" in e.message for e in parsed.errors)
