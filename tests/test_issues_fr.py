"""Import problems: a message code each, a French template per code, the
column as the file wrote it, and the contract's error line."""

import re
from pathlib import Path

import pytest

from symbiose.domain import Issue
from symbiose.explain.issues import TEMPLATES, WARNINGS, issue, issue_line, render
from symbiose.ingest import read_diagnostic

ROOT = Path(__file__).resolve().parents[1]
MESSY = (
    "company_id,company_name,direction,resource,quantity,unit,period,lat,lon,postcode,ewc,naf,hazardous,months,couleur\n"
    "A,a,out,wood.pallet,beaucoup,t,an,43,5,,,,,,\n"
    "A,a,sideways,wood.pallet,-1,brouettes,parfois,200,5,,15 01,99,peut-être,13-14,\n"
    ",,out,,1,t,an,,,99999,,,,,\n"
    "B,b,out,xqzzv,0,t,an,43,5,,999999,,,,bleu\n"
    "B,c,out,xqzzv,0,t,an,43,,,,,,,\n"
    "C,c,out,wood.pallet,1,t,an,,,7500,,,,,\n"
)
# words of English sentences that must never reach an animator
ENGLISH = re.compile(r"\b(expected|found|row|column|the|should|must|cannot|unknown column|number)\b")


def _codes_and_messages(data: bytes | Path) -> list[Issue]:
    p = read_diagnostic(data, territory="t")
    return [*p.errors, *p.warnings]


def test_every_importer_problem_has_a_code_and_french_text():
    seen = []
    for data in [MESSY.encode(), b"", b"\xff\xfe\x00garbage", b"a,b\n1,2\n"]:
        seen += _codes_and_messages(data)
    for path in sorted((ROOT / "datasets").rglob("*.csv")):
        seen += _codes_and_messages(path)
    assert len({i.code for i in seen}) > 15
    for item in seen:
        assert item.code in TEMPLATES, item
        assert item.message == render(item.code, item.params)
        assert not ENGLISH.search(item.message.replace("« unknown »", "")), item.message


def test_every_template_renders_in_french():
    for code, template in TEMPLATES.items():
        names = re.findall(r"{(\w+)}", template)
        text = render(code, {n: 1.5 for n in names})
        assert "{" not in text and not ENGLISH.search(text.replace("« unknown »", "")), (code, text)
        assert ("1,5" in text) == bool(names), "numbers are written the French way"
    assert WARNINGS <= set(TEMPLATES)


def test_the_contract_line_names_the_column_as_the_file_wrote_it():
    text = "id_entreprise;entreprise;sens;ressource;quantite;unite;code_postal\nc1;A;sortant;carton;3;t;13270\nc2;B;sortant;carton;3;t;13270\nc3;X;sortant;carton;beaucoup;t;13270\n"
    p = read_diagnostic(text.encode(), territory="t")
    assert [issue_line(e) for e in p.errors] == [
        "ligne 4, colonne quantite : « beaucoup » trouvé, un nombre attendu (ex. 1 250,5)"
    ]
    assert p.errors[0].code == "number.invalid"


def test_an_empty_cell_is_said_so_and_a_header_problem_has_no_value():
    assert issue_line(issue("company_name.missing", row=3, column="Raison sociale", value="")) == (
        "ligne 3, colonne Raison sociale : rien trouvé, le nom de l'entreprise attendu")
    assert issue_line(issue("header.missing", row=1, column="quantity", field="quantity", aliases="quantite")) == (
        "ligne 1, colonne quantity : une colonne quantity attendue (ou quantite)")


@pytest.mark.parametrize("value,shown", [("x" * 199, "x" * 199), ("x" * 500, "x" * 199 + "…")])
def test_long_values_are_cut_in_reports(value, shown):
    assert issue("text.too_long", row=2, column="c", value=value, maximum=128, length=len(value)).value == shown
