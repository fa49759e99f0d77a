"""The animator's journey in a real browser (Debian's Chromium driven by
Playwright) against ``symbiose serve``: sign in, a rejected then an accepted
diagnostic, matching with its live status, the map and the list, a synergy
moved to ``implemented`` and the indicators that follow. Screenshots of the
main pages go to ``test-artifacts/web``."""

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

from tests.web.conftest import DATA, TERRITORY, XSS_NAME, screenshot


def _go(pg, link: str) -> None:
    """Follow a link of the territory's navigation bar."""
    pg.get_by_role("navigation", name=re.compile("^Territoire")).get_by_role("link", name=link, exact=True).click()


def _indicator(pg, row_id: str, column: str) -> str:
    return pg.locator(f"#{row_id} td[data-col='{column}']").inner_text()


def test_animator_journey(page, live_server):
    pg = page

    # -- sign in: a wrong key is refused, the right one opens the territory's dashboard
    pg.goto("/")
    expect(pg).to_have_url(re.compile(r"/connexion"))
    pg.keyboard.press("Tab")
    expect(pg.locator(".skip-link")).to_be_focused()
    pg.get_by_label("Clé d'accès").fill("sym_pas-une-cle")
    pg.get_by_role("button", name="Se connecter").click()
    expect(pg.get_by_role("alert")).to_contain_text("pas reconnue")
    screenshot(pg, "connexion")
    pg.get_by_label("Clé d'accès").fill(live_server.keys.animator)
    pg.get_by_role("button", name="Se connecter").click()
    expect(pg).to_have_url(re.compile(rf"/territoires/{TERRITORY}$"))
    expect(pg.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")
    expect(pg.locator(".lead")).to_contain_text("0 entreprise")

    # -- a diagnostic with errors: each one shown at its row and column, nothing written
    _go(pg, "Importer un diagnostic")
    pg.get_by_label("Fichier (CSV ou XLSX)").set_input_files(str(DATA / "diagnostic-erreurs.csv"))
    pg.get_by_role("button", name="Importer").click()
    errors = pg.locator("#erreurs-import tbody tr")
    expect(errors).to_have_count(2)
    # the columns as the file wrote them (quantite, sens), the reason in French
    expect(errors.nth(0).locator("td")).to_have_text(["3", "quantite", "beaucoup", re.compile(r"un nombre attendu")])
    expect(errors.nth(1).locator("td").nth(0)).to_have_text("4")
    expect(errors.nth(1).locator("td").nth(1)).to_have_text("sens")
    expect(pg.locator("#refus-import")).to_contain_text("Rien n'a été enregistré")
    screenshot(pg, "diagnostic-erreurs")

    # -- the good diagnostic
    pg.get_by_label("Fichier (CSV ou XLSX)").set_input_files(str(DATA / "diagnostic.csv"))
    pg.get_by_role("button", name="Importer").click()
    expect(pg.locator("#succes-import")).to_contain_text("7 entreprises et 10 flux")

    # -- matching, started from the dashboard, its status polled until done
    _go(pg, "Tableau de bord")
    expect(pg.locator(".lead")).to_contain_text("7 entreprises")
    assert _indicator(pg, "statut-implemented", "synergies") == "0"
    pg.get_by_role("button", name="Lancer l'appariement").click()
    expect(pg.locator("#etat-appariement")).to_have_attribute("data-statut", re.compile("queued|running|done"))
    expect(pg.locator("#etat-appariement")).to_have_attribute("data-statut", "done", timeout=30_000)
    expect(pg.locator("#etat-appariement")).to_contain_text("4 synergies")
    expect(pg.locator("[data-indicateur='synergies']")).to_have_text("4")
    proposed_before = int(_indicator(pg, "statut-proposed", "synergies"))
    assert proposed_before == 4

    # -- the map: companies, flows and synergies drawn on a plain background (tiles refused)
    _go(pg, "Carte")
    carte = pg.locator("#carte")
    expect(carte).to_have_attribute("data-pret", "oui")
    expect(carte).to_have_attribute("data-fond", "uni")
    expect(pg.locator("#etat-fond")).to_contain_text("départements et des villes")
    expect(pg.locator("path.entreprise")).to_have_count(7)
    expect(pg.locator("path.flux")).to_have_count(10)
    expect(pg.locator("path.synergie-substitution")).to_have_count(2)
    expect(pg.locator("path.synergie-mutualisation")).to_have_count(2)
    pg.get_by_label("Mutualisations (tournées)").uncheck()
    expect(pg.locator("path.synergie-mutualisation")).to_have_count(0)
    pg.get_by_label("Papiers et cartons").uncheck()
    expect(pg.locator("path.flux")).to_have_count(7)
    pg.get_by_label("Mutualisations (tournées)").check()
    expect(pg.locator("path.synergie-mutualisation")).to_have_count(1)
    pg.get_by_label("Papiers et cartons").check()
    # a company picked in the list (the keyboard way) shows its flows and synergies; its odd name is text
    pg.get_by_label("Voir une entreprise").select_option(label=XSS_NAME)
    panel = pg.locator("#panneau-entreprise")
    expect(panel.get_by_role("heading", level=2)).to_have_text(XSS_NAME)
    expect(panel.locator("#flux-entreprise tbody tr")).to_have_count(2)
    expect(panel.locator(".synergy-links li")).to_have_count(2)
    # a click on a company marker does the same
    pg.locator("path.entreprise").first.click(force=True)
    expect(panel.get_by_role("heading", level=2)).not_to_have_text(XSS_NAME)
    pg.get_by_label("Voir une entreprise").select_option(label="Aciérie du Caban")
    expect(panel.get_by_role("heading", level=2)).to_have_text("Aciérie du Caban")
    screenshot(pg, "carte", docs=True)

    # -- the list, then one synergy moved to implemented
    _go(pg, "Synergies")
    rows = pg.locator("#liste-synergies tbody tr")
    expect(rows).to_have_count(4)
    expect(pg.locator("#liste-synergies").get_by_text(XSS_NAME).first).to_be_visible()
    screenshot(pg, "synergies")
    first = rows.first
    savings = first.locator("td").nth(3).inner_text()
    first.get_by_role("link").click()
    expect(pg.locator(".explanation")).not_to_be_empty()
    pg.get_by_role("button", name="Réalisée").click()
    expect(pg.get_by_role("status").filter(has_text="suivi a été enregistré")).to_be_visible()
    expect(pg.locator("#statut-actuel")).to_have_text("Réalisée")
    expect(pg.locator("#historique tbody tr")).to_have_count(2)  # proposed by the run, then implemented
    expect(pg.get_by_role("button", name="Réalisée")).to_have_count(0)
    screenshot(pg, "synergie")

    # -- the indicators follow
    _go(pg, "Tableau de bord")
    assert _indicator(pg, "statut-implemented", "synergies") == "1"
    assert _indicator(pg, "statut-proposed", "synergies") == str(proposed_before - 1)
    assert _indicator(pg, "statut-implemented", "euros") == savings.removesuffix("/an")
    screenshot(pg, "tableau-de-bord", docs=True)

    # -- on a tablet the map page still fits the screen
    pg.set_viewport_size({"width": 820, "height": 1180})
    _go(pg, "Carte")
    expect(pg.locator("#carte")).to_have_attribute("data-pret", "oui")
    assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(pg, "carte-tablette")

    assert pg.problems == []
