"""The French HTML report of a territory (``rapport.html``) and the index of
a batch of reports (``index.html``), rendered with jinja2, autoescape on.

The report is one self-contained file: plotly.js (from the plotly wheel) is
inlined once, the map has no tiles, so it opens with no network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from symbiose import __version__
from symbiose.explain import format as fr
from symbiose.report import charts
from symbiose.report.data import PERIOD_FR, STATUS_FR, TYPE_FR, Report, flow_details, resource_label

TEMPLATES = Path(__file__).parent / "templates"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The jinja2 environment of the report templates (autoescape always on)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update({
        "number": fr.number,
        "smart": fr.smart_number,
        "euros": fr.euros,
        "euros_amount": lambda v: fr.euros(v).removesuffix(" €"),
        "score": lambda v: f"{float(v or 0):.2f}".replace(".", ","),
        "km": fr.km,
        "tco2": fr.tco2,
        "qty": lambda v, unit: fr.quantity(float(v or 0), str(unit).split("/")[0]),
        "period_fr": lambda p: PERIOD_FR.get(str(p), str(p)),
        "resource_label": resource_label,
        "flow_details": flow_details,
    })
    env.globals.update(status_labels=STATUS_FR, type_labels=TYPE_FR)
    return env


@lru_cache(maxsize=1)
def plotly_js() -> Markup:
    """The plotly.js bundle shipped in the plotly wheel, to inline once."""
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


def figure_html(fig: Any, div_id: str) -> Markup:
    """A plotly figure as a ``<div>`` + script, with no plotly.js and no link to any server."""
    return Markup(pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False,
                              div_id=div_id, config=PLOTLY_CONFIG, validate=False))


def render_report(report: Report) -> str:
    """The whole French HTML report of ``report`` as text."""
    figures = {
        "map": figure_html(charts.map_figure(report), "carte-synergies"),
        "sankeys": [(unit, figure_html(fig, f"sankey-{i}")) for i, (unit, fig) in enumerate(charts.sankey_figures(report))],
        "types": figure_html(charts.type_chart(report), "synergies-par-type") if report.plan else None,
    }
    return environment().get_template("rapport.html.j2").render(
        r=report, s=report.summary, figures=figures, plotly_js=plotly_js(), version=__version__)


def write_html_report(report: Report, path: Path) -> Path:
    """Write ``rapport.html`` (UTF-8) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(report), encoding="utf-8")
    return path


def render_index(entries: Sequence[Mapping[str, Any]], *, generated_at: str) -> str:
    """The French index of a batch: one row per territory with its report links or why it has none.

    Each entry: ``code``, ``name``, ``companies``, ``flows``, and either ``summary``
    (synergy JSON summary) with ``files`` (kind → path relative to the index) or ``missing`` (a reason).
    """
    return environment().get_template("index.html.j2").render(entries=entries, generated_at=generated_at, version=__version__)


def write_index(entries: Sequence[Mapping[str, Any]], path: Path, *, generated_at: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_index(entries, generated_at=generated_at), encoding="utf-8")
    return path
