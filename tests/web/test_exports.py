"""Exports from the pages: the filtered synergy list as CSV (for a French
spreadsheet) and XLSX, every page of it, names as the caller may see them."""

from __future__ import annotations

import csv
import io

from python_calamine import CalamineWorkbook

from tests.web.conftest import TERRITORY, sign_in

HIDDEN_NAME = "Polymères de Lavéra"  # confidential in the test diagnostic


def _api_items(client, key: str, **params) -> list[dict]:
    answer = client.get(f"/api/v1/territories/{TERRITORY}/synergies", params={"size": 500, **params},
                        headers={"Authorization": f"Bearer {key}"})
    return answer.json()["items"]


def test_synergy_list_exports_follow_the_filters(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    for kind in ("", "substitution", "mutualisation"):
        expected = _api_items(client, prepared_db.keys.animator, **({"type": kind} if kind else {}))
        answer = client.get(f"/territoires/{TERRITORY}/synergies.csv", params={"type": kind})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert answer.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][:4] == ["Rang", "Identifiant", "Type", "Ressource"]
        assert [r[1] for r in rows[1:]] == [s["id"] for s in expected]
        if kind:
            assert {r[2] for r in rows[1:]} == {kind.capitalize()}
        workbook = client.get(f"/territoires/{TERRITORY}/synergies.xlsx", params={"type": kind})
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook.content)).get_sheet_by_name("Synergies").to_python()
        assert [r[1] for r in sheet[1:]] == [s["id"] for s in expected]
        savings = {s["id"]: s["savings_eur"] for s in expected}
        assert all(abs(r[10] - savings[r[1]]) < 0.01 for r in sheet[1:])  # numbers stay numbers
    text = client.get(f"/territoires/{TERRITORY}/synergies.csv").content.decode("utf-8-sig")
    assert HIDDEN_NAME in text  # an animator sees every name


def test_portal_export_hides_confidential_names(client, prepared_db):
    sign_in(client, prepared_db.keys.portal)
    text = client.get(f"/territoires/{TERRITORY}/synergies.csv").content.decode("utf-8-sig")
    assert HIDDEN_NAME not in text
    assert "Entreprise chimie" in text
    assert client.get(f"/territoires/{TERRITORY}/synergies.pdf").status_code == 404


def test_dashboard_offers_the_territory_report(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    dashboard = client.get(f"/territoires/{TERRITORY}").text
    assert f"/territoires/{TERRITORY}/rapport.html" in dashboard
    report = client.get(f"/territoires/{TERRITORY}/rapport.html")
    assert report.status_code == 200
    assert "attachment" in report.headers["content-disposition"]
    assert "Fiches entreprises" in report.text and HIDDEN_NAME in report.text
    sign_in(client, prepared_db.keys.portal)
    assert client.get(f"/territoires/{TERRITORY}/rapport.html").status_code == 403
    assert f"/territoires/{TERRITORY}/rapport.html" not in client.get(f"/territoires/{TERRITORY}").text
