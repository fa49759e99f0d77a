"""Fixtures of the HTTP API tests: the real app served by uvicorn on a free
loopback port (in a thread, or as a subprocess that a test may kill), API
keys made by the real key service, and a small diagnostic of the Fos area
with one confidential company."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.main import create_app
from symbiose.services.keys import create_api_key
from symbiose.services.territories import ensure_territory
from symbiose.settings import Settings
from symbiose.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
TERRITORY = "fos-test"
OTHER = "berre-test"

# The confidential company, with coordinates precise enough that any exact
# value in a response is a leak (its rounded form has two decimals).
SECRET_NAME = "Chimie du Golfe SAS"
SECRET_ID = "SIRET-44306184100047"
SECRET_LAT, SECRET_LON = 43.4567891, 4.8765432

HEADER = "company_id;company_name;direction;resource;quantity;unit;period;lat;lon;postcode;city;naf;confidential;label;notes"
ROWS = [
    f"{SECRET_ID};{SECRET_NAME};out;chemical.acid.hcl;1500;t;year;{SECRET_LAT};{SECRET_LON};13270;Fos-sur-Mer;20.13B;oui;HCl 33 % de Chimie du Golfe;contact : M. Martin",
    f"{SECRET_ID};{SECRET_NAME};out;wood.pallet;30;t;year;{SECRET_LAT};{SECRET_LON};13270;Fos-sur-Mer;20.13B;oui;palettes;",
    f"{SECRET_ID};{SECRET_NAME};out;paper.cardboard;45;t;year;{SECRET_LAT};{SECRET_LON};13270;Fos-sur-Mer;20.13B;oui;cartons;",
    "C2;Verrerie Provençale;in;chemical.acid.hcl;1200;t;year;43.4612345;4.8823456;13270;Fos-sur-Mer;23.13Z;non;acide de décapage;",
    "C2;Verrerie Provençale;out;wood.pallet;25;t;year;43.4612345;4.8823456;13270;Fos-sur-Mer;23.13Z;non;palettes;",
    "C2;Verrerie Provençale;out;paper.cardboard;50;t;year;43.4612345;4.8823456;13270;Fos-sur-Mer;23.13Z;non;cartons;",
    "C3;Logistique Berre;out;wood.pallet;40;t;year;43.4701234;4.8901234;13270;Fos-sur-Mer;52.10B;non;palettes EUR;",
    "C3;Logistique Berre;out;paper.cardboard;80;t;year;43.4701234;4.8901234;13270;Fos-sur-Mer;52.10B;non;cartons;",
    "C4;Métaux du Port;out;wood.pallet;35;t;year;43.4489012;4.8654321;13270;Fos-sur-Mer;24.10Z;non;palettes;",
    "C4;Métaux du Port;out;paper.cardboard;60;t;year;43.4489012;4.8654321;13270;Fos-sur-Mer;24.10Z;non;cartons;",
    "C5;Acides Méditerranée;in;chemical.acid.hcl;300;t;year;43.4400001;4.8500001;13270;Fos-sur-Mer;20.13B;non;HCl pour neutralisation;",
]


def diagnostic_csv(rows: list[str] | None = None) -> bytes:
    """The test diagnostic as CSV bytes (semicolon-separated, as French spreadsheets export)."""
    return ("\n".join([HEADER, *(ROWS if rows is None else rows)]) + "\n").encode("utf-8")


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # inherited by accepted connections; without it, a socket handed to uvicorn answers
    # keep-alive requests ~40 ms late (Nagle's algorithm against delayed ACKs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Keys:
    admin: str
    animator: str
    portal: str
    other_animator: str
    other_portal: str


def make_keys(url: str) -> Keys:
    """Keys of every role for the test territory, and of another territory."""
    with UnitOfWork(url) as uow:
        ensure_territory(uow, TERRITORY, "Zone industrielle de Fos (test)")
        ensure_territory(uow, OTHER, "Étang de Berre (test)")
        uow.commit()
        return Keys(
            admin=create_api_key(uow, TERRITORY, "admin"),
            animator=create_api_key(uow, TERRITORY, "animator"),
            portal=create_api_key(uow, TERRITORY, "portal"),
            other_animator=create_api_key(uow, OTHER, "animator"),
            other_portal=create_api_key(uow, OTHER, "portal"),
        )


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class ThreadServer:
    """The app served by uvicorn in a background thread of the test process."""

    def __init__(self, url: str, **settings: object):
        self.sock = free_socket()
        host, port = self.sock.getsockname()
        self.base_url = f"http://{host}:{port}"
        self.app = create_app(Settings(database_url=url, **settings))
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()
        worker = getattr(self.app.state, "worker", None)
        if worker is not None:  # let a run in progress finish before the database is reused
            worker.shutdown(wait=True)


class ProcessServer:
    """``uvicorn api.main:create_app --factory`` as a subprocess (a test may SIGKILL it)."""

    def __init__(self, url: str, log: Path):
        self.url = url
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.base_url = ""

    def start(self) -> ProcessServer:
        sock = free_socket()
        port = sock.getsockname()[1]
        sock.close()  # uvicorn binds it again at once (SO_REUSEADDR)
        self.base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "SYMBIOSE_DATABASE_URL": self.url, "PYTHONPATH": str(ROOT)}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.base_url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def keys(db_url: str) -> Keys:
    return make_keys(db_url)


@pytest.fixture
def server(db_url: str, keys: Keys) -> Iterator[ThreadServer]:
    """The app on ``db_url`` (SQLite, then PostgreSQL), over real HTTP on loopback."""
    # thousands of deliberate bad-key requests from one address (isolation matrix, fuzzing): the
    # failed-authentication limit is tested on its own (test_limits.py)
    with ThreadServer(db_url, auth_failures_per_minute=1_000_000) as srv:
        yield srv


@pytest.fixture
def client(server: ThreadServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        yield c


def wait_run(client: httpx.Client, key: str, run_id: int, territory: str = TERRITORY, timeout: float = 60) -> dict:
    """Poll a run until it is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/territories/{territory}/runs/{run_id}", headers=auth(key)).json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def upload(client: httpx.Client, key: str, data: bytes, *, territory: str = TERRITORY, dry_run: bool = False,
           filename: str = "diagnostic.csv") -> httpx.Response:
    params = {"dry_run": "true"} if dry_run else {}
    return client.post(f"/api/v1/territories/{territory}/diagnostics", headers=auth(key), params=params,
                       files={"file": (filename, data, "text/csv")})


def run_to_done(client: httpx.Client, key: str, territory: str = TERRITORY) -> dict:
    r = client.post(f"/api/v1/territories/{territory}/runs", headers=auth(key))
    assert r.status_code == 202, r.text
    run = wait_run(client, key, r.json()["id"], territory)
    assert run["status"] == "done", run
    return run
