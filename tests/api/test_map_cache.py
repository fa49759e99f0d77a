"""map.geojson and indicators: rendered once per data version, gzip-compressed, ETag, bbox."""

from __future__ import annotations

import json

from tests.api.conftest import ROWS, SECRET_NAME, auth, diagnostic_csv, run_to_done, upload


def test_map_is_cached_by_version_compressed_and_cut_to_a_bbox(client, keys):
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    run_to_done(client, keys.animator)
    url = "/api/v1/territories/fos-test/map.geojson"
    first = client.get(url, headers={**auth(keys.animator), "Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert first.headers["content-type"].startswith("application/geo+json")
    doc = first.json()  # httpx decompresses
    assert len(doc["features"]) > 5
    # without gzip: the same document, not compressed
    plain = client.get(url, headers={**auth(keys.animator), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and json.loads(plain.content) == doc
    # the ETag answers 304 until the data changes
    etag = first.headers["etag"]
    assert client.get(url, headers={**auth(keys.animator), "If-None-Match": etag}).status_code == 304
    # a bounding box keeps the features with a position inside it
    lons = [f["geometry"]["coordinates"][0] for f in doc["features"] if f["geometry"]["type"] == "Point"]
    lats = [f["geometry"]["coordinates"][1] for f in doc["features"] if f["geometry"]["type"] == "Point"]
    cut = client.get(url, params={"bbox": f"{min(lons)},{min(lats)},{min(lons) + 1e-4},{min(lats) + 1e-4}"},
                     headers=auth(keys.animator)).json()
    assert 0 < len(cut["features"]) < len(doc["features"])
    empty = client.get(url, params={"bbox": "5,44,4,43"}, headers=auth(keys.animator))  # min above max
    assert empty.status_code == 200 and empty.json()["features"] == []
    assert client.get(url, params={"bbox": "nonsense"}, headers=auth(keys.animator)).status_code == 422
    # the portal sees its own version, anonymised
    portal = client.get(url, headers={**auth(keys.portal), "Accept-Encoding": "gzip"})
    assert portal.headers["content-encoding"] == "gzip" and SECRET_NAME not in portal.text  # httpx decompressed
    assert portal.headers["etag"] != etag
    # a new import changes the map
    more = ROWS + ["C9;Nouvelle Usine;out;wood.pallet;12;t;year;43.45;4.87;13270;Fos-sur-Mer;16.24Z;non;palettes;"]
    assert upload(client, keys.animator, diagnostic_csv(more)).status_code == 201
    again = client.get(url, headers={**auth(keys.animator), "If-None-Match": etag})
    assert again.status_code == 200 and any(f["properties"].get("id") == "C9" for f in again.json()["features"])


def test_indicators_cached_and_refreshed_by_a_follow_up(client, keys):
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    run_to_done(client, keys.animator)
    url = "/api/v1/territories/fos-test/indicators"
    first = client.get(url, headers=auth(keys.animator))
    assert first.status_code == 200 and first.json()["total"]["synergies"] > 0
    assert client.get(url, headers={**auth(keys.animator), "If-None-Match": first.headers["etag"]}).status_code == 304
    sid = client.get("/api/v1/territories/fos-test/synergies", headers=auth(keys.animator)).json()["items"][0]["id"]
    moved = client.patch(f"/api/v1/territories/fos-test/synergies/{sid}", headers=auth(keys.animator),
                         json={"status": "contacted", "note": "appel"})
    assert moved.status_code == 200
    after = client.get(url, headers={**auth(keys.animator), "If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.json()["by_status"]["contacted"]["synergies"] >= 1
