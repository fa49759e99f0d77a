"""The web pages in-process (TestClient on the real app): sign-in cookie,
scope and roles as in the API, escaping, anonymisation for portal keys,
nothing written for a rejected diagnostic."""

from __future__ import annotations

import re

from tests.web.conftest import DATA, TERRITORY, XSS_NAME, sign_in

HIDDEN_NAME = "Polymères de Lavéra"  # flagged confidentiel=oui in the test diagnostic


def _company_count(url: str) -> int:
    from symbiose.services.territories import get_territory, territory_counts
    from symbiose.store import UnitOfWork

    with UnitOfWork(url) as uow:
        return territory_counts(uow, get_territory(uow, TERRITORY))["companies"]


def test_pages_need_a_key_and_the_cookie_is_httponly_strict(client, prepared_db):
    response = client.get(f"/territoires/{TERRITORY}/synergies", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/connexion?suite=%2Fterritoires%2F{TERRITORY}%2Fsynergies"

    bad = client.post("/connexion", data={"cle": "sym_not-a-key"}, follow_redirects=False)
    assert bad.status_code == 401
    assert "pas reconnue" in bad.text

    good = client.post("/connexion", follow_redirects=False,
                       data={"cle": prepared_db.keys.animator, "suite": f"/territoires/{TERRITORY}/carte"})
    assert good.status_code == 303
    assert good.headers["location"] == f"/territoires/{TERRITORY}/carte"
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie

    assert client.get(f"/territoires/{TERRITORY}/carte").status_code == 200
    out = client.post("/deconnexion", follow_redirects=False)
    assert out.status_code == 303
    assert client.get(f"/territoires/{TERRITORY}", follow_redirects=False).status_code == 303


def test_sign_in_follows_only_local_paths(client, prepared_db):
    response = client.post("/connexion", data={"cle": prepared_db.keys.animator, "suite": "//evil.example/x"},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


def test_a_territory_out_of_scope_is_a_404_page_like_a_missing_one(client, prepared_db):
    sign_in(client, prepared_db.keys.other_animator)
    outside = client.get(f"/territoires/{TERRITORY}")
    missing = client.get("/territoires/nulle-part")
    assert outside.status_code == missing.status_code == 404
    assert outside.headers["content-type"].startswith("text/html")
    assert outside.text == missing.text
    assert "Chlorochimie" not in outside.text
    # the key's own territory is served; "/" leads there
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/territoires/autre-zone"


def test_pages_send_a_strict_content_security_policy(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    response = client.get(f"/territoires/{TERRITORY}/carte")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    # Leaflet and htmx come from the app itself, never a CDN
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', response.text)
    assert scripts and all(src.startswith("/static/") for src in scripts)
    for src in scripts:
        assert client.get(src).status_code == 200


def test_a_company_name_with_markup_is_escaped_everywhere(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = [
        f"/territoires/{TERRITORY}/synergies",
        f"/territoires/{TERRITORY}/entreprises/E06",
        f"/territoires/{TERRITORY}/carte",
    ]
    for path in pages:
        html = client.get(path).text
        assert XSS_NAME not in html, path
    assert escaped in client.get(pages[0]).text
    assert escaped in client.get(pages[1]).text
    # in the map's embedded data the name is JSON with < and > escaped
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in client.get(pages[2]).text


def test_portal_keys_see_confidential_companies_anonymised_and_cannot_write(client, prepared_db):
    sign_in(client, prepared_db.keys.portal)
    listing = client.get(f"/territoires/{TERRITORY}/synergies")
    assert listing.status_code == 200
    hcl = re.search(r'href="(/territoires/[^"]+/synergies/(S-\d+))">[^<]*Acide chlorhydrique', listing.text)
    assert hcl, "the HCl substitution is listed"
    detail = client.get(hcl.group(1))
    for html in (listing.text, detail.text, client.get(f"/territoires/{TERRITORY}/carte").text,
                 client.get(f"/territoires/{TERRITORY}/carte.geojson").text):
        assert HIDDEN_NAME not in html
        assert "E02" not in html
    assert "Entreprise chimie — Martigues (13)" in detail.text
    assert "Chlorochimie du Golfe" in detail.text  # not confidential: named
    # no write controls, and writes are refused with a 403 page
    assert "Lancer l'appariement" not in client.get(f"/territoires/{TERRITORY}").text
    assert "Abandonner la synergie" not in detail.text
    for path, data in ((f"/territoires/{TERRITORY}/appariements", {}),
                       (f"/territoires/{TERRITORY}/synergies/{hcl.group(2)}/suivi", {"statut": "contacted"})):
        refused = client.post(path, data=data)
        assert refused.status_code == 403
        assert "lecture seule" in refused.text
    assert client.get(f"/territoires/{TERRITORY}/diagnostic").status_code == 403


def test_a_rejected_diagnostic_lists_row_errors_and_writes_nothing(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    before = _company_count(client.database_url)
    response = client.post(
        f"/territoires/{TERRITORY}/diagnostic",
        files={"fichier": ("diagnostic-erreurs.csv", (DATA / "diagnostic-erreurs.csv").read_bytes(), "text/csv")},
    )
    assert response.status_code == 422
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>(\w+)</td>\s*<td><code>([^<]*)</code>", response.text)
    assert ("3", "quantite", "beaucoup") in rows  # the column as the file wrote it
    assert ("4", "sens", "peut-être") in rows
    assert "Rien n'a été enregistré" in response.text
    assert _company_count(client.database_url) == before


def test_follow_up_refuses_a_rejection_without_reason_and_records_a_move(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    listing = client.get(f"/territoires/{TERRITORY}/synergies?type=mutualisation").text
    sid = re.findall(r"/synergies/(S-\d+)\"", listing)[-1]
    path = f"/territoires/{TERRITORY}/synergies/{sid}/suivi"
    refused = client.post(path, data={"statut": "rejected", "note": "  "})
    assert refused.status_code == 422
    assert "indiquez la raison" in refused.text
    moved = client.post(path, data={"statut": "contacted", "note": "appel au responsable logistique"},
                        follow_redirects=False)
    assert moved.status_code == 303
    detail = client.get(moved.headers["location"]).text
    assert 'id="statut-actuel"><span class="badge status-contacted">' in detail
    assert "appel au responsable logistique" in detail
    # backward is refused with the reason, as the API's 409
    back = client.post(path, data={"statut": "proposed"})
    assert back.status_code == 409


def test_a_form_posted_from_another_site_is_refused(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    response = client.post(f"/territoires/{TERRITORY}/appariements", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_pages_stay_out_of_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(p.startswith(("/territoires", "/connexion")) for p in paths)


def test_consent_of_every_party_names_a_confidential_company_to_the_portal(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    listing = client.get(f"/territoires/{TERRITORY}/synergies?famille=chemical").text
    sid = re.search(r"/synergies/(S-\d+)\"", listing).group(1)
    detail = client.get(f"/territoires/{TERRITORY}/synergies/{sid}").text
    assert 'badge muted">confidentielle</span>' in detail
    for company in ("E01", "E02"):
        done = client.post(f"/territoires/{TERRITORY}/synergies/{sid}/accord", data={"entreprise": company},
                           follow_redirects=False)
        assert done.status_code == 303
    stranger = client.post(f"/territoires/{TERRITORY}/synergies/{sid}/accord", data={"entreprise": "E05"})
    assert stranger.status_code == 422

    client.post("/deconnexion")
    sign_in(client, prepared_db.keys.portal)
    named = client.get(f"/territoires/{TERRITORY}/synergies/{sid}").text
    assert HIDDEN_NAME in named
    # elsewhere (the company list of the map) it stays anonymised
    assert HIDDEN_NAME not in client.get(f"/territoires/{TERRITORY}/carte").text


def test_map_data_holds_companies_flows_and_synergies_by_family(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    features = client.get(f"/territoires/{TERRITORY}/carte.geojson").json()["features"]
    kinds = {}
    for f in features:
        kinds.setdefault(f["properties"]["kind"], []).append(f)
    assert len(kinds["company"]) == 7
    assert len(kinds["flow"]) == 10
    assert {f["properties"]["family"] for f in kinds["flow"]} == {"chemical", "energy", "wood", "paper"}
    lines = {f["properties"]["type"]: f["geometry"]["type"] for f in kinds["synergy"]}
    assert lines == {"substitution": "LineString", "mutualisation": "LineString"}
    # each flow sits where its company is (the test diagnostic gives no flow its own place)
    where = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in kinds["company"]}
    assert all(f["geometry"]["coordinates"] == where[f["properties"]["company_id"]] for f in kinds["flow"])


def test_portal_map_data_rounds_a_hidden_company_to_about_a_kilometre(client, prepared_db):
    sign_in(client, prepared_db.keys.portal)
    features = client.get(f"/territoires/{TERRITORY}/carte.geojson").json()["features"]
    hidden = [f for f in features if f["properties"].get("company_id", f["properties"]["id"]).startswith("anon-")]
    assert hidden, "the confidential company and its flow are shown under an alias"
    for f in hidden:
        lon, lat = f["geometry"]["coordinates"]
        assert (round(lon, 2), round(lat, 2)) == (lon, lat)


def test_follow_up_buttons_offer_only_the_moves_the_service_allows():
    from symbiose.services.pages import next_statuses

    assert next_statuses("proposed") == ["contacted", "studied", "implemented", "rejected"]
    assert next_statuses("studied") == ["implemented", "rejected"]
    assert next_statuses("implemented") == ["rejected"]
    assert next_statuses("rejected") == []
