"""Review and corrections over real HTTP (SQLite, then PostgreSQL): the list of
flows to review, a correction applied at once and kept by a re-import, the
scope rules (animators only), French 422s, and the code picker's search."""

from __future__ import annotations

from tests.api.conftest import OTHER, ROWS, TERRITORY, auth, diagnostic_csv, upload

UNKNOWN_TEXT = "xqzzv bidules du quai"
EXTRA = [
    f"C6;Atelier Inconnu;out;{UNKNOWN_TEXT};12;t;year;43.45;4.87;13270;Fos-sur-Mer;25.62A;non;;",
    "C7;Garage du Port;out;;3;t;year;43.44;4.86;13270;Fos-sur-Mer;45.20A;non;;",
]
HEADER_EWC = ";ewc"


def _csv() -> bytes:
    """The test diagnostic with an EWC column: an unknown text and a row that gives only its EWC code."""
    from tests.api import conftest

    lines = [conftest.HEADER + HEADER_EWC, *(r + ";" for r in ROWS), EXTRA[0] + ";", EXTRA[1] + ";02 03 04"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _review(client, key, territory=TERRITORY):
    return client.get(f"/api/v1/territories/{territory}/review", headers=auth(key))


def test_review_lists_unknown_and_low_confidence_flows_with_guesses(client, keys):
    r = upload(client, keys.animator, _csv())
    assert r.status_code == 201, r.text
    report = r.json()
    ewc_only = [c for c in report["classified"] if c["text"] == ""]
    assert len(ewc_only) == 1 and ewc_only[0]["code"].startswith("organic") and ewc_only[0]["source"] == "ewc"
    assert ewc_only[0]["confidence"] >= 0.6  # the taxonomy maps every EWC entry: confident, nothing to review
    # a low-confidence text joins the unknown one in the review list
    weak = diagnostic_csv(["C8;Négoce Sud;out;lot divers;4;t;year;43.45;4.87;13270;Fos-sur-Mer;46.90Z;non;;"])
    r = upload(client, keys.animator, weak)
    assert r.status_code == 201, r.text
    body = _review(client, keys.animator).json()
    by_text = {i["text"]: i for i in body["items"]}
    assert "" not in by_text
    assert by_text[UNKNOWN_TEXT]["reason"] == "unknown" and by_text[UNKNOWN_TEXT]["resource"] == "unknown"
    assert body["total"] == len(body["items"]) >= 1
    assert body["items"][0]["reason"] == "unknown"  # unknown first
    for item in body["items"]:
        assert item["reason"] in ("unknown", "low_confidence")
        assert len(item["guesses"]) <= 3 and all(g["label"] for g in item["guesses"])
        if item["reason"] == "low_confidence":
            assert item["guesses"][0]["code"] == item["resource"]  # the current code is the first guess

    # an animator's job: a portal key gets 403, another territory's key 404
    assert _review(client, keys.portal).status_code == 403
    assert "animateurs" in _review(client, keys.portal).json()["detail"]
    assert _review(client, keys.other_animator).status_code == 404
    assert client.get(f"/api/v1/territories/{OTHER}/review", headers=auth(keys.animator)).status_code == 404


def test_correction_is_applied_and_kept_by_a_reimport(client, keys):
    assert upload(client, keys.animator, _csv()).status_code == 201
    base = f"/api/v1/territories/{TERRITORY}"
    r = client.post(base + "/corrections", headers=auth(keys.animator),
                    json={"text": "XQZZV bidules, du quai", "code": "wood.pallet"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["code"] == "wood.pallet" and made["created"] and len(made["flows_updated"]) == 1
    assert made["actor"].startswith("animator:") and made["created_at"].endswith("Z")
    flows = client.get(base + "/flows", headers=auth(keys.animator), params={"company_id": "C6"}).json()["items"]
    assert [(f["resource"], f["confidence"]) for f in flows] == [("wood.pallet", 1.0)]

    # the EWC-only row corrected through its flow id (it was classified from its code, confidently)
    ewc_flow = client.get(base + "/flows", headers=auth(keys.animator), params={"company_id": "C7"}).json()["items"][0]
    r = client.post(base + "/corrections", headers=auth(keys.animator),
                    json={"flow_id": ewc_flow["id"], "code": "organic.bakery"})
    assert r.status_code == 201, r.text
    assert _review(client, keys.animator).json()["total"] == 0

    # the same file again: both corrections re-applied, nothing to review, nothing changed
    again = upload(client, keys.animator, _csv()).json()
    assert again["created"] == {"companies": 0, "flows": 0} and again["updated"]["flows"] == 0
    sources = {c["text"]: (c["code"], c["source"]) for c in again["classified"]}
    assert sources[UNKNOWN_TEXT] == ("wood.pallet", "correction") and sources[""] == ("organic.bakery", "correction")
    assert _review(client, keys.animator).json()["total"] == 0

    listed = client.get(base + "/corrections", headers=auth(keys.animator)).json()
    assert listed["total"] == 2
    assert {c["code"] for c in listed["items"]} == {"wood.pallet", "organic.bakery"}
    assert client.get(base + "/corrections", headers=auth(keys.portal)).status_code == 403

    # the other territory does not inherit them
    other = diagnostic_csv([EXTRA[0].replace("C6", "D6")])
    r = upload(client, keys.other_animator, other, territory=OTHER)
    assert r.status_code == 201, r.text
    assert [c["code"] for c in r.json()["classified"]] == ["unknown"]


def test_bad_corrections_are_refused_in_french(client, keys):
    assert upload(client, keys.animator, _csv()).status_code == 201
    url = f"/api/v1/territories/{TERRITORY}/corrections"
    r = client.post(url, headers=auth(keys.animator), json={"text": UNKNOWN_TEXT, "code": "bois.palette"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "n'est pas un code de la taxonomie" in r.json()["detail"]
    assert r.json()["errors"][0]["column"] == "code"
    r = client.post(url, headers=auth(keys.animator), json={"text": UNKNOWN_TEXT, "flow_id": "F-0", "code": "wood.pallet"})
    assert r.status_code == 422 and "pas les deux" in r.json()["detail"]
    r = client.post(url, headers=auth(keys.animator), json={"text": UNKNOWN_TEXT})
    assert r.status_code == 422 and "code" in r.json()["detail"]
    assert client.post(url, headers=auth(keys.animator), json={"flow_id": "F-000000000000", "code": "wood.pallet"}).status_code == 404
    # heat in tonnes cannot be counted: the flow named is refused, nothing written
    c6 = next(i for i in _review(client, keys.animator).json()["items"] if i["text"] == UNKNOWN_TEXT)
    r = client.post(url, headers=auth(keys.animator), json={"flow_id": c6["flow_id"], "code": "energy.heat"})
    assert r.status_code == 422 and "ne se compte pas" in r.json()["detail"]
    assert client.get(url, headers=auth(keys.animator)).json()["total"] == 0
    assert client.post(url, headers=auth(keys.portal), json={"text": UNKNOWN_TEXT, "code": "wood.pallet"}).status_code == 403


def test_code_picker_searches_the_taxonomy_in_french(client, keys):
    r = client.get("/api/v1/taxonomy/codes", headers=auth(keys.portal), params={"q": "palettes"})
    assert r.status_code == 200
    codes = [c["code"] for c in r.json()]
    assert "wood.pallet" in codes[:3]
    assert all(c["label"] for c in r.json())
    assert client.get("/api/v1/taxonomy/codes", params={"q": "palettes"}).status_code == 401
