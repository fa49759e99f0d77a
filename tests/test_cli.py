"""The command line as an animator runs it (subprocess, real database file)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = (
    "id_entreprise;entreprise;sens;ressource;quantite;unite;frequence;code_postal;commune\n"
    "c1;Chlorochimie du Golfe;sortant;palettes bois;40;palette;mois;13270;Fos-sur-Mer\n"
    "c2;Aciérie de la Crau;entrant;wood.pallet;2;t;an;13310;Saint-Martin-de-Crau\n"
)


def symbiose(*args: str, db: str | None = None, check: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "symbiose", *args]
    if db:
        cmd += ["--db", db]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def good_file(tmp_path) -> Path:
    p = tmp_path / "diagnostic.csv"
    p.write_text(GOOD, encoding="utf-8")
    return p


def test_import_json_report_and_territory_list(sqlite_url, good_file):
    proc = symbiose("import", str(good_file), "--territory", "fos", "--json", db=sqlite_url, check=True)
    report = json.loads(proc.stdout)
    assert set(report) >= {"territory", "written", "companies", "flows", "created", "updated", "errors", "warnings", "classified"}
    assert report["written"] is True and report["flows"] == 2
    assert any(c["text"] == "palettes bois" and c["code"].startswith("wood.pallet") for c in report["classified"])
    listing = json.loads(symbiose("territory", "list", "--json", db=sqlite_url, check=True).stdout)
    # a new territory gets a real name, derived from its companies' commune (symbiose territory rename to change it)
    assert listing == [{"code": "fos", "name": "Fos-sur-Mer et alentours", "companies": 2, "flows": 2, "synergies": 0}]


def test_rejected_file_exits_1_with_row_and_column(sqlite_url, good_file, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "c3;X;sortant;carton;beaucoup;t;an;13270;Fos\n", encoding="utf-8")
    proc = symbiose("import", str(bad), "--territory", "fos", db=sqlite_url)
    assert proc.returncode == 1
    assert "ligne 4, colonne quantite : « beaucoup » trouvé, un nombre attendu (ex. 1 250,5)" in proc.stderr
    listing = json.loads(symbiose("territory", "list", "--json", db=sqlite_url, check=True).stdout)
    assert listing == []


def test_dry_run_writes_nothing(sqlite_url, good_file):
    symbiose("import", str(good_file), "--territory", "fos", "--dry-run", db=sqlite_url, check=True)
    assert json.loads(symbiose("territory", "list", "--json", db=sqlite_url, check=True).stdout) == []


def test_usage_errors_exit_2(sqlite_url, good_file):
    assert symbiose("import", str(good_file), db=sqlite_url).returncode == 2  # --territory missing
    assert symbiose("apikey", "create", "--territory", "fos", "--role", "king", db=sqlite_url).returncode == 2


def test_classify_json():
    proc = symbiose("classify", "palettes EUR 80x120", "HAU friteuse", "--json", check=True)
    items = json.loads(proc.stdout)
    assert [i["text"] for i in items] == ["palettes EUR 80x120", "HAU friteuse"]
    assert items[0]["code"].startswith("wood.pallet")
    assert items[1]["code"] == "oil.cooking_used"
    for item in items:
        assert 0 <= item["confidence"] <= 1 and len(item["alternatives"]) <= 3 and item["label"]


def test_apikey_create_prints_a_key_once(sqlite_url, good_file):
    unknown = symbiose("apikey", "create", "--territory", "fos", "--role", "animator", db=sqlite_url)
    assert unknown.returncode == 2 and "territoire inconnu" in unknown.stderr  # a typo must not create a territory
    symbiose("import", str(good_file), "--territory", "fos", db=sqlite_url, check=True)
    proc = symbiose("apikey", "create", "--territory", "fos", "--role", "animator", db=sqlite_url, check=True)
    key = proc.stdout.strip()
    assert key.startswith("sym_") and len(key) > 30
    from symbiose.services import resolve_api_key
    from symbiose.store import UnitOfWork

    with UnitOfWork(sqlite_url) as uow:
        caller = resolve_api_key(uow, key)
        assert caller is not None and caller.role == "animator" and caller.territory == "fos"
        assert resolve_api_key(uow, key + "x") is None


def test_match_file_writes_json_and_the_flow_graph(tmp_path):
    import networkx as nx

    out, graph = tmp_path / "s.json", tmp_path / "g.graphml"
    symbiose("match", str(ROOT / "datasets" / "cases" / "fos_piicto" / "diagnostic.csv"), "--json", str(out),
             "--graph", str(graph), check=True)
    doc = json.loads(out.read_text(encoding="utf-8"))
    g = nx.read_graphml(graph)
    companies = [n for n, a in g.nodes(data=True) if a.get("kind") == "company"]
    assert len(companies) == doc["summary"]["companies"]
    allocated = [e for e in g.edges(data=True) if e[2].get("allocated", 0) > 0]
    plan = [s for s in doc["synergies"] if s["type"] == "substitution" and s["in_plan"]]
    assert plan and len(allocated) == len(plan)


def test_web_session_token_is_signed_expiring_and_revocable(sqlite_url, good_file):
    from datetime import datetime

    from symbiose.services.keys import SESSION_SECONDS, resolve_api_key, resolve_session, session_token
    from symbiose.store import UnitOfWork
    from symbiose.store.orm import ApiKeyRow

    symbiose("import", str(good_file), "--territory", "fos", db=sqlite_url, check=True)
    key = symbiose("apikey", "create", "--territory", "fos", "--role", "portal", db=sqlite_url, check=True).stdout.strip()
    with UnitOfWork(sqlite_url) as uow:
        caller = resolve_api_key(uow, key)
        token = session_token(uow, caller, now=1_000_000)
        assert key not in token
        assert resolve_session(uow, token, now=1_000_001) == caller
        assert resolve_session(uow, token, now=1_000_000 + SESSION_SECONDS + 1) is None  # expired
        key_id, expires, sig = token.split(".")
        assert resolve_session(uow, f"{key_id}.{int(expires) + 999}.{sig}", now=1_000_001) is None  # tampered
        uow.session.get(ApiKeyRow, caller.key_id).revoked_at = datetime(2026, 1, 1)
        uow.commit()
        assert resolve_session(uow, token, now=1_000_001) is None  # revoked key ends the session
