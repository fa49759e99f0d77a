"""No English reaches a French user: the CLI's help and usage errors, the
API's validation details (by error type, values as sent, no ``b'…'``), and
French words for roles and statuses."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from symbiose.cli import app
from symbiose.explain.validation import role_code, status_code
from tests.web.conftest import DATA, TERRITORY

# Words of typer's, click's and pydantic's English texts (none is French).
ENGLISH = re.compile(
    r"\b(show this|exit|required|missing|invalid|expected|found|should|must|usage|try|such|input|got|"
    r"unexpected|error|possible options|int range|greater|less than|valid|command|args)\b|<str>|<path>|<bool>|<int",
    re.IGNORECASE,
)
runner = CliRunner()


def _english(text: str) -> list[str]:
    return [m.group(0) for m in ENGLISH.finditer(text)]


COMMANDS = [[], ["import"], ["classify"], ["match"], ["report"], ["demo"], ["serve"], ["territory"],
            ["territory", "list"], ["apikey"], ["apikey", "create"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "symbiose")
def test_help_is_french(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Afficher cette aide et quitter." in result.output
    assert _english(result.output) == [], result.output


USAGE_ERRORS = [
    (["import"], "argument FICHIER manquant"),
    (["import", str(DATA / "diagnostic.csv")], "option --territory manquante"),
    (["match", "--top", "0", "x.csv"], "supérieur ou égal à 1"),
    (["match", "--top", "beaucoup", "x.csv"], "un nombre entier attendu"),
    (["nimporte"], "commande inconnue"),
    (["match", "--limite", "3"], "option inconnue : --limite"),
    (["territory", "list", "--bof"], "option inconnue : --bof"),
    (["classify", "palettes", "--json", "--json=2"], "ne prend pas de valeur"),
    (["match", "x.csv", "y.csv"], "en trop"),
    (["match", "--territory"], "attend une valeur"),
]


@pytest.mark.parametrize("args,expected", USAGE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_usage_errors_are_french(args, expected):
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert _english(result.output) == [], result.output


def test_command_errors_are_french(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    for args, expected in (
        (["import", str(DATA / "diagnostic.csv"), "--territory", "Zone Nord", "--dry-run", "--db", db],
         "un code de territoire attendu"),
        (["apikey", "create", "--territory", "zi", "--role", "chef", "--db", db], "rôle inconnu"),
        (["match", "--territory", "inconnu", "--db", db], "territoire inconnu"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert expected in result.output
        assert _english(result.output) == [], result.output


def test_roles_in_french(tmp_path):
    db = f"sqlite:///{tmp_path / 'roles.db'}"
    assert runner.invoke(app, ["import", str(DATA / "diagnostic.csv"), "--territory", "zi", "--db", db]).exit_code == 0
    for word in ("animateur", "Portail", "administrateur"):
        result = runner.invoke(app, ["apikey", "create", "--territory", "zi", "--role", word, "--db", db])
        assert result.exit_code == 0, result.output
        assert result.output.strip().startswith("sym_")
    assert [role_code(w) for w in ("animatrice", "portail", "admin", "chef")] == ["animator", "portal", "admin", None]
    assert [status_code(w) for w in ("Contactée", "à l'étude", "Réalisée", "abandonnée", "proposée")] == [
        "contacted", "studied", "implemented", "rejected", "proposed"]


def _api(client, key):
    return {"Authorization": f"Bearer {key}"}


def test_api_validation_details_are_french(client, prepared_db):
    h = _api(client, prepared_db.keys.animator)
    base = f"/api/v1/territories/{TERRITORY}"
    synergy = client.get(f"{base}/synergies", headers=h).json()["items"][0]["id"]
    answers = [
        client.get(f"{base}/synergies?size=abc&page=0&min_score=2", headers=h),
        client.get(f"{base}/synergies?status=peut-etre", headers=h),
        client.get(f"{base}/flows?direction=dedans", headers=h),
        client.patch(f"{base}/synergies/{synergy}", headers=h, json={"status": "bof", "extra": 1}),
        client.patch(f"{base}/synergies/{synergy}", headers=h, json=["pas", "un", "objet"]),
        client.post("/api/v1/territories", headers=h, json={"code": "Zone Nord", "name": ""}),
        client.get(f"{base}/companies?limit=2", headers=h),
    ]
    for answer in answers:
        assert answer.status_code in (403, 422), answer.text
        body = answer.json()
        texts = [body["title"], body["detail"]] + [e["message"] for e in body.get("errors") or []]
        assert _english(" ".join(texts)) == [], body
        for e in body.get("errors") or []:
            assert "row" not in e  # a request field, not a diagnostic row
            assert not str(e.get("value") or "").startswith(("b'", 'b"')), e
    unknown = answers[-1].json()["errors"]
    assert unknown == [{"column": "query.limit", "value": "2",
                        "message": "paramètre inconnu (paramètres possibles : page, q, size)"}]


def test_api_accepts_french_status_words(client, prepared_db):
    h = _api(client, prepared_db.keys.animator)
    base = f"/api/v1/territories/{TERRITORY}"
    synergy = client.get(f"{base}/synergies", headers=h).json()["items"][0]["id"]
    moved = client.patch(f"{base}/synergies/{synergy}", headers=h, json={"status": "contactée"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "contacted"
    listed = client.get(f"{base}/synergies?status=Entreprises contactées", headers=h).json()
    assert [s["id"] for s in listed["items"]] == [synergy]


def test_api_synergies_name_their_parties(client, prepared_db):
    """Each party of a synergy carries its name; a portal key sees a hidden company's anonymised label."""
    base = f"/api/v1/territories/{TERRITORY}/synergies"
    seen = {}
    for role in ("animator", "portal"):
        h = _api(client, getattr(prepared_db.keys, role))
        items = client.get(base, headers=h).json()["items"]
        one = client.get(f"{base}/{items[0]['id']}", headers=h).json()
        assert [p["name"] for p in one["suppliers"]] == [p["name"] for p in items[0]["suppliers"]]
        seen[role] = {p["name"] for s in items for p in s["suppliers"] + s["receivers"]}
        assert all(seen[role])
    assert "Polymères de Lavéra" in seen["animator"]
    assert "Polymères de Lavéra" not in seen["portal"]
    assert any(name.startswith("Entreprise ") for name in seen["portal"])


def test_api_filters_by_in_plan_and_compresses(client, prepared_db):
    h = _api(client, prepared_db.keys.animator)
    base = f"/api/v1/territories/{TERRITORY}/synergies"
    every = client.get(base, headers=h, params={"size": 500}).json()["items"]
    plan = client.get(base, headers=h, params={"size": 500, "in_plan": "true"}).json()["items"]
    rest = client.get(base, headers=h, params={"size": 500, "in_plan": "false"}).json()["items"]
    assert [s["id"] for s in plan] == [s["id"] for s in every if s["in_plan"]]
    assert [s["id"] for s in rest] == [s["id"] for s in every if not s["in_plan"]]
    assert client.get(base, headers=h, params={"in_plan": "peut-être"}).status_code == 422
    big = client.get(f"/api/v1/territories/{TERRITORY}/map.geojson", headers={**h, "Accept-Encoding": "gzip"})
    assert big.headers.get("content-encoding") == "gzip"


def test_territories_have_real_names(tmp_path):
    db = f"sqlite:///{tmp_path / 'names.db'}"
    created = runner.invoke(app, ["territory", "create", "zi-nord", "--name", "Zone industrielle Nord", "--db", db])
    assert created.exit_code == 0, created.output
    again = runner.invoke(app, ["territory", "create", "zi-nord", "--name", "Autre", "--db", db])
    assert again.exit_code == 2 and "existe déjà" in again.output
    renamed = runner.invoke(app, ["territory", "rename", "zi-nord", "--name", "ZI Nord de Fos", "--db", db])
    assert renamed.exit_code == 0, renamed.output
    assert runner.invoke(app, ["territory", "rename", "inconnu", "--name", "X", "--db", db]).exit_code == 2
    # an import into a new territory: the name given, else one derived from its companies' commune
    assert runner.invoke(app, ["import", str(DATA / "diagnostic.csv"), "--territory", "zi-sud", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["import", str(DATA / "diagnostic.csv"), "--territory", "zi-est", "--name",
                               "Zone Est", "--db", db]).exit_code == 0
    listed = runner.invoke(app, ["territory", "list", "--json", "--db", db])
    import json

    names = {t["code"]: t["name"] for t in json.loads(listed.output)}
    assert names == {"zi-nord": "ZI Nord de Fos", "zi-sud": "Fos-sur-Mer et alentours", "zi-est": "Zone Est"}
