"""The pre-diagnostic over real HTTP: firm list upload, probable flows in the
flow listing, the visit list, a visit confirming a flow; portal keys never see
a confidential firm's name nor its probable flows."""

from __future__ import annotations

import json

from tests.api.conftest import SECRET_ID, SECRET_NAME, TERRITORY, auth, diagnostic_csv

BASE = f"/api/v1/territories/{TERRITORY}"
HIDDEN_FIRM = "Discrète Chimie Fine SAS"
HIDDEN_SIRET = "55555555500055"
FIRMS = (
    "siret;raison_sociale;naf;tranche_effectif;code_postal;commune;lat;lon;confidentiel\n"
    "44444444400044;Négoce Emballages du Port;46.76Z;12;13270;Fos-sur-Mer;43.4650;4.8850;non\n"
    f"{HIDDEN_SIRET};{HIDDEN_FIRM};20.59Z;21;13270;Fos-sur-Mer;43.4660123;4.8860456;oui\n"
)


def _upload(client, key, body: str, name: str = "etablissements.csv"):
    return client.post(f"{BASE}/prediagnostics", headers=auth(key), files={"file": (name, body.encode(), "text/csv")})


def test_prediagnostic_upload_visits_flows_and_visit_confirmation(client, keys):
    assert client.post(f"{BASE}/diagnostics", headers=auth(keys.animator),
                       files={"file": ("d.csv", diagnostic_csv(), "text/csv")}).status_code == 201
    bad = _upload(client, keys.animator, "siret;raison_sociale;naf;code_postal\n1;X;abc;13270\n")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert {(e["row"], e["column"], e["value"]) for e in bad.json()["errors"]} == {(2, "naf", "abc")}
    assert _upload(client, keys.portal, FIRMS).status_code == 403

    r = _upload(client, keys.animator, FIRMS)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["written"] and {f["company_id"] for f in body["firms"]} == {"44444444400044", HIDDEN_SIRET}
    assert all(f["visit_rank"] for f in body["firms"])

    visits = client.get(f"{BASE}/visits", headers=auth(keys.animator)).json()
    assert [f["visit_rank"] for f in visits["firms"] if f["visit_rank"]] == [1, 2]
    probable = client.get(f"{BASE}/flows", params={"status": "probable", "size": 500}, headers=auth(keys.animator)).json()
    assert probable["total"] > 5 and {i["status"] for i in probable["items"]} == {"probable"}
    assert all(0 < i["probability"] <= 1 and i["quantity_low"] <= i["quantity_high"] for i in probable["items"])
    declared = client.get(f"{BASE}/flows", params={"status": "declared"}, headers=auth(keys.animator)).json()
    assert declared["total"] == 11

    # the portal: neither the confidential firm's name nor its probable flows
    seen = json.dumps([
        client.get(f"{BASE}/visits", headers=auth(keys.portal)).json(),
        client.get(f"{BASE}/flows", params={"size": 500}, headers=auth(keys.portal)).json(),
        client.get(f"{BASE}/flows", params={"status": "probable", "size": 500}, headers=auth(keys.portal)).json(),
    ], ensure_ascii=False)
    for secret in (HIDDEN_FIRM, HIDDEN_SIRET, "43.4660123", SECRET_NAME, SECRET_ID):
        assert secret not in seen
    portal_probable = client.get(f"{BASE}/flows", params={"status": "probable", "size": 500}, headers=auth(keys.portal)).json()
    assert portal_probable["total"] < probable["total"]

    # a visit confirms one probable flow: declared now, with its trace
    flow = next(i for i in probable["items"] if i["company_id"] == "44444444400044")
    assert client.post(f"{BASE}/visits", json={"flow_id": flow["id"], "quantity": 12, "unit": "t"},
                       headers=auth(keys.portal)).status_code == 403
    wrong = client.post(f"{BASE}/visits", json={"flow_id": "P-000000000000", "quantity": 1, "unit": "t"},
                        headers=auth(keys.animator))
    assert wrong.status_code == 422
    ok = client.post(f"{BASE}/visits", json={"flow_id": flow["id"], "quantity": 12, "unit": "t", "note": "visite"},
                     headers=auth(keys.animator))
    assert ok.status_code == 201 and ok.json()["status"] == "declared"
    trace = client.get(f"{BASE}/visits/trace", headers=auth(keys.animator)).json()
    assert trace[0]["flow_id"] == flow["id"] and trace[0]["probable"]["probability"] == flow["probability"]
    assert client.get(f"{BASE}/flows", params={"status": "declared"}, headers=auth(keys.animator)).json()["total"] == 12


def test_visits_of_a_territory_without_prediagnostic_is_an_empty_list(client, keys):
    r = client.get(f"{BASE}/visits", headers=auth(keys.animator))
    assert r.status_code == 200 and r.json()["firms"] == [] and r.json()["generated_at"] is None
    assert client.get(f"{BASE}/visits/trace", headers=auth(keys.portal)).json() == []
