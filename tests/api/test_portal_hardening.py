"""What a curious portal key could still learn, closed one by one (issue #13, items 4 to 8)."""

from __future__ import annotations

import json

import httpx

from symbiose.privacy import NO_COMPANY, HiddenCompany, Redactor
from tests.api.conftest import (
    HEADER,
    OTHER,
    ROWS,
    SECRET_ID,
    SECRET_LAT,
    SECRET_LON,
    SECRET_NAME,
    TERRITORY,
    Keys,
    auth,
    diagnostic_csv,
    upload,
)
from tests.api.test_privacy import LABEL, leaks

BASE = f"/api/v1/territories/{TERRITORY}"
OTHER_SECRET = HiddenCompany("SIRET-55210055400013", "Raffinerie Étang SA", "anon-y", "Entreprise raffinage — Berre (13)",
                             "19", "Berre")


def _redactor() -> Redactor:
    hidden = HiddenCompany(SECRET_ID, SECRET_NAME, "anon-x", LABEL, "20", "Fos-sur-Mer")
    return Redactor([hidden, OTHER_SECRET], {"F-0123456789ab": "anon-f"}, [SECRET_LAT, SECRET_LON],
                    flow_owners={"F-0123456789ab": SECRET_ID})


def test_names_and_sirets_are_found_however_they_are_written() -> None:
    red = _redactor()
    for written in ("Chimie-du-Golfe", "Chimie  du  Golfe", "ChimieDuGolfe", "CHIMIE DU GOLFE", "chimie_du_golfe",
                    "Chimié du Golfe", "Chimie du Golfe S.A.S."):
        out = red.text(f"vu avec {written} hier")
        assert "golfe" not in out.lower(), (written, out)
        assert LABEL in out
    for written in ("44306184100047", "443 061 841 00047", "SIRET-44306184100047", "siret 443.061.841.00047",
                    "SIREN 443061841", "443 061 841"):
        out = red.text(f"contact : {written}")
        assert "443" not in out and "anon-x" in out, (written, out)
    # words that merely contain a name's letters are left alone
    assert red.text("le golfe de Fos et la chimie") == "le golfe de Fos et la chimie"


def test_a_consented_synergy_names_its_parties_and_no_one_else() -> None:
    red = _redactor()
    synergy = {
        "suppliers": [{"company_id": SECRET_ID, "flow_id": "F-0123456789ab"}], "receivers": [{"company_id": "C2"}],
        "explanation": f"{SECRET_NAME} livre la Verrerie",
        "reason": "le reste de l'acide est déjà alloué à Raffinerie Étang (SIRET 552 100 554 00013)",
    }
    named = red.synergy(synergy, named=True)
    assert named["suppliers"][0] == {"company_id": SECRET_ID, "flow_id": "F-0123456789ab"}
    assert SECRET_NAME in named["explanation"]
    assert "Raffinerie" not in named["reason"] and "552" not in named["reason"]
    assert OTHER_SECRET.label in named["reason"] and "anon-y" in named["reason"]


def test_derived_geometry_is_as_coarse_as_the_coordinates() -> None:
    red = _redactor()
    members = [(SECRET_LAT, SECRET_LON), (43.4612345, 4.8823456), (43.4701234, 4.8901234)]
    centre = (sum(m[0] for m in members) / 3, sum(m[1] for m in members) / 3)
    pooled = {
        "suppliers": [{"company_id": SECRET_ID}, {"company_id": "C2"}, {"company_id": "C3"}], "receivers": [],
        "distance_km": 3.456, "explanation": "Tournée commune de 3,46 km pour 3 entreprises",
        "route": [{"company_id": None, "lat": centre[0], "lon": centre[1], "label": "Centre du groupe"},
                  *({"company_id": c, "lat": la, "lon": lo} for c, (la, lo) in zip(("x", "C2", "C3"), members))],
        "details": {"fixed_cost_eur": 637_412.5, "round_km": 7.891},
    }
    out = red.synergy(pooled, named=False)
    for stop in out["route"]:
        assert stop["lat"] == round(stop["lat"], 2) and stop["lon"] == round(stop["lon"], 2)
    # centre × 3 − the two public members no longer gives the hidden site
    back = out["route"][0]["lat"] * 3 - members[1][0] - members[2][0]
    assert abs(back - SECRET_LAT) > 1e-4
    assert out["distance_km"] == 3.0 and out["details"]["round_km"] == 8.0
    assert out["details"]["fixed_cost_eur"] == 600_000.0
    assert "3,46" not in out["explanation"] and "≈ 3 km" in out["explanation"]
    geometry = red.synergy({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
        [4.8765432, 43.4567891], [4.8823456, 43.4612345]]}, "properties": {"id": "S-1"}}, named=False)
    assert geometry["geometry"]["coordinates"] == [[4.88, 43.46], [4.88, 43.46]]


def test_a_hidden_firms_real_id_filters_like_any_unknown_id() -> None:
    red = _redactor()
    assert red.company_filter(SECRET_ID) == NO_COMPANY
    assert red.company_filter("anon-x") == SECRET_ID
    assert red.company_filter("SIRET-00000000000000") == "SIRET-00000000000000"


def test_an_import_from_another_territory_refreshes_the_portal_view(client: httpx.Client, keys: Keys) -> None:
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    first = client.get(f"{BASE}/flows", headers=auth(keys.portal)).json()  # the redaction is cached now
    assert first["total"] == 11
    # an admin imports into the other territory a file whose rows name this territory: a new flow of the secret firm
    lat, lon = 43.4511111, 4.8711111
    row = (f"{SECRET_ID};{SECRET_NAME};out;metal.ferrous;80;t;year;{lat};{lon};13270;Fos-sur-Mer;20.13B;oui;"
           f"ferraille de Chimie du Golfe;")
    data = ("\n".join([HEADER + ";territory", row + f";{TERRITORY}"]) + "\n").encode()
    r = upload(client, keys.admin, data, territory=OTHER)
    assert r.status_code == 201, r.text
    flows = client.get(f"{BASE}/flows", params={"size": 100}, headers=auth(keys.portal)).json()
    assert flows["total"] == 12
    text = json.dumps(flows, ensure_ascii=False)
    raw_ids = [f["id"] for f in client.get(f"{BASE}/flows", params={"company_id": SECRET_ID, "size": 100},
                                            headers=auth(keys.animator)).json()["items"]]
    assert len(raw_ids) == 4
    assert not leaks(text, raw_ids)
    assert str(lat) not in text and str(lon) not in text


def test_portal_lists_are_ordered_by_what_the_portal_sees(client: httpx.Client, keys: Keys) -> None:
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    items = client.get(f"{BASE}/companies", headers=auth(keys.portal)).json()["items"]
    assert [c["id"] for c in items] == sorted(c["id"] for c in items)
    flows = client.get(f"{BASE}/flows", headers=auth(keys.portal)).json()["items"]
    assert [(f["company_id"], f["id"]) for f in flows] == sorted((f["company_id"], f["id"]) for f in flows)
    # paging the sorted list gives the same order
    page2 = client.get(f"{BASE}/flows", params={"page": 2, "size": 5}, headers=auth(keys.portal)).json()["items"]
    assert [f["id"] for f in page2] == [f["id"] for f in flows[5:10]]
    assert len(ROWS) == 11
