"""The French XLSX diagnostic template: its drop-down values are the
importer's own words, it imports back as it is (its example row), and it is
offered by the CLI, the API and the upload page."""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from symbiose.cli import app
from symbiose.ingest import DIRECTIONS, parse_bool
from symbiose.report.template import COLUMNS, DIRECTIONS_FR, PERIODS_FR, UNITS_FR, YES_NO_FR, template_bytes
from symbiose.services.imports import read_file
from symbiose.units import normalise_period, normalise_unit
from tests.web.conftest import TERRITORY


def test_drop_down_values_are_the_importers_words():
    assert {DIRECTIONS[d].value for d in DIRECTIONS_FR} == {"out", "in"}
    assert {normalise_period(p) for p in PERIODS_FR} == {"year", "month", "week", "day", "once"}
    for unit in UNITS_FR:
        normalise_unit(unit)  # raises for a unit the importer does not read
    assert [parse_bool(v) for v in YES_NO_FR] == [True, False]


def _check_imports(data: bytes) -> None:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == ["flux", "notice"]
    rows = book.get_sheet_by_name("flux").to_python()
    assert rows[0] == [c.header for c in COLUMNS]
    notice = [r[0] for r in book.get_sheet_by_name("notice").to_python()]
    assert all(c.header in notice for c in COLUMNS)  # every column explained
    parsed = read_file(data, territory="zi-modele", filename="modele.xlsx")
    assert parsed.errors == () or list(parsed.errors) == []
    assert [w for w in parsed.warnings if "column" in (w.message or "") or w.row is None] == []
    (company,) = parsed.diagnostic.companies
    (flow,) = parsed.diagnostic.flows
    assert (company.id, company.name, company.naf, company.postcode, company.city) == (
        "E01", "Chlorochimie du Golfe", "20.13B", "13270", "Fos-sur-Mer")
    assert (flow.direction.value, flow.resource, flow.quantity, flow.unit, flow.period) == (
        "out", "chemical.acid.hcl", 3500.0, "t", "year")
    assert (flow.concentration_pct, flow.cost_eur_per_unit, flow.months) == (33.0, -15.0, 4095)
    assert flow.notes.startswith("vendu aujourd'hui")


def test_template_imports_back_without_errors():
    _check_imports(template_bytes())


def test_cli_writes_the_template(tmp_path):
    target = tmp_path / "sous-dossier" / "modele.xlsx"
    result = CliRunner().invoke(app, ["template", "--out", str(target)])
    assert result.exit_code == 0, result.output
    _check_imports(target.read_bytes())


def test_api_serves_the_template_to_a_key(client, prepared_db):
    assert client.get("/api/v1/diagnostic-template.xlsx").status_code == 401
    answer = client.get("/api/v1/diagnostic-template.xlsx",
                        headers={"Authorization": f"Bearer {prepared_db.keys.portal}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "diagnostic-modele.xlsx" in answer.headers["content-disposition"]
    _check_imports(answer.content)


def test_upload_page_downloads_the_template(signed_in):
    pytest.importorskip("playwright")
    pg = signed_in.new_page()
    pg.goto(f"/territoires/{TERRITORY}/diagnostic")
    with pg.expect_download() as info:
        pg.get_by_role("link", name="Télécharger le modèle XLSX").click()
    download = info.value
    assert download.suggested_filename == "diagnostic-modele.xlsx"
    _check_imports(open(download.path(), "rb").read())
    pg.close()
