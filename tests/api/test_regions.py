"""Regions over real HTTP: one matching across territories, synergies across the border,
confidentiality kept per territory, the region view for admin and ``region`` keys."""

from __future__ import annotations

import time

from symbiose.services.keys import create_region_key
from symbiose.store import UnitOfWork
from tests.api.conftest import (
    OTHER,
    SECRET_ID,
    SECRET_LAT,
    SECRET_LON,
    SECRET_NAME,
    TERRITORY,
    auth,
    diagnostic_csv,
    upload,
)

# a pickling plant across the border, 3 km from the confidential HCl supplier
BERRE = [
    "B1;Décapage de Berre;in;chemical.acid.hcl;900;t;year;43.4800000;4.8900000;13270;Fos-sur-Mer;25.61Z;non;HCl 33 %;",
]


def _leaks(text: str) -> bool:
    return SECRET_NAME in text or SECRET_ID in text or str(SECRET_LAT) in text or str(SECRET_LON) in text


def test_region_run_crosses_the_border_and_keeps_confidentiality(client, keys, db_url):
    assert upload(client, keys.animator, diagnostic_csv()).status_code == 201
    assert upload(client, keys.other_animator, diagnostic_csv(BERRE), territory=OTHER).status_code == 201
    # only an admin defines a region; an unknown territory is refused
    body = {"code": "provence", "name": "Provence", "territories": [TERRITORY, OTHER]}
    assert client.post("/api/v1/regions", json=body, headers=auth(keys.animator)).status_code == 403
    bad = client.post("/api/v1/regions", json={**body, "territories": ["nowhere"]}, headers=auth(keys.admin))
    assert bad.status_code == 404
    made = client.post("/api/v1/regions", json=body, headers=auth(keys.admin))
    assert made.status_code == 201 and made.json()["territories"] == sorted([TERRITORY, OTHER])
    started = client.post("/api/v1/regions/provence/runs", headers=auth(keys.admin))
    assert started.status_code == 202
    run_id = started.json()["id"]
    deadline = time.monotonic() + 60
    while (run := client.get(f"/api/v1/regions/provence/runs/{run_id}", headers=auth(keys.admin)).json())["status"] \
            not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run["status"] == "done", run

    # the border territory's copy: the cross-border synergy, the confidential supplier anonymised
    other = client.get(f"/api/v1/territories/{OTHER}/synergies", headers=auth(keys.other_animator),
                       params={"size": 500}).json()
    across = [s for s in other["items"] if s["resource"].startswith("chemical.acid.hcl") and s["in_plan"]]
    assert across, other
    assert any(r["company_id"] == "B1" for s in across for r in s["receivers"])
    assert all(p["company_id"].startswith(f"{TERRITORY}/") for s in across for p in s["suppliers"])
    assert not _leaks(str(other))
    # the supplier's own territory names it, and names the border company by territory
    own = client.get(f"/api/v1/territories/{TERRITORY}/synergies", headers=auth(keys.animator),
                     params={"size": 500}).json()
    mine = [s for s in own["items"] if any(r["company_id"] == f"{OTHER}/B1" for r in s["receivers"])]
    assert mine and any(p["company_id"] == SECRET_ID for s in mine for p in s["suppliers"])
    # its portal key still sees it anonymised
    assert not _leaks(str(client.get(f"/api/v1/territories/{TERRITORY}/synergies", headers=auth(keys.portal),
                                     params={"size": 500}).json()))

    # the region view: each synergy once; a region key sees confidential companies anonymised
    with UnitOfWork(db_url) as uow:
        region_key = create_region_key(uow, "provence")
    assert [r["code"] for r in client.get("/api/v1/regions", headers=auth(region_key)).json()] == ["provence"]
    assert client.get("/api/v1/regions", headers=auth(keys.animator)).json() == []
    view = client.get("/api/v1/regions/provence/synergies", headers=auth(region_key), params={"size": 500}).json()
    ids = [s["id"] for s in view["items"]]
    assert view["total"] == len(ids) == len(set(ids)) > 0
    assert any(s["territory"] == OTHER or s["resource"].startswith("chemical.acid.hcl") for s in view["items"])
    assert not _leaks(str(view))
    admin_view = client.get("/api/v1/regions/provence/synergies", headers=auth(keys.admin), params={"size": 500})
    assert admin_view.status_code == 200 and admin_view.json()["total"] == view["total"]
    # other keys do not learn the region exists
    for key in (keys.animator, keys.portal, keys.other_portal):
        assert client.get("/api/v1/regions/provence/synergies", headers=auth(key)).status_code == 404
    assert client.get("/api/v1/regions/nowhere/synergies", headers=auth(region_key)).status_code == 404
    # a region key reads only: no territory, no run
    assert client.get(f"/api/v1/territories/{TERRITORY}/synergies", headers=auth(region_key)).status_code == 404
    assert client.post("/api/v1/regions/provence/runs", headers=auth(region_key)).status_code == 403
