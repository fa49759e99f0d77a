"""Confidentiality: a portal key never sees a confidential company's name, id,
flow ids or exact coordinates — in any response — until every party of a
synergy has consented; then that synergy (and only it) names them."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from symbiose.privacy import NO_COMPANY, Redactor, anonymised_label, make_alias, name_variants, sector_word
from tests.api.conftest import (
    OTHER,
    SECRET_ID,
    SECRET_LAT,
    SECRET_LON,
    SECRET_NAME,
    TERRITORY,
    Keys,
    auth,
    diagnostic_csv,
    run_to_done,
    upload,
)
from tests.api.test_isolation import CALLS

BASE = f"/api/v1/territories/{TERRITORY}"
LABEL = "Entreprise chimie — Fos-sur-Mer (13)"


def _coordinate_strings(value: float) -> set[str]:
    """The exact coordinate and every rounding of it to 4 decimals or more."""
    out = {repr(value)}
    for digits in range(4, 8):
        out.add(f"{round(value, digits):.{digits}f}".rstrip("0"))
    return out


def leaks(text: str, secret_flows: list[str]) -> list[str]:
    """What a response body gives away about the confidential company."""
    found = []
    folded = text.lower()
    for name in name_variants(SECRET_NAME) | {"golfe"}:
        if name.lower() in folded:
            found.append(name)
    for needle in [SECRET_ID, *secret_flows, *_coordinate_strings(SECRET_LAT), *_coordinate_strings(SECRET_LON)]:
        if needle in text:
            found.append(needle)
    return found


@pytest.fixture
def matched(client: httpx.Client, keys: Keys) -> dict:
    """The test territory imported and matched; returns the animator's view of its synergies."""
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    run_to_done(client, keys.animator)
    items = client.get(f"{BASE}/synergies", headers=auth(keys.animator)).json()["items"]
    flows = client.get(f"{BASE}/flows", params={"company_id": SECRET_ID}, headers=auth(keys.animator)).json()["items"]
    return {"synergies": items, "secret_flows": [f["id"] for f in flows]}


def _portal_bodies(client: httpx.Client, key: str, alias: str) -> dict[str, str]:
    """Every GET route of the API as a portal key sees it, with filters that touch the secret company."""
    bodies = {}
    for call in CALLS:
        if call.method != "GET" or not call.scoped:
            continue
        r = call.request(client, auth(key))
        bodies[f"{call.method} {call.url()}"] = r.text
    for path, params in [
        ("companies", {"q": "chimie"}), ("companies", {"q": "golfe"}), ("companies", {"q": SECRET_ID}),
        ("flows", {"company_id": alias}), ("flows", {"company_id": SECRET_ID}), ("flows", {"resource": "chemical"}),
        ("synergies", {"company_id": alias}), ("synergies", {"company_id": SECRET_ID}),
        ("synergies", {"type": "substitution"}), ("synergies/S-0099", {}),
    ]:
        r = client.get(f"{BASE}/{path}", params=params, headers=auth(key))
        bodies[f"GET {path} {params}"] = r.text
    for s in json.loads(bodies[f"GET {BASE}/synergies"])["items"]:
        bodies[f"GET synergy {s['id']}"] = client.get(f"{BASE}/synergies/{s['id']}", headers=auth(key)).text
    bodies["GET territories"] = client.get("/api/v1/territories", headers=auth(key)).text
    return bodies


def test_portal_never_sees_a_confidential_company_before_consent(client: httpx.Client, keys: Keys, matched: dict) -> None:
    companies = client.get(f"{BASE}/companies", headers=auth(keys.portal)).json()["items"]
    hidden = [c for c in companies if c["confidential"]]
    assert len(hidden) == 1
    secret = hidden[0]
    assert secret["name"] == LABEL
    assert re.fullmatch(r"anon-[0-9a-f]{16}", secret["id"])
    assert (secret["lat"], secret["lon"]) == (round(SECRET_LAT, 2), round(SECRET_LON, 2))
    # the others are shown as they are
    assert {c["name"] for c in companies if not c["confidential"]} == {
        "Verrerie Provençale", "Logistique Berre", "Métaux du Port", "Acides Méditerranée"}

    bodies = _portal_bodies(client, keys.portal, secret["id"])
    for where, text in bodies.items():
        assert not leaks(text, matched["secret_flows"]), f"{where} leaks {leaks(text, matched['secret_flows'])}"

    # the same requests by the animator do show the company: the scan can see a leak
    animator_text = client.get(f"{BASE}/synergies", headers=auth(keys.animator)).text
    assert leaks(animator_text, matched["secret_flows"])

    # filtering by the alias finds the company's flows and synergies; its real id finds nothing
    by_alias = client.get(f"{BASE}/flows", params={"company_id": secret["id"]}, headers=auth(keys.portal)).json()
    assert by_alias["total"] == len(matched["secret_flows"]) == 3
    assert client.get(f"{BASE}/flows", params={"company_id": SECRET_ID}, headers=auth(keys.portal)).json()["total"] == 0
    syn_alias = client.get(f"{BASE}/synergies", params={"company_id": secret["id"]}, headers=auth(keys.portal)).json()
    expected = {s["id"] for s in matched["synergies"] if SECRET_ID in {p["company_id"] for p in s["suppliers"] + s["receivers"]}}
    assert {s["id"] for s in syn_alias["items"]} == expected and expected
    # the explanation is rewritten, not dropped
    hcl = next(s for s in syn_alias["items"] if s["resource"] == "chemical.acid.hcl")
    assert LABEL in hcl["explanation"]
    # the alias is stable across requests
    again = client.get(f"{BASE}/companies", headers=auth(keys.portal)).json()["items"]
    assert secret["id"] in {c["id"] for c in again}


def test_double_opt_in_names_the_parties_of_that_synergy_only(client: httpx.Client, keys: Keys, matched: dict) -> None:
    with_secret = [s for s in matched["synergies"]
                   if SECRET_ID in {p["company_id"] for p in s["suppliers"] + s["receivers"]}]
    target = next(s for s in with_secret if s["type"] == "substitution")
    parties = sorted({p["company_id"] for p in target["suppliers"] + target["receivers"]})
    url = f"{BASE}/synergies/{target['id']}/consent"

    r = client.post(url, json={"company_id": "C3" if "C3" not in parties else "C9"}, headers=auth(keys.animator))
    assert r.status_code == 422, "a company outside the synergy cannot consent to it"
    r = client.post(url, json={"company_id": SECRET_ID}, headers=auth(keys.animator))
    assert r.status_code == 200 and r.json()["named"] is False and SECRET_ID in r.json()["consents"]
    # one side only: still anonymous
    portal_view = client.get(f"{BASE}/synergies/{target['id']}", headers=auth(keys.portal)).text
    assert not leaks(portal_view, matched["secret_flows"])

    for company in parties:
        r = client.post(url, json={"company_id": company}, headers=auth(keys.animator))
        assert r.status_code == 200
    assert r.json()["named"] is True and r.json()["pending"] == []

    named = client.get(f"{BASE}/synergies/{target['id']}", headers=auth(keys.portal)).json()
    assert SECRET_ID in {p["company_id"] for p in named["suppliers"] + named["receivers"]}
    assert "Chimie du Golfe" in named["explanation"]
    # every other synergy, the company list, flows and the map still hide it
    listing = client.get(f"{BASE}/synergies", headers=auth(keys.portal)).json()["items"]
    for s in listing:
        if s["id"] != target["id"]:
            assert not leaks(json.dumps(s, ensure_ascii=False), matched["secret_flows"]), s["id"]
    for path in ("companies", "flows"):
        assert not leaks(client.get(f"{BASE}/{path}", headers=auth(keys.portal)).text, matched["secret_flows"])
    features = client.get(f"{BASE}/map.geojson", headers=auth(keys.portal)).json()["features"]
    for f in features:
        if f["properties"]["kind"] == "company" or f["properties"]["id"] != target["id"]:
            assert not leaks(json.dumps(f, ensure_ascii=False), matched["secret_flows"]), f["id"]
    # filtering on the company's alias must not return the named synergy: that would tie alias and name
    alias = next(s for s in listing if s["id"] != target["id"] and any(
        p["company_id"].startswith("anon-") for p in s["suppliers"] + s["receivers"]))
    alias_id = next(p["company_id"] for p in alias["suppliers"] + alias["receivers"] if p["company_id"].startswith("anon-"))
    by_alias = client.get(f"{BASE}/synergies", params={"company_id": alias_id, "size": 500}, headers=auth(keys.portal)).json()
    assert target["id"] not in {s["id"] for s in by_alias["items"]}
    assert not leaks(json.dumps(by_alias, ensure_ascii=False), matched["secret_flows"])


def test_labels_and_aliases() -> None:
    assert sector_word("20.13B") == "chimie"
    assert sector_word("41.20A") == "BTP"
    assert sector_word("04.00Z") is None  # no such NAF division
    assert sector_word("99.00Z") == "organisation internationale"
    assert sector_word(None) is None
    assert anonymised_label("20.13B", "13270", "Fos-sur-Mer", None, None) == LABEL
    assert anonymised_label(None, None, None, SECRET_LAT, SECRET_LON).startswith("Entreprise — ")
    a = make_alias(b"k1", TERRITORY, "company", SECRET_ID)
    assert a == make_alias(b"k1", TERRITORY, "company", SECRET_ID)
    assert a != make_alias(b"k2", TERRITORY, "company", SECRET_ID)
    assert a != make_alias(b"k1", OTHER, "company", SECRET_ID)
    assert SECRET_ID[-6:] not in a


def test_redactor_scrubs_names_ids_and_coordinates_anywhere() -> None:
    from symbiose.privacy import HiddenCompany

    hidden = HiddenCompany(SECRET_ID, SECRET_NAME, "anon-x", LABEL, "20", "Fos-sur-Mer")
    red = Redactor([hidden], {"F-0123456789ab": "anon-f"}, [SECRET_LAT, SECRET_LON])
    value = {
        "text": "CHIMIE DU GOLFE livre Verrerie ; contact chez chimie du golfe sas",
        SECRET_ID: [SECRET_ID, "F-0123456789ab", round(SECRET_LAT, 6), SECRET_LON, 43.1],
        "nested": {"candidate": f"{SECRET_ID}>C2", "n": 3, "flag": True},
    }
    out = red.scrub(value)
    text = json.dumps(out, ensure_ascii=False)
    assert not leaks(text, ["F-0123456789ab"])
    assert out["text"] == f"{LABEL} livre Verrerie ; contact chez {LABEL}"
    assert out["anon-x"] == ["anon-x", "anon-f", round(SECRET_LAT, 2), round(SECRET_LON, 2), 43.1]
    assert out["nested"] == {"candidate": "anon-x>C2", "n": 3, "flag": True}
    assert red.company_filter("anon-x") == SECRET_ID and red.company_filter(SECRET_ID) == NO_COMPANY
    assert red.company_filter("C2") == "C2"
    assert Redactor([], {}, []).scrub(value) is value
