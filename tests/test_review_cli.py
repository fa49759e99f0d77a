"""``symbiose import --json`` on EWC-only rows and ``symbiose review`` as an
animator runs them (the typer app in-process, real database file)."""

import json
from types import SimpleNamespace

from typer.testing import CliRunner

from symbiose.cli import app


def symbiose(*args: str, db: str | None = None, check: bool = False) -> SimpleNamespace:
    result = CliRunner().invoke(app, [*args, *(["--db", db] if db else [])])
    if check:
        assert result.exit_code == 0, (result.stdout, result.stderr)
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)

DIAGNOSTIC = (
    "Identifiant entreprise;Raison sociale;Sens du flux;Nature du déchet;Quantité annuelle;Unité;Code postal;Code déchet\n"
    "c1;Garage du Port;sortant;;800;kg;13110;13 02 05*\n"
    "c2;Cartonnerie;sortant;;12;t;13270;15 01 01\n"
    "c3;Atelier;sortant;xqzzv bidules;3;t;13270;\n"
)


def test_ewc_only_rows_are_listed_with_empty_text_and_review_corrects(sqlite_url, tmp_path):
    path = tmp_path / "diagnostic.csv"
    path.write_text(DIAGNOSTIC, encoding="utf-8")
    report = json.loads(symbiose("import", str(path), "--territory", "zt", "--json", db=sqlite_url, check=True).stdout)
    assert [(c["row"], c["text"], c["code"]) for c in report["classified"]] == [
        (2, "", "oil.motor_used"), (3, "", "paper.cardboard"), (4, "xqzzv bidules", "unknown"),
    ]
    listing = json.loads(symbiose("review", "--territory", "zt", "--json", db=sqlite_url, check=True).stdout)
    assert [(i["text"], i["reason"]) for i in listing["items"]] == [("xqzzv bidules", "unknown")]
    flow_id = listing["items"][0]["flow_id"]

    bad = symbiose("review", "--territory", "zt", "--set", f"{flow_id}=bois", db=sqlite_url)
    assert bad.returncode == 1 and "n'est pas un code de la taxonomie" in bad.stderr
    assert symbiose("review", "--territory", "zt", "--set-text", "sans-egal", db=sqlite_url).returncode == 2

    done = json.loads(symbiose("review", "--territory", "zt", "--set-text", "XQZZV bidules=wood.pallet", "--by", "claire",
                               "--json", db=sqlite_url, check=True).stdout)
    made = done["corrections"][0]
    assert made["code"] == "wood.pallet" and made["actor"] == "cli:claire" and len(made["flows_updated"]) == 1

    again = json.loads(symbiose("import", str(path), "--territory", "zt", "--json", db=sqlite_url, check=True).stdout)
    assert [c["code"] for c in again["classified"] if c["text"] == "xqzzv bidules"] == ["wood.pallet"]
    assert json.loads(symbiose("review", "--territory", "zt", "--json", db=sqlite_url, check=True).stdout)["total"] == 0
    plain = symbiose("review", "--territory", "zt", "--no-interactive", db=sqlite_url, check=True)
    assert "Rien à revoir" in plain.stdout


def test_interactive_review_searches_then_corrects(sqlite_url, tmp_path):
    path = tmp_path / "diagnostic.csv"
    path.write_text(DIAGNOSTIC, encoding="utf-8")
    symbiose("import", str(path), "--territory", "zt", db=sqlite_url, check=True)
    # words that are no code: the nearest codes are shown; then a code; then the end
    result = CliRunner().invoke(app, ["review", "--territory", "zt", "--interactive", "--by", "claire", "--db", sqlite_url],
                                input="palettes\nwood.pallet\n")
    assert result.exit_code == 0, result.stdout
    assert "Codes proches : wood.pallet (Palettes bois)" in result.stdout
    assert "Correction enregistrée" in result.stdout
    listing = json.loads(symbiose("review", "--territory", "zt", "--json", db=sqlite_url, check=True).stdout)
    assert listing["total"] == 0


def test_import_usage_errors_are_french(sqlite_url, tmp_path):
    path = tmp_path / "diagnostic.csv"
    path.write_text(DIAGNOSTIC, encoding="utf-8")
    bad = symbiose("import", str(path), "--territory", "Zone Nord", db=sqlite_url)
    assert bad.returncode == 2
    assert "« Zone Nord » trouvé, un code de territoire attendu" in bad.stderr
    wrong = tmp_path / "faux.csv"
    wrong.write_text(DIAGNOSTIC.replace("c2;Cartonnerie;sortant;;12;t", "c2;Cartonnerie;sortant;;douze;t"), encoding="utf-8")
    rejected = symbiose("import", str(wrong), "--territory", "zt", db=sqlite_url)
    assert rejected.returncode == 1
    assert "ligne 3, colonne Quantité annuelle : « douze » trouvé, un nombre attendu (ex. 1 250,5)" in rejected.stderr
