"""The notebooks of ``notebooks/`` run headless, top to bottom, with no error
cell, and print what they promise (nbclient, a fresh kernel of this Python)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, monkeypatch, timeout: int) -> list[str]:
    """Execute a notebook; return the text each code cell printed."""
    # the kernel spec launches "python": make it this interpreter
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        texts.append("".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"))
    return texts


@pytest.mark.slow
def test_territory_walkthrough_notebook(monkeypatch):
    texts = run_notebook("01_parcours_territoire.ipynb", monkeypatch, timeout=300)
    out = "\n".join(texts)
    assert "0 erreur(s) bloquante(s)" in out
    assert "synergies retenues" in out
    for name in ("synergies.json", "carte.geojson", "rapport.xlsx", "rapport.html"):
        assert name in texts[-1]
    assert "fiches entreprises dans le rapport HTML" in texts[-1]


@pytest.mark.slow
def test_portal_api_notebook(monkeypatch):
    texts = run_notebook("02_portail_api.ipynb", monkeypatch, timeout=300)
    out = "\n".join(texts)
    assert "API prête sur http://127.0.0.1:" in out
    assert ": done" in out
    assert "synergies (page 1" in out
    assert "écriture avec une clé de portail : 403" in out
    assert "serveur arrêté" in texts[-1]
