"""Fixtures of the web-page tests.

- ``prepared_db``: a temporary SQLite database with a territory imported and
  matched through the services, and keys for its animator, its portal and an
  animator of another territory (for the in-process ``TestClient`` tests).
- ``live_server``: ``symbiose serve`` started in a subprocess on a free
  loopback port with its own temporary database (for the browser tests).
- ``browser``: Debian's Chromium driven by Playwright (never a downloaded
  browser); the browser tests are skipped, with the reason, only when
  Chromium cannot be installed, and fail instead under ``CI=true``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
DEMO = ROOT / "datasets" / "demo" / "diagnostic.csv"
ARTIFACTS = ROOT / "test-artifacts" / "web"
DOCS_IMG = ROOT / "docs" / "img"
TERRITORY = "fos-test"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
XSS_NAME = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Keys:
    animator: str
    portal: str
    other_animator: str


def _make_keys(url: str) -> Keys:
    from symbiose.services import create_api_key, ensure_territory
    from symbiose.store import UnitOfWork

    made = []
    for territory, role in ((TERRITORY, "animator"), (TERRITORY, "portal"), ("autre-zone", "animator")):
        with UnitOfWork(url) as uow:
            ensure_territory(uow, territory)
            uow.commit()
            made.append(create_api_key(uow, territory, role))
    return Keys(*made)


# --------------------------------------------------------------------------
# In-process: a prepared database and a TestClient on it
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    url: str
    keys: Keys


@pytest.fixture(scope="module")
def prepared_db(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """The test diagnostic imported into ``fos-test`` and matched once."""
    from symbiose.services import import_diagnostic, run_match
    from symbiose.store import UnitOfWork

    url = f"sqlite:///{tmp_path_factory.mktemp('web-db') / 'pages.db'}"
    keys = _make_keys(url)
    with UnitOfWork(url) as uow:
        report = import_diagnostic(uow, DATA / "diagnostic.csv", territory=TERRITORY, create_territory=False)
    assert report.written, report.errors
    with UnitOfWork(url) as uow:
        _, result = run_match(uow, TERRITORY)
    assert result is not None and result.synergies
    return Prepared(url, keys)


@pytest.fixture
def client(prepared_db: Prepared, tmp_path: Path) -> Iterator:
    """A TestClient on the real ``create_app`` over a private copy of the prepared database."""
    import sqlite3

    from fastapi.testclient import TestClient

    from api.main import create_app
    from symbiose.settings import Settings

    copy = tmp_path / "pages-copy.db"
    with sqlite3.connect(prepared_db.url.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    app = create_app(Settings(database_url=f"sqlite:///{copy}"))
    # a browser sends Origin with every form post; the pages refuse a post without it
    with TestClient(app, base_url="http://testserver", headers={"Origin": "http://testserver"}) as c:
        c.database_url = f"sqlite:///{copy}"
        yield c


def sign_in(client, key: str) -> None:
    """Sign in through the page, as a browser would."""
    response = client.post("/connexion", data={"cle": key}, follow_redirects=False)
    assert response.status_code == 303, response.text


# --------------------------------------------------------------------------
# Browser: Debian's Chromium, a live server
# --------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def chromium_or_skip() -> str:
    """Chromium's path, installing Debian's package once when missing (``scripts/install-browser.sh``)."""
    path = _chromium()
    if path is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "install-browser.sh")], check=False, timeout=600)
        path = _chromium()
    if path is None:
        reason = "browser tests skipped: chromium is not installed and scripts/install-browser.sh could not install it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but " + reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but playwright is not installed (pip install -e '.[test]')")
        pytest.skip("browser tests skipped: playwright is not installed (pip install -e '.[test]')")
    executable = chromium_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    database_url: str
    keys: Keys


@contextmanager
def serve(folder: Path, url: str, keys: Keys) -> Iterator[LiveServer]:
    """``symbiose serve`` on a free loopback port over the (already migrated) database ``url``."""
    port = _free_port()
    env = {**os.environ, "SYMBIOSE_DATABASE_URL": url, "SYMBIOSE_RUN_WORKERS": "1"}
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "symbiose", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", url],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            pytest.fail("symbiose serve did not start:\n" + (folder / "server.log").read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    try:
        yield LiveServer(base, url, keys)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``symbiose serve`` on a free loopback port and a fresh database with keys (no data yet)."""
    folder = tmp_path_factory.mktemp("web-live")
    url = f"sqlite:///{folder / 'live.db'}"
    keys = _make_keys(url)  # migrates the database before the server opens it
    with serve(folder, url, keys) as server:
        yield server


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``symbiose serve`` over the demo territory (65 companies, 371 flows) imported and matched in ``fos-test``:
    substitutions, collection rounds, group purchases and shared services on one map."""
    from symbiose.services import import_diagnostic, run_match
    from symbiose.store import UnitOfWork

    folder = tmp_path_factory.mktemp("web-demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    keys = _make_keys(url)
    with UnitOfWork(url) as uow:
        report = import_diagnostic(uow, DEMO, territory=TERRITORY, create_territory=False)
    assert report.written, report.errors
    with UnitOfWork(url) as uow:
        _, result = run_match(uow, TERRITORY)
    assert result is not None and result.synergies
    with serve(folder, url, keys) as server:
        yield server


@pytest.fixture(scope="session")
def signed_in(browser, demo_server):
    """A browser context signed in with the animator key of the demo territory (tiles refused, as offline)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR",
                                  base_url=demo_server.base_url)
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.goto("/connexion")
    pg.get_by_label("Clé d'accès").fill(demo_server.keys.animator)
    pg.get_by_role("button", name="Se connecter").click()
    pg.wait_for_url(re.compile(rf"/territoires/{TERRITORY}$"))
    pg.close()
    yield context
    context.close()


@pytest.fixture
def page(browser, live_server: LiveServer) -> Iterator:
    """A fresh browser page (laptop size, French); OpenStreetMap tiles are refused, as offline."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="fr-FR", base_url=live_server.base_url,
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.problems = []  # page errors, CSP violations and dialogs seen during the test
    pg.on("pageerror", lambda exc: pg.problems.append(f"page error: {exc}"))
    pg.on("dialog", lambda dialog: (pg.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    pg.on("console", lambda msg: pg.problems.append(f"console: {msg.text}")
          if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield pg
    context.close()


TILE_HOSTS = ("tile.openstreetmap.org",)
# Elements wider than the screen: the document itself, or a box that scrolls sideways (a table cut on a tablet).
OVERFLOW_JS = """() => {
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) { out.push("document " + root.scrollWidth + " > " + root.clientWidth); }
  for (const el of document.querySelectorAll("body *")) {
    const st = getComputedStyle(el);
    if (st.display === "none" || el.closest(".leaflet-container, .js-plotly-plot")) { continue; }
    if ((st.overflowX === "auto" || st.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + el.scrollWidth + " > " + el.clientWidth);
    }
  }
  return out;
}"""


def record_console(pg) -> list[str]:
    """Every console error or warning and page error of ``pg`` from now on (tiles refused offline excepted)."""
    seen: list[str] = []

    def on_console(msg) -> None:
        where = (msg.location or {}).get("url", "")
        if msg.type in ("error", "warning") and not any(host in where for host in TILE_HOSTS):
            seen.append(f"console {msg.type}: {msg.text} ({where})")

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: seen.append(f"page error: {exc}"))
    return seen


def overflow(pg) -> list[str]:
    """What sticks out sideways on ``pg`` (empty when the page fits its width)."""
    return pg.evaluate(OVERFLOW_JS)


def screenshot(pg, name: str, *, docs: bool = False, full: bool = True) -> Path:
    """Save a screenshot (of the whole page unless ``full=False``: the screen only) under ``test-artifacts/web``; with ``SYMBIOSE_UPDATE_SCREENSHOTS=1``,
    the README's copies in ``docs/img`` are refreshed too."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=full)
    if docs and os.environ.get("SYMBIOSE_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / f"{name}.png")
    return path
