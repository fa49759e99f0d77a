"""The main job over real HTTP, on SQLite and PostgreSQL: upload → run → poll
→ list → follow-up → indicators, then a re-run that keeps the follow-up."""

from __future__ import annotations

import io

import httpx
import pytest

from tests.api.conftest import (
    HEADER,
    OTHER,
    ROWS,
    SECRET_ID,
    TERRITORY,
    Keys,
    ThreadServer,
    auth,
    diagnostic_csv,
    run_to_done,
    upload,
    wait_run,
)

BASE = f"/api/v1/territories/{TERRITORY}"


def diagnostic_xlsx() -> bytes:
    """The test diagnostic as an XLSX workbook (sheet ``flux``), as a spreadsheet saves it."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("flux")
    for i, line in enumerate([HEADER, *ROWS]):
        for j, cell in enumerate(line.split(";")):
            sheet.write(i, j, cell)
    book.close()
    return out.getvalue()


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_upload_run_list_follow_up_indicators(client: httpx.Client, keys: Keys) -> None:
    k = keys.animator
    r = upload(client, k, diagnostic_csv())
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["written"] is True and report["companies"] == 5 and report["flows"] == 11
    assert report["created"] == {"companies": 5, "flows": 11}

    territories = client.get("/api/v1/territories", headers=auth(k)).json()
    assert [t["code"] for t in territories] == [TERRITORY]
    assert territories[0]["companies"] == 5 and territories[0]["flows"] == 11

    r = client.post(f"{BASE}/runs", headers=auth(k))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    assert r.headers["location"].endswith(f"/runs/{r.json()['id']}")
    run = wait_run(client, k, r.json()["id"])
    assert run["status"] == "done" and run["error"] is None
    summary = run["summary"]
    assert summary["flows"] == 11 and summary["synergies"] >= 1

    page = client.get(f"{BASE}/synergies", headers=auth(k)).json()
    assert page["page"] == 1 and page["size"] == 50 and page["total"] == len(page["items"]) >= 1
    ranks = [s["rank"] for s in page["items"]]
    assert ranks == sorted(ranks)
    for s in page["items"]:
        assert s["status"] == "proposed" and [e["status"] for e in s["history"]] == ["proposed"]
    subst = [s for s in page["items"] if s["type"] == "substitution"]
    assert subst, "the HCl supplier and its buyers make at least one substitution"
    target = subst[0]

    # filters: each answer is exactly the subset that matches
    by_type = client.get(f"{BASE}/synergies", params={"type": "substitution"}, headers=auth(k)).json()
    assert {s["id"] for s in by_type["items"]} == {s["id"] for s in subst}
    by_res = client.get(f"{BASE}/synergies", params={"resource": "chemical"}, headers=auth(k)).json()
    assert {s["id"] for s in by_res["items"]} == {s["id"] for s in page["items"] if s["resource"].startswith("chemical.")}
    by_company = client.get(f"{BASE}/synergies", params={"company_id": "C5"}, headers=auth(k)).json()
    assert {s["id"] for s in by_company["items"]} == {
        s["id"] for s in page["items"] if "C5" in {p["company_id"] for p in s["suppliers"] + s["receivers"]}
    }
    top = max(s["score"] for s in page["items"])
    by_score = client.get(f"{BASE}/synergies", params={"min_score": top}, headers=auth(k)).json()
    assert by_score["items"] and all(s["score"] >= top for s in by_score["items"])
    paged = client.get(f"{BASE}/synergies", params={"size": 1, "page": 2}, headers=auth(k)).json()
    assert paged["total"] == page["total"] and [s["id"] for s in paged["items"]] == [page["items"][1]["id"]]

    # the listing carries an ETag: unchanged data answers 304, a follow-up change a new body
    etag = client.get(f"{BASE}/synergies", headers=auth(k)).headers["etag"]
    r = client.get(f"{BASE}/synergies", headers={**auth(k), "If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""

    # follow-up: forward (skipping a step), then no way back, then rejected needs a reason
    url = f"{BASE}/synergies/{target['id']}"
    r = client.patch(url, json={"status": "contacted", "note": "appel du 3 mars"}, headers=auth(k))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "contacted" and r.json()["history"][-1]["note"] == "appel du 3 mars"
    r = client.patch(url, json={"status": "implemented"}, headers=auth(k))
    assert r.status_code == 200 and r.json()["status"] == "implemented"
    r = client.get(f"{BASE}/synergies", headers={**auth(k), "If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    assert {s["id"]: s["status"] for s in r.json()["items"]}[target["id"]] == "implemented"
    body = _problem(client.patch(url, json={"status": "studied"}, headers=auth(k)), 409)
    assert body["current"] == "implemented" and body["requested"] == "studied"
    history = client.get(url, headers=auth(k)).json()["history"]
    assert [e["status"] for e in history] == ["proposed", "contacted", "implemented"]
    assert all(e["at"].endswith("Z") and e["actor"].startswith("animator:") for e in history)

    other = next(s for s in page["items"] if s["id"] != target["id"])
    other_url = f"{BASE}/synergies/{other['id']}"
    _problem(client.patch(other_url, json={"status": "rejected"}, headers=auth(k)), 422)
    r = client.patch(other_url, json={"status": "rejected", "note": "n'ont pas abouti"}, headers=auth(k))
    assert r.status_code == 200 and r.json()["note"] == "n'ont pas abouti"
    _problem(client.patch(other_url, json={"status": "contacted"}, headers=auth(k)), 409)
    only = client.get(f"{BASE}/synergies", params={"status": "rejected"}, headers=auth(k)).json()
    assert [s["id"] for s in only["items"]] == [other["id"]]

    # indicators: what was implemented is counted with its figures
    ind = client.get(f"{BASE}/indicators", headers=auth(k)).json()
    impl = ind["by_status"]["implemented"]
    assert impl["synergies"] == 1
    assert impl["savings_eur"] == pytest.approx(target["savings_eur"], abs=0.01)
    assert impl["co2_avoided_t"] == pytest.approx(target["co2_avoided_t"], abs=0.001)
    assert ind["by_status"]["rejected"]["synergies"] == 1
    live = {k: v for k, v in ind["by_status"].items() if k != "rejected"}
    assert ind["total"]["synergies"] == sum(v["synergies"] for v in live.values())  # abandoned leads are not in the total
    assert ind["total"]["synergies"] == sum(v["synergies"] for v in ind["by_type"].values())
    rejected_subst = int(other["type"] == "substitution" and other["in_plan"])
    assert ind["by_type"]["substitution"]["synergies"] == len([s for s in page["items"] if s["type"] == "substitution" and s["in_plan"]]) - rejected_subst

    # a second run proposes the same synergies again: their follow-up is kept
    second = run_to_done(client, k)
    assert second["id"] != run["id"]
    again = client.get(f"{BASE}/synergies", headers=auth(k)).json()["items"]
    kept = {(s["type"], s["resource"], tuple(sorted(p["company_id"] for p in s["suppliers"] + s["receivers"]))): s for s in again}
    key = lambda s: (s["type"], s["resource"], tuple(sorted(p["company_id"] for p in s["suppliers"] + s["receivers"])))  # noqa: E731
    assert kept[key(target)]["status"] == "implemented"
    assert [e["status"] for e in kept[key(target)]["history"]] == ["proposed", "contacted", "implemented"]
    assert kept[key(other)]["status"] == "rejected" and kept[key(other)]["note"] == "n'ont pas abouti"

    # companies and flows
    companies = client.get(f"{BASE}/companies", params={"q": "METAUX"}, headers=auth(k)).json()
    assert [c["name"] for c in companies["items"]] == ["Métaux du Port"]
    flows = client.get(f"{BASE}/flows", params={"direction": "in", "resource": "chemical"}, headers=auth(k)).json()
    assert flows["total"] == 2 and {f["company_id"] for f in flows["items"]} == {"C2", "C5"}
    flows = client.get(f"{BASE}/flows", params={"company_id": SECRET_ID, "size": 2}, headers=auth(k)).json()
    assert flows["total"] == 3 and len(flows["items"]) == 2

    geo = client.get(f"{BASE}/map.geojson", headers=auth(k))
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    points = [f for f in features if f["properties"]["kind"] == "company"]
    lines = {f["properties"]["id"]: f for f in features if f["properties"]["kind"] == "synergy"}
    assert len(points) == 5 and lines[target["id"]]["properties"]["status"] == "implemented"
    assert lines[target["id"]]["geometry"]["type"] in ("LineString", "MultiLineString")


def test_rejected_upload_writes_nothing_and_names_every_row(client: httpx.Client, keys: Keys) -> None:
    rows = [
        "A1;Alpha;out;wood.pallet;-5;t;year;43.45;4.87;;;;;;",
        "A1;Alpha;sideways;wood.pallet;5;t;year;43.45;4.87;;;;;;",
        "A2;Beta;in;wood.pallet;12;parsecs;year;43.45;4.87;;;;;;",
        "A3;Gamma;out;wood.pallet;7;t;year;43.45;4.87;;;;;;",
    ]
    body = _problem(upload(client, keys.animator, diagnostic_csv(rows)), 422)
    assert body["type"].endswith("diagnostic-rejected")
    assert {(e["row"], e["column"]) for e in body["errors"]} >= {(2, "quantity"), (3, "direction"), (4, "unit")}
    # the contract's fields plus the message code; messages in French
    assert all(set(e) == {"row", "column", "value", "message", "code"} for e in body["errors"])
    assert all(e["code"] and "attendu" in e["message"] for e in body["errors"])
    assert client.get(f"{BASE}/companies", headers=auth(keys.animator)).json()["total"] == 0

    # a dry run checks a good file and writes nothing either, CSV or XLSX alike
    r = upload(client, keys.animator, diagnostic_csv(), dry_run=True)
    assert r.status_code == 201 and r.json()["written"] is False and r.json()["flows"] == 11
    r = upload(client, keys.animator, diagnostic_xlsx(), dry_run=True, filename="diagnostic.xlsx")
    assert r.status_code == 201 and r.json()["written"] is False and r.json()["flows"] == 11
    assert client.get(f"{BASE}/flows", headers=auth(keys.animator)).json()["total"] == 0

    # an animator writes into its own territory only, even when a row names another one
    lines = [HEADER + ";territory"] + [row + f";{OTHER if i == 0 else TERRITORY}" for i, row in enumerate(ROWS)]
    body = _problem(upload(client, keys.animator, ("\n".join(lines) + "\n").encode()), 422)
    assert body["errors"][0]["column"] == "territory" and body["errors"][0]["value"] == OTHER
    assert client.get(f"/api/v1/territories/{OTHER}/companies", headers=auth(keys.admin)).json()["total"] == 0


def test_size_limit_and_malformed_requests_answer_problems(db_url: str, keys: Keys) -> None:
    with ThreadServer(db_url, max_upload_bytes=2_000) as srv, httpx.Client(base_url=srv.base_url) as c:
        big = diagnostic_csv(["C9;Big;out;wood.pallet;1;t;year;43.45;4.87;;;;;;"] * 100)
        body = _problem(upload(c, keys.animator, big), 413)
        assert "2000" in body["detail"]
        assert c.get(f"{BASE}/companies", headers=auth(keys.animator)).json()["total"] == 0
        _problem(c.get(f"{BASE}/synergies", params={"size": 501}, headers=auth(keys.animator)), 422)
        _problem(c.get(f"{BASE}/synergies", params={"min_score": "nan"}, headers=auth(keys.animator)), 422)
        _problem(c.get("/api/v1/nowhere", headers=auth(keys.animator)), 404)
        r = c.delete(f"{BASE}/synergies", headers=auth(keys.animator))
        _problem(r, 405)
        assert r.headers["allow"] == "GET"
        _problem(c.post(f"{BASE}/diagnostics", headers=auth(keys.animator), content=b"--x\r\nbroken",
                        params={"dry_run": "true"}), 422)
        _problem(c.patch(f"{BASE}/synergies/S-0001", headers={**auth(keys.animator), "content-type": "application/json"},
                         content=b"{not json"), 422)
        _problem(c.patch(f"{BASE}/synergies/S-0001", headers=auth(keys.animator), json={"note": "a\u0000b"}), 422)
        assert c.get("/health").json()["status"] == "ok"
