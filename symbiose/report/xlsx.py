"""The XLSX workbook of a territory report (``rapport.xlsx``), with xlsxwriter.

Sheets: Synergies, Entreprises, Flux, Tournées, Indicateurs. French headers,
numbers written as numbers with a format, header row frozen, autofilter and
column widths set. No cell ever holds a formula: text goes through
:func:`safe_text` (OWASP CSV/formula-injection guidance: text starting with
``= + - @``, tab or carriage return gets a leading apostrophe) and is written
with ``write_string``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

from symbiose.report.data import DIRECTION_FR, PERIOD_FR, STATUS_FR, TYPE_FR, Report, naf_label, resource_label

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # + full-width forms
MAX_CELL_CHARS = 32_767


def safe_text(value: object) -> str:
    """Text a spreadsheet will never read as a formula (a leading ``'`` when needed)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return text[:MAX_CELL_CHARS]


@dataclass(frozen=True)
class Column:
    """A sheet column: French header, width, value getter and kind (``text``, ``int``, ``qty``, ``eur``, ...)."""

    header: str
    width: float
    get: Callable[[Any], Any]
    kind: str | Callable[[Any], str] = "text"  # or a function of the row


NUMBER_FORMATS = {
    "int": "#,##0",
    "qty": "#,##0.0##",
    "eur": '#,##0 "€"',
    "co2": "#,##0.000",
    "km": "#,##0.00",
    "score": "0.00",
    "coord": "0.000000",
    "pct": "0%",
}


class _Writer:
    def __init__(self, path: Path | Any):  # a path, or an in-memory buffer (io.BytesIO)
        self.book = xlsxwriter.Workbook(path if hasattr(path, "write") else str(path), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "in_memory": True,
        })
        self.header = self.book.add_format({"bold": True, "bg_color": "#E8EDF1", "bottom": 1, "text_wrap": True, "valign": "top"})
        self.text = self.book.add_format({"valign": "top"})
        self.wrap = self.book.add_format({"valign": "top", "text_wrap": True})
        self.numbers = {k: self.book.add_format({"num_format": f, "valign": "top"}) for k, f in NUMBER_FORMATS.items()}
        self.title = self.book.add_format({"bold": True, "font_size": 14})

    def cell(self, sheet, row: int, col: int, value: Any, kind: str) -> None:
        if value is None or value == "":
            sheet.write_blank(row, col, None, self.text)
        elif kind in NUMBER_FORMATS and isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(row, col, float(value), self.numbers[kind])
        else:
            sheet.write_string(row, col, safe_text(value), self.wrap if kind == "wrap" else self.text)

    def table(self, name: str, columns: Sequence[Column], rows: Sequence[Any], *, first_row: int = 0) -> None:
        sheet = self.book.add_worksheet(name)
        for j, col in enumerate(columns):
            sheet.write_string(first_row, j, col.header, self.header)
            sheet.set_column(j, j, col.width)
        for i, item in enumerate(rows, start=first_row + 1):
            for j, col in enumerate(columns):
                self.cell(sheet, i, j, col.get(item), col.kind(item) if callable(col.kind) else col.kind)
        sheet.freeze_panes(first_row + 1, 0)
        sheet.autofilter(first_row, 0, first_row + max(len(rows), 1), len(columns) - 1)
        sheet.set_row(first_row, 32)

    def close(self) -> None:
        self.book.close()


def _names(companies) -> str:
    return ", ".join(c.name for c in companies)


def _synergy_columns() -> list[Column]:
    p = lambda key: (lambda v: v.payload.get(key))  # noqa: E731
    return [
        Column("Rang", 7, p("rank"), "int"),
        Column("Identifiant", 10, p("id")),
        Column("Type", 14, lambda v: v.type_label),
        Column("Ressource", 28, lambda v: v.resource_label),
        Column("Code ressource", 22, p("resource")),
        Column("Fournisseurs / participants", 34, lambda v: _names(v.suppliers), "wrap"),
        Column("Receveurs", 30, lambda v: _names(v.receivers), "wrap"),
        Column("Quantité (par an)", 13, p("quantity"), "qty"),
        Column("Unité", 10, lambda v: str(v.payload.get("unit", "")).replace("/year", "/an")),
        Column("Distance (km)", 11, p("distance_km"), "km"),
        Column("Économies (€/an)", 14, p("savings_eur"), "eur"),
        Column("CO₂e évité (t/an)", 13, p("co2_avoided_t"), "co2"),
        Column("Tonnes détournées (t/an)", 13, lambda v: v.tonnes, "qty"),
        Column("Score", 8, p("score"), "score"),
        Column("Dans le plan", 10, lambda v: "oui" if v.in_plan else "non"),
        Column("Suivi", 18, lambda v: v.status_label),
        Column("Motif (hors plan)", 30, lambda v: v.payload.get("reason") or "", "wrap"),
        Column("Explication", 80, p("explanation"), "wrap"),
    ]


def _company_rows(report: Report) -> list[dict[str, Any]]:
    n_out: dict[str, int] = {}
    n_in: dict[str, int] = {}
    for f in report.flows:
        target = n_out if f.direction == "out" else n_in
        target[f.company_id] = target.get(f.company_id, 0) + 1
    sheets = {sh.company.id: sh for sh in report.sheets}
    rows = []
    for c in report.companies:
        sh = sheets.get(c.id)
        rows.append({
            "c": c, "out": n_out.get(c.id, 0), "in": n_in.get(c.id, 0),
            "synergies": len(sh.synergies) if sh else 0,
            "savings": sh.savings_eur if sh else 0.0, "co2": sh.co2_avoided_t if sh else 0.0,
        })
    return rows


def _company_columns() -> list[Column]:
    return [
        Column("Identifiant", 16, lambda r: r["c"].id),
        Column("Nom", 34, lambda r: r["c"].name),
        Column("Code postal", 10, lambda r: r["c"].postcode),
        Column("Commune", 20, lambda r: r["c"].city),
        Column("Latitude", 11, lambda r: r["c"].lat, "coord"),
        Column("Longitude", 11, lambda r: r["c"].lon, "coord"),
        Column("Code NAF", 10, lambda r: r["c"].naf),
        Column("Activité", 40, lambda r: naf_label(r["c"].naf)),
        Column("Confidentielle", 12, lambda r: "oui" if r["c"].confidential else "non"),
        Column("Flux sortants", 10, lambda r: r["out"], "int"),
        Column("Flux entrants", 10, lambda r: r["in"], "int"),
        Column("Synergies", 10, lambda r: r["synergies"], "int"),
        Column("Économies des synergies (€/an)", 16, lambda r: r["savings"], "eur"),
        Column("CO₂e évité des synergies (t/an)", 16, lambda r: r["co2"], "co2"),
    ]


def _flow_columns(names: dict[str, str]) -> list[Column]:
    return [
        Column("Identifiant flux", 16, lambda f: f.id),
        Column("Identifiant entreprise", 16, lambda f: f.company_id),
        Column("Entreprise", 30, lambda f: names.get(f.company_id, f.company_id)),
        Column("Sens", 9, lambda f: DIRECTION_FR.get(str(f.direction), str(f.direction))),
        Column("Code ressource", 22, lambda f: f.resource),
        Column("Ressource", 28, lambda f: resource_label(f.resource)),
        Column("Texte saisi", 28, lambda f: f.text, "wrap"),
        Column("Confiance du classement", 11, lambda f: f.confidence, "pct"),
        Column("Quantité annuelle", 13, lambda f: f.quantity, "qty"),
        Column("Unité", 8, lambda f: f.unit),
        Column("Quantité déclarée", 12, lambda f: f.raw_quantity, "qty"),
        Column("Unité déclarée", 10, lambda f: f.raw_unit),
        Column("Période", 11, lambda f: PERIOD_FR.get(f.period, f.period)),
        Column("Dangereux", 10, lambda f: "oui" if f.hazardous else "non"),
        Column("Code déchet", 10, lambda f: f.ewc),
        Column("Température (°C)", 11, lambda f: f.temperature_c, "qty"),
        Column("Concentration (%)", 11, lambda f: f.concentration_pct, "qty"),
        Column("Coût unitaire déclaré (€)", 13, lambda f: f.cost_eur_per_unit, "qty"),
        Column("Libellé", 30, lambda f: f.label, "wrap"),
        Column("Remarques", 30, lambda f: f.notes, "wrap"),
    ]


def _stop_rows(report: Report) -> list[dict[str, Any]]:
    names = {c.id: c.name for c in report.companies}
    rows = []
    for v in report.rounds:
        for order, stop in enumerate(v.payload.get("route") or (), start=1):
            cid = stop.get("company_id")
            rows.append({"v": v, "order": order, "stop": stop, "name": names.get(cid, "") if cid else ""})
    return rows


def _stop_columns() -> list[Column]:
    return [
        Column("Synergie", 10, lambda r: r["v"].payload.get("id")),
        Column("Rang", 7, lambda r: r["v"].payload.get("rank"), "int"),
        Column("Ressource", 26, lambda r: r["v"].resource_label),
        Column("Dans le plan", 10, lambda r: "oui" if r["v"].in_plan else "non"),
        Column("Ordre", 7, lambda r: r["order"], "int"),
        Column("Identifiant entreprise", 16, lambda r: r["stop"].get("company_id")),
        Column("Entreprise", 30, lambda r: r["name"]),
        Column("Étape", 16, lambda r: r["stop"].get("label")),
        Column("Latitude", 11, lambda r: r["stop"].get("lat"), "coord"),
        Column("Longitude", 11, lambda r: r["stop"].get("lon"), "coord"),
        Column("Quantité par collecte", 12, lambda r: r["stop"].get("quantity"), "qty"),
        Column("Unité", 8, lambda r: str(r["v"].payload.get("unit", "")).split("/")[0]),
        Column("Collectes par an", 10, lambda r: (r["v"].payload.get("details") or {}).get("collections_per_year"), "int"),
        Column("Longueur de la tournée (km)", 14, lambda r: r["v"].payload.get("distance_km"), "km"),
    ]


def _visit_rows(report: Report) -> list[dict[str, Any]]:
    """One row per probable flow of each firm to visit (pre-diagnostic), firms by visit rank."""
    firms = [f for f in (report.input.visits or {}).get("firms", ()) if f.get("visit_rank")]
    return [{"f": f, "p": p} for f in firms for p in f.get("probable_flows", ())]


def _visit_columns() -> list[Column]:
    return [
        Column("Rang de visite", 8, lambda r: r["f"]["visit_rank"], "int"),
        Column("Identifiant entreprise", 16, lambda r: r["f"]["company_id"]),
        Column("Entreprise", 30, lambda r: r["f"]["name"]),
        Column("NAF", 8, lambda r: r["f"].get("naf")),
        Column("Valeur attendue (€/an)", 12, lambda r: r["f"]["expected_value_eur"], "eur"),
        Column("Pourquoi la rencontrer", 60, lambda r: r["f"]["reason"], "wrap"),
        Column("Flux probable (à confirmer)", 30, lambda r: resource_label(r["p"]["resource"])),
        Column("Sens", 9, lambda r: DIRECTION_FR.get(r["p"]["direction"], r["p"]["direction"])),
        Column("Probabilité", 10, lambda r: r["p"]["probability"], "pct"),
        Column("Quantité basse (/an)", 12, lambda r: r["p"]["quantity_low"], "qty"),
        Column("Quantité haute (/an)", 12, lambda r: r["p"]["quantity_high"], "qty"),
        Column("Unité", 8, lambda r: r["p"]["unit"]),
        Column("Source", 24, lambda r: r["p"].get("source")),
    ]


def _indicator_rows(report: Report) -> list[tuple[str, str, Any, str]]:
    """(group, indicator, value, kind) rows of the Indicateurs sheet."""
    s = report.summary
    t = report.totals
    rows: list[tuple[str, str, Any, str]] = [
        ("Territoire", "Code", report.territory, "text"),
        ("Territoire", "Nom", report.name, "text"),
        ("Territoire", "Date de l'analyse", report.generated_at, "text"),
        ("Diagnostic", "Entreprises", s.get("companies", len(report.companies)), "int"),
        ("Diagnostic", "Flux", s.get("flows", len(report.flows)), "int"),
        ("Diagnostic", "Pistes examinées (candidats)", s.get("candidates"), "int"),
        ("Total", "Synergies retenues", t.synergies, "int"),
        ("Total", "Tonnes détournées (t/an)", t.tonnes, "qty"),
        ("Total", "Économies (€/an)", t.savings_eur, "eur"),
        ("Total", "CO₂e évité (t/an)", t.co2_avoided_t, "co2"),
    ]
    for groups, labels, prefix in ((report.by_type, TYPE_FR, "Type"), (report.by_status, STATUS_FR, "Suivi")):
        for code, tot in groups.items():
            label = f"{prefix} : {labels.get(code, code)}"
            rows += [
                (label, "Synergies", tot.synergies, "int"),
                (label, "Tonnes détournées (t/an)", tot.tonnes, "qty"),
                (label, "Économies (€/an)", tot.savings_eur, "eur"),
                (label, "CO₂e évité (t/an)", tot.co2_avoided_t, "co2"),
            ]
    digits = {"qty": 3, "eur": 2, "co2": 3}  # sums of floats: stored rounded, as displayed
    return [(g, i, round(v, digits[k]) if k in digits and isinstance(v, float) else v, k) for g, i, v, k in rows]


def write_workbook(report: Report, path: Path) -> Path:
    """Write ``rapport.xlsx`` for ``report`` and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w = _Writer(path)
    try:
        w.table("Synergies", _synergy_columns(), report.synergies)
        w.table("Entreprises", _company_columns(), _company_rows(report))
        names = {c.id: c.name for c in report.companies}
        w.table("Flux", _flow_columns(names), report.flows)
        w.table("Tournées", _stop_columns(), _stop_rows(report))
        if report.input.visits:  # pre-diagnostic: kept on its own sheet, never in the totals
            w.table("Visites (flux probables)", _visit_columns(), _visit_rows(report))
        w.table("Indicateurs", [
            Column("Rubrique", 34, lambda r: r[0]),
            Column("Indicateur", 34, lambda r: r[1]),
            Column("Valeur", 18, lambda r: r[2], lambda r: r[3]),
        ], _indicator_rows(report))
    finally:
        w.close()
    return path


# --------------------------------------------------------------------------
# A listing exported from the pages (the filtered synergy list)
# --------------------------------------------------------------------------

LISTING_COLUMNS: tuple[tuple[str, str, str], ...] = (  # key, French header, kind (as NUMBER_FORMATS)
    ("rank", "Rang", "int"), ("id", "Identifiant", "text"), ("type", "Type", "text"),
    ("resource_label", "Ressource", "text"), ("resource", "Code ressource", "text"),
    ("suppliers", "Fournisseurs / participants", "wrap"), ("receivers", "Receveurs", "wrap"),
    ("quantity", "Quantité (par an)", "qty"), ("unit", "Unité", "text"), ("distance_km", "Distance (km)", "km"),
    ("savings_eur", "Économies (€/an)", "eur"), ("co2_avoided_t", "CO₂e évité (t/an)", "co2"),
    ("score", "Score", "score"), ("in_plan", "Dans le plan", "text"), ("status", "Suivi", "text"),
)


def listing_rows(synergies: Sequence[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """The synergies of a listing (as the API gives them) as rows of :data:`LISTING_COLUMNS`, in French."""
    def parties(items: Any) -> str:
        return ", ".join(names.get(p.get("company_id"), p.get("company_id") or "") for p in items or ())

    return [{
        "rank": s.get("rank"), "id": s.get("id"), "type": TYPE_FR.get(str(s.get("type")), s.get("type")),
        "resource_label": resource_label(str(s.get("resource") or "")), "resource": s.get("resource"),
        "suppliers": parties(s.get("suppliers")), "receivers": parties(s.get("receivers")),
        "quantity": s.get("quantity"), "unit": str(s.get("unit") or "").replace("/year", "/an"),
        "distance_km": s.get("distance_km"), "savings_eur": s.get("savings_eur"),
        "co2_avoided_t": s.get("co2_avoided_t"), "score": s.get("score"),
        "in_plan": "oui" if s.get("in_plan", True) else "non",
        "status": STATUS_FR.get(str(s.get("status")), s.get("status")),
    } for s in synergies]


def listing_xlsx(rows: Sequence[dict[str, Any]], path_or_buffer: Any, *, sheet: str = "Synergies") -> None:
    """The rows of :func:`listing_rows` as a one-sheet workbook (numbers as numbers, no formula ever)."""
    writer = _Writer(path_or_buffer)
    widths = {"wrap": 34, "text": 14}
    columns = [Column(header, widths.get(kind, 13), (lambda key: lambda r: r[key])(key), kind)
               for key, header, kind in LISTING_COLUMNS]
    writer.table(sheet, columns, rows)
    writer.close()


def listing_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """The rows of :func:`listing_rows` as a CSV a French spreadsheet opens as is: UTF-8 with BOM, ``;``,
    decimal commas, texts never read as formulas."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([header for _, header, _ in LISTING_COLUMNS])
    for r in rows:
        line = []
        for key, _, kind in LISTING_COLUMNS:
            value = r[key]
            if kind in NUMBER_FORMATS and isinstance(value, (int, float)) and not isinstance(value, bool):
                line.append(repr(round(float(value), 3)).removesuffix(".0").replace(".", ","))
            else:
                line.append(safe_text(value))
        writer.writerow(line)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
