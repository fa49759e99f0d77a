"""Sessions of the pages: sign-out ends them server-side; state-changing forms need this site's Origin;
repeated bad keys are throttled; a revoked key ends its sessions at once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from symbiose.services.keys import revoke_api_key
from symbiose.store import UnitOfWork
from tests.web.conftest import TERRITORY, sign_in


def test_sign_out_revokes_the_session_server_side(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    cookie = client.cookies.get("symbiose_cle")
    assert cookie and client.get(f"/territoires/{TERRITORY}").status_code == 200
    assert client.post("/deconnexion", follow_redirects=False).status_code == 303
    # the old cookie, replayed, no longer opens anything
    client.cookies.set("symbiose_cle", cookie)
    replay = client.get(f"/territoires/{TERRITORY}", follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/connexion")


def test_a_revoked_key_ends_its_sessions_at_once(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    assert client.get(f"/territoires/{TERRITORY}").status_code == 200
    with UnitOfWork(client.database_url) as uow:
        from sqlalchemy import select

        from symbiose.services.keys import hash_key
        from symbiose.store.orm import ApiKeyRow

        key_id = uow.session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.key_hash == hash_key(prepared_db.keys.animator)))
        assert revoke_api_key(uow, key_id)
    assert client.get(f"/territoires/{TERRITORY}", follow_redirects=False).status_code == 303


def test_a_form_without_origin_or_referer_is_refused(client, prepared_db):
    sign_in(client, prepared_db.keys.animator)
    bare = TestClient(client.app, base_url="http://testserver")  # no Origin header: not from our pages
    bare.cookies.set("symbiose_cle", client.cookies.get("symbiose_cle"))
    assert bare.post(f"/territoires/{TERRITORY}/appariements", follow_redirects=False).status_code == 403
    referred = bare.post(f"/territoires/{TERRITORY}/appariements", follow_redirects=False,
                         headers={"Referer": f"http://testserver/territoires/{TERRITORY}"})
    assert referred.status_code in (200, 202, 303)


def test_the_secure_flag_can_be_forced_behind_a_tls_proxy(prepared_db, tmp_path):
    import sqlite3

    from api.main import create_app
    from symbiose.settings import Settings

    copy = tmp_path / "secure.db"
    with sqlite3.connect(prepared_db.url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    app = create_app(Settings(database_url=f"sqlite:///{copy}", cookie_secure=True))
    with TestClient(app, base_url="http://testserver", headers={"Origin": "http://testserver"}) as c:
        r = c.post("/connexion", data={"cle": prepared_db.keys.animator}, follow_redirects=False)
        assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


def test_repeated_bad_keys_are_throttled(client, prepared_db):
    codes = [client.post("/connexion", data={"cle": f"sym_wrong-{i}"}, follow_redirects=False).status_code
             for i in range(client.app.state.settings.auth_failures_per_minute + 2)]
    assert codes[0] == 401 and codes[-1] == 429
    # even the right key waits until the window has passed: a guesser cannot tell
    late = client.post("/connexion", data={"cle": prepared_db.keys.animator}, follow_redirects=False)
    assert late.status_code == 429 and int(late.headers["retry-after"]) >= 1
