"""The review page in-process (TestClient on the real app): the list with its
guesses, a correction through the form, the code picker's fragment and its
no-JavaScript fallback, animators only."""

from __future__ import annotations

import re

from tests.web.conftest import DATA, TERRITORY, sign_in

UNKNOWN_TEXT = "xqzzv caisses de l'atelier"


def _import_review_file(url: str) -> None:
    from symbiose.services import import_diagnostic
    from symbiose.store import UnitOfWork

    with UnitOfWork(url) as uow:
        report = import_diagnostic(uow, DATA / "diagnostic-revue.csv", territory=TERRITORY, create_territory=False)
    assert report.written, report.errors


def test_review_page_lists_and_corrects(client, prepared_db):
    _import_review_file(client.database_url)
    sign_in(client, prepared_db.keys.animator)
    page = client.get(f"/territoires/{TERRITORY}/revue")
    assert page.status_code == 200
    items = re.findall(r'<li class="review-item" data-flux="(F-[0-9a-f]+)"', page.text)
    assert len(items) == 2
    assert "xqzzv caisses de l&#39;atelier" in page.text and "zzkw plaques du hangar" in page.text
    assert 'href="/territoires/fos-test/revue" aria-current="page"' in page.text

    # the code picker's fragment: radio choices from the French taxonomy
    fragment = client.get(f"/territoires/{TERRITORY}/revue/codes", params={"recherche": "palettes"},
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'value="wood.pallet"' in fragment.text
    assert "Aucun code" in client.get(f"/territoires/{TERRITORY}/revue/codes", params={"recherche": "zzzqqq"}).text

    # without JavaScript: "Chercher" shows the choices inside that flow's form
    flow = items[0]  # unknown flows come first
    found = client.post(f"/territoires/{TERRITORY}/revue", data={"flux": flow, "recherche": "palettes", "chercher": "1"})
    assert found.status_code == 200 and 'value="wood.pallet"' in found.text

    # a code that does not exist: 422 with a French reason, nothing stored
    bad = client.post(f"/territoires/{TERRITORY}/revue", data={"flux": flow, "choix": "bois.palette"})
    assert bad.status_code == 422 and "n&#39;est pas un code de la taxonomie" in bad.text

    done = client.post(f"/territoires/{TERRITORY}/revue", data={"flux": flow, "choix": "wood.pallet"}, follow_redirects=False)
    assert done.status_code == 303 and "ok=1" in done.headers["location"]
    after = client.get(done.headers["location"])
    assert "Correction enregistrée : 1 flux mis à jour." in after.text
    assert len(re.findall(r'class="review-item"', after.text)) == 1
    assert re.search(r'<table class="data" id="corrections">.*wood\.pallet', after.text, re.S)


def test_review_page_is_for_animators(client, prepared_db):
    sign_in(client, prepared_db.keys.portal)
    assert client.get(f"/territoires/{TERRITORY}/revue").status_code == 403
    assert client.post(f"/territoires/{TERRITORY}/revue", data={"flux": "F-0", "choix": "wood.pallet"}).status_code == 403
    assert 'href="/territoires/fos-test/revue"' not in client.get(f"/territoires/{TERRITORY}").text
    sign_in(client, prepared_db.keys.other_animator)
    assert client.get(f"/territoires/{TERRITORY}/revue").status_code == 404
