"""Streamed synergy output: compact and indented JSON, NDJSON and Parquet hold the same run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from symbiose.report.synergy_json import iter_json, result_to_dict, run_header, write_result
from symbiose.services.runs import match_file

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo" / "diagnostic.csv"


@pytest.fixture(scope="module")
def result():
    return match_file(DEMO, territory="fos-demo")


def test_compact_and_indented_json_are_the_same_document(result, tmp_path):
    doc = result_to_dict(result)
    compact = "".join(iter_json(result))
    assert "\n" not in compact.rstrip("\n") and json.loads(compact) == doc
    for indent in (0, 2, 4):
        assert "".join(iter_json(result, indent)) == json.dumps(doc, ensure_ascii=False, indent=indent) + "\n"
    write_result(result, tmp_path / "top.json", "json", indent=2, top=3)
    top = json.loads((tmp_path / "top.json").read_text(encoding="utf-8"))
    assert top["synergies"] == doc["synergies"][:3] and top["summary"] == doc["summary"]


def test_ndjson_has_the_run_then_one_synergy_per_line(result, tmp_path):
    path = tmp_path / "run.ndjson"
    write_result(result, path, "ndjson")
    lines = path.read_text(encoding="utf-8").splitlines()
    doc = result_to_dict(result)
    assert json.loads(lines[0]) == run_header(result) == {k: v for k, v in doc.items() if k != "synergies"}
    assert [json.loads(line) for line in lines[1:]] == doc["synergies"]


def test_parquet_one_row_per_synergy_and_the_run_in_metadata(result, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "run.parquet"
    write_result(result, path, "parquet")
    table = pq.read_table(path)
    doc = result_to_dict(result)
    assert table.num_rows == len(doc["synergies"]) > 0
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [s["id"] for s in doc["synergies"]]
    assert json.loads(rows[0]["suppliers"]) == doc["synergies"][0]["suppliers"]
    assert rows[0]["savings_eur"] == doc["synergies"][0]["savings_eur"]
    meta = json.loads(table.schema.metadata[b"symbiose"])
    assert meta["summary"] == doc["summary"] and meta["solver"] == doc["solver"]
    with pytest.raises(ValueError):
        write_result(result, "-", "parquet")


SMALL = (
    "id_entreprise;entreprise;sens;ressource;quantite;unite;frequence;code_postal;commune\n"
    "c1;Chlorochimie du Golfe;sortant;palettes bois;40;palette;mois;13270;Fos-sur-Mer\n"
    "c2;Aciérie de la Crau;entrant;wood.pallet;2;t;an;13310;Saint-Martin-de-Crau\n"
    "c3;Papeterie;sortant;wood.pallet;5;t;an;13310;Saint-Martin-de-Crau\n"
)


def test_cli_writes_compact_json_by_default_and_ndjson_on_request(tmp_path):
    small = tmp_path / "small.csv"
    small.write_text(SMALL, encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "symbiose", "match", str(small), *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)

    out = tmp_path / "s.ndjson"
    nd = run("--json", str(out), "--format", "ndjson")
    assert nd.returncode == 0, nd.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 2 and json.loads(lines[0])["summary"]["flows"] == 3
    compact = run("--json", "-", "--top", "1")
    assert compact.returncode == 0, compact.stderr
    assert compact.stdout.count("\n") == 1 and len(json.loads(compact.stdout)["synergies"]) == 1
    assert run("--json", "-", "--format", "parquet").returncode == 2
