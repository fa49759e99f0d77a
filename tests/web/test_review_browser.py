"""Review of classifications in a real browser (Debian's Chromium driven by
Playwright) against ``symbiose serve``: the code picker searched in French
(htmx), a correction saved, and a re-import of the same file that keeps it."""

from __future__ import annotations

import os
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture explains; under CI a missing playwright fails
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("browser tests skipped: playwright is not installed (pip install -e '.[test]')",
                allow_module_level=True)

from tests.web.conftest import DATA, TERRITORY, screenshot

UNKNOWN_TEXT = "xqzzv caisses de l'atelier"


def _nav(pg, link: str) -> None:
    pg.get_by_role("navigation", name=re.compile("^Territoire")).get_by_role("link", name=link, exact=True).click()


def _upload(pg, name: str) -> None:
    _nav(pg, "Importer un diagnostic")
    pg.get_by_label("Fichier (CSV ou XLSX)").set_input_files(str(DATA / name))
    pg.get_by_role("button", name="Importer").click()
    expect(pg.locator("#succes-import")).to_be_visible()


def test_review_and_correction_survive_a_reimport(page, live_server):
    pg = page
    pg.goto("/connexion")
    pg.get_by_label("Clé d'accès").fill(live_server.keys.animator)
    pg.get_by_role("button", name="Se connecter").click()
    expect(pg).to_have_url(re.compile(rf"/territoires/{TERRITORY}$"))
    _upload(pg, "diagnostic-revue.csv")

    _nav(pg, "Revue")
    items = pg.locator("#liste-revue > li")
    expect(items).to_have_count(2)
    first = items.first
    expect(first.locator("h2")).to_have_text(UNKNOWN_TEXT)
    # the code picker: French words typed, choices drawn by htmx from the taxonomy
    first.get_by_label("Chercher un autre code (en français)").fill("palettes")
    choice = first.locator(".code-results input[value='wood.pallet']")
    expect(choice).to_be_visible()
    choice.check()
    screenshot(pg, "revue")
    first.get_by_role("button", name="Enregistrer la correction").click()
    expect(pg.locator("#succes-revue")).to_contain_text("1 flux mis à jour")
    expect(items).to_have_count(1)
    expect(items.first.locator("h2")).to_have_text("zzkw plaques du hangar")
    expect(pg.locator("#corrections tbody tr")).to_have_count(1)
    expect(pg.locator("#corrections tbody tr").first).to_contain_text("wood.pallet")

    # the same file again: the correction is applied at import, the flow stays off the list
    _upload(pg, "diagnostic-revue.csv")
    expect(pg.locator("#succes-import")).to_contain_text("2 flux")
    _nav(pg, "Revue")
    expect(items).to_have_count(1)
    expect(pg.get_by_text(UNKNOWN_TEXT, exact=True)).to_have_count(1)  # only in the corrections table
    expect(pg.locator("#corrections tbody tr")).to_have_count(1)
    assert pg.problems == []
