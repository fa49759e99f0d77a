"""The pre-diagnostic pages in-process: upload a firm list, the visit list,
a visit confirming a flow; a portal key sees no confidential firm's name."""

from __future__ import annotations

from tests.web.conftest import TERRITORY, sign_in

HIDDEN = "Chimie Confidentielle du Golfe"
FIRMS = (
    "siret;raison_sociale;naf;tranche_effectif;code_postal;commune;confidentiel\n"
    "44444444400044;Négoce Emballages du Port;46.76Z;12;13270;Fos-sur-Mer;non\n"
    "66666666600066;Garage de la Darse;45.20A;03;13270;Fos-sur-Mer;non\n"
    f"55555555500055;{HIDDEN};20.59Z;21;13270;Fos-sur-Mer;oui\n"
)


def test_prediagnostic_pages_upload_list_and_visit(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    page = client.get(f"/territoires/{TERRITORY}/visites")
    assert page.status_code == 200 and "Pas encore de pré-diagnostic" in page.text
    bad = client.post(f"/territoires/{TERRITORY}/visites/pre-diagnostic",
                      files={"fichier": ("l.csv", b"siret;raison_sociale;naf;code_postal\n1;X;abc;13270\n", "text/csv")})
    assert bad.status_code == 422 and "code NAF" in bad.text
    ok = client.post(f"/territoires/{TERRITORY}/visites/pre-diagnostic",
                     files={"fichier": ("etablissements.csv", FIRMS.encode(), "text/csv")})
    assert ok.status_code == 200, ok.text
    assert "Négoce Emballages du Port" in ok.text and "probable" in ok.text and "à confirmer" in ok.text
    flows = [f["properties"] for f in client.get(f"/territoires/{TERRITORY}/carte.geojson").json()["features"]
             if f["properties"]["kind"] == "flow"]
    assert {p["status"] for p in flows} == {"declared", "probable"}
    flow_id = ok.text.split('<option value="', 1)[1].split('"', 1)[0]
    assert flow_id.startswith("P-")
    done = client.post(f"/territoires/{TERRITORY}/visites/confirmer", follow_redirects=False,
                       data={"flux": flow_id, "quantite": "12,5", "unite": "t", "remarque": "vu"})
    assert done.status_code == 303
    after = client.get(f"/territoires/{TERRITORY}/visites")
    assert "(visitée)" in after.text
    wrong = client.post(f"/territoires/{TERRITORY}/visites/confirmer", data={"flux": "P-000", "quantite": "1", "unite": "t"})
    assert wrong.status_code == 422

    client.post("/deconnexion")
    sign_in(client, prepared_db.keys.portal)
    portal = client.get(f"/territoires/{TERRITORY}/visites")
    assert portal.status_code == 200 and HIDDEN not in portal.text and "55555555500055" not in portal.text
    assert "Lancer le pré-diagnostic" not in portal.text
    portal_map = client.get(f"/territoires/{TERRITORY}/carte.geojson").text
    assert HIDDEN not in portal_map and "55555555500055" not in portal_map
    assert client.post(f"/territoires/{TERRITORY}/visites/pre-diagnostic",
                       files={"fichier": ("l.csv", FIRMS.encode(), "text/csv")}).status_code == 403
