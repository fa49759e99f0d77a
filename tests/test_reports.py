"""Batch reports: the real pipeline (import → run → report) on small diagnostics.

The HTML report must open with no network, show the summary figures and one
sheet per company; user text must stay text in HTML (escaped) and in XLSX
(no formula); ``report --all`` writes one folder per territory and an index.
"""

from __future__ import annotations

import json
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from symbiose.cli import app
from symbiose.explain import format as fr
from symbiose.services import import_diagnostic, run_match
from symbiose.services.reports import FILES, write_report_set
from symbiose.store import UnitOfWork

XSS = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("x")'
HEADER = "company_id;company_name;direction;resource;quantity;unit;lat;lon;postcode;city;naf;confidential;label\n"
ROWS = [
    ("A", "Chimie du Golfe", "out", "chemical.acid.hcl", "1500", "t", "43.4672", "4.8618", "20.13B", "non", "HCl 33 %"),
    ("B", XSS, "in", "chemical.acid.hcl", "1200", "t", "43.4550", "4.8900", "20.14Z", "non", "achat HCl"),
    ("C", FORMULA, "out", "wood.pallet", "40", "t", "43.4400", "4.9300", "46.90Z", "oui", "palettes"),
    ("D", "Brasserie de l'Étang", "out", "wood.pallet", "30", "t", "43.4500", "4.9400", "11.05Z", "non", "palettes"),
    ("D", "Brasserie de l'Étang", "in", "energy.heat", "800", "MWh", "43.4500", "4.9400", "11.05Z", "non", "chaleur process"),
    ("E", "Aciérie Méditerranée", "out", "energy.heat", "2500", "MWh", "43.4480", "4.9350", "24.10Z", "non", "chaleur fatale"),
    ("E", "Aciérie Méditerranée", "out", "metal.ferrous", "300", "t", "43.4480", "4.9350", "24.10Z", "non", "ferraille"),
    ("F", "Logistique du Port", "out", "wood.pallet", "25", "t", "43.4300", "4.9200", "52.10B", "non", "palettes"),
    ("G", "Recyclage Provence", "in", "metal.ferrous", "500", "t", "43.4700", "4.9500", "38.32Z", "non", "ferraille"),
    ("H", "-Bureau @Conseil", "out", "paper.cardboard", "6", "t", "43.4350", "4.9100", "70.22Z", "non", "+cartons"),
]


def write_diagnostic(path: Path, rows=ROWS) -> Path:
    lines = [HEADER] + [
        ";".join((cid, name, d, res, q, u, lat, lon, "13270", "Fos-sur-Mer", naf, conf, label)) + "\n"
        for cid, name, d, res, q, u, lat, lon, naf, conf, label in rows
    ]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def import_and_run(url: str, file: Path, territory: str) -> None:
    with UnitOfWork(url) as uow:
        report = import_diagnostic(uow, file, territory=territory)
        assert not report.errors, report.errors
    with UnitOfWork(url) as uow:
        _, result = run_match(uow, territory)
        assert result is not None


class Page(HTMLParser):
    """What a browser would load or run: external sources, inline scripts, sheets, texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.external: list[str] = []
        self.scripts: list[str] = []
        self.sheet_titles: list[str] = []
        self.text: list[str] = []
        self._stack: list[tuple[str, dict]] = []
        self._in_sheet = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "data", "poster"):
            value = (a.get(key) or "").strip().lower()
            if tag in ("script", "link", "img", "iframe", "embed", "object", "source", "audio", "video") and value:
                self.external.append(value)
        if tag == "article" and "sheet" in (a.get("class") or "").split():
            self._in_sheet += 1
        self._stack.append((tag, a))

    def handle_endtag(self, tag):
        while self._stack:
            t, _ = self._stack.pop()
            if t == "article" and self._in_sheet:
                self._in_sheet -= 1
            if t == tag:
                break

    def handle_data(self, data):
        tag = self._stack[-1][0] if self._stack else ""
        if tag == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)
        if tag == "h3" and self._in_sheet:
            self.sheet_titles.append(data.strip())

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture
def reported(sqlite_url, tmp_path):
    file = write_diagnostic(tmp_path / "fos.csv")
    import_and_run(sqlite_url, file, "fos")
    with UnitOfWork(sqlite_url) as uow:
        paths = write_report_set(uow, "fos", tmp_path / "out")
    return paths


def test_report_set_writes_the_four_files(reported):
    assert set(reported) == {"json", "geojson", "xlsx", "html"}
    assert all(p.is_file() and p.stat().st_size > 0 for p in reported.values())
    geo = json.loads(reported["geojson"].read_text(encoding="utf-8"))
    doc = json.loads(reported["json"].read_text(encoding="utf-8"))
    kinds = [f["properties"]["kind"] for f in geo["features"]]
    assert kinds.count("company") == doc["summary"]["companies"]
    assert kinds.count("synergy") == doc["summary"]["synergies"]


def test_html_report_opens_offline_with_figures_and_every_sheet(reported):
    html = reported["html"].read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    assert page.external == [], "the report loads something: it must open with no network"
    assert "<link" not in html.lower()
    assert sum("Plotly.newPlot" in s for s in page.scripts) >= 3  # map, Sankey, chart by type

    doc = json.loads(reported["json"].read_text(encoding="utf-8"))
    plan = [s for s in doc["synergies"] if s["in_plan"]]
    assert plan, "the fixture must yield synergies"
    text = page.plain
    for figure in (
        f"{fr.number(doc['summary']['companies'])} entreprises diagnostiquées",
        f"{fr.number(doc['summary']['flows'])} flux décrits",
        f"{fr.number(len(plan))} synergies retenues",
        f"{fr.smart_number(sum(s['tonnes_diverted'] for s in plan))} t détournées",
        f"{fr.euros(sum(s['savings_eur'] for s in plan))} économisés par an",
        f"{fr.tco2(sum(s['co2_avoided_t'] for s in plan))} évitées par an",
    ):
        assert " ".join(figure.split()) in text, figure
    names = {row[1] for row in ROWS}
    assert sorted(page.sheet_titles) == sorted(names)
    for s in plan:
        assert " ".join(s["explanation"].split()) in text


def test_html_shows_hostile_names_as_text(reported):
    html = reported["html"].read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    assert XSS in page.sheet_titles and FORMULA in page.sheet_titles
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert all(s.strip() != "alert(1)" for s in page.scripts), "a company name became a script"
    assert XSS not in html.replace("\\u003c", "<")  # never raw, not even inside the figures' JSON


def test_confidential_partner_stays_anonymous_on_the_other_sheets(reported):
    doc = json.loads(reported["json"].read_text(encoding="utf-8"))
    pooled = [s for s in doc["synergies"] if s["in_plan"] and {"C", "D"} <= {p["company_id"] for p in s["suppliers"]}]
    assert pooled, "C (confidential) and D should pool their pallets"
    html = reported["html"].read_text(encoding="utf-8")
    sheets = {s.split("</h3>")[0].split("<h3>")[-1]: s for s in html.split('<article class="sheet"')[1:]}
    brasserie = sheets["Brasserie de l&#39;Étang"]
    partners = [part.split("</p>")[0] for part in brasserie.split("Avec :")[1:]]
    assert any("Entreprise commerce — Fos-sur-Mer (13)" in p for p in partners)
    assert not any("HYPERLINK" in p for p in partners)
    assert "HYPERLINK" in sheets["=HYPERLINK(&#34;x&#34;)"]  # its own sheet names it


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_xlsx_neutralises_formulas_and_writes_numbers(reported):
    book = CalamineWorkbook.from_path(str(reported["xlsx"]))
    assert book.sheet_names == ["Synergies", "Entreprises", "Flux", "Tournées", "Indicateurs"]
    companies = book.get_sheet_by_name("Entreprises").to_python()
    header, rows = companies[0], companies[1:]
    assert header[:2] == ["Identifiant", "Nom"]
    names = {r[0]: r[1] for r in rows}
    assert names["B"] == XSS
    assert names["C"] == "'" + FORMULA
    assert names["H"] == "'-Bureau @Conseil"
    xml = _sheet_xml(reported["xlsx"])
    assert "<f>" not in xml and "<f " not in xml

    flows = book.get_sheet_by_name("Flux").to_python()
    labels = [r[flows[0].index("Libellé")] for r in flows[1:]]
    assert "'+cartons" in labels

    syn = book.get_sheet_by_name("Synergies").to_python()
    head = syn[0]
    doc = json.loads(reported["json"].read_text(encoding="utf-8"))
    assert len(syn) - 1 == len(doc["synergies"])
    for col in ("Rang", "Quantité (par an)", "Distance (km)", "Économies (€/an)", "CO₂e évité (t/an)", "Score"):
        values = [r[head.index(col)] for r in syn[1:]]
        assert all(isinstance(v, float) for v in values), col
    by_id = {r[head.index("Identifiant")]: r for r in syn[1:]}
    for s in doc["synergies"]:
        assert by_id[s["id"]][head.index("Économies (€/an)")] == pytest.approx(s["savings_eur"])

    rounds = book.get_sheet_by_name("Tournées").to_python()
    mutual = [s for s in doc["synergies"] if s["type"] == "mutualisation" and len(s["route"]) >= 2]
    assert len(rounds) - 1 == sum(len(s["route"]) for s in mutual)
    if mutual:
        order = [r[rounds[0].index("Ordre")] for r in rounds[1:] if r[0] == mutual[0]["id"]]
        assert order == [float(i) for i in range(1, len(mutual[0]["route"]) + 1)]


def test_report_cli_all_writes_one_folder_per_territory_and_an_index(sqlite_url, tmp_path):
    first = write_diagnostic(tmp_path / "a.csv")
    second = write_diagnostic(tmp_path / "b.csv", ROWS[:3])
    import_and_run(sqlite_url, first, "parc-nord")
    import_and_run(sqlite_url, second, "parc-sud")
    with UnitOfWork(sqlite_url) as uow:
        assert not import_diagnostic(uow, second, territory="parc-neuf").errors  # imported, never matched
    out = tmp_path / "batch"
    res = CliRunner().invoke(app, ["report", "--all", "--out", str(out), "--db", sqlite_url])
    assert res.exit_code == 0, res.output
    for code in ("parc-nord", "parc-sud"):
        assert sorted(p.name for p in (out / code).iterdir()) == sorted(FILES.values())
    assert not (out / "parc-neuf").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    page = Page()
    page.feed(index)
    assert page.external == []
    assert 'href="parc-nord/rapport.html"' in index and 'href="parc-sud/rapport.html"' in index
    assert "symbiose match --territory parc-neuf" in page.plain


def test_report_cli_file_mode_and_exit_codes(sqlite_url, tmp_path):
    runner = CliRunner()
    good = write_diagnostic(tmp_path / "zone.csv")
    res = runner.invoke(app, ["report", str(good), "--out", str(tmp_path / "file-out")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "file-out").iterdir()) == sorted(FILES.values())

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "A;Chimie;out;chemical.acid.hcl;beaucoup;t;43.46;4.86;13270;Fos-sur-Mer;20.13B;non;x\n", encoding="utf-8")
    res = runner.invoke(app, ["report", str(bad), "--out", str(tmp_path / "bad-out")])
    assert res.exit_code == 1
    assert "ligne 2, colonne quantity" in " ".join(res.stderr.split())
    assert not (tmp_path / "bad-out").exists()

    with UnitOfWork(sqlite_url) as uow:
        assert not import_diagnostic(uow, good, territory="sans-run").errors
    for args in (
        ["report", "--out", str(tmp_path / "x")],
        ["report", str(good), "--territory", "sans-run", "--out", str(tmp_path / "x")],
        ["report", "--territory", "inconnu", "--out", str(tmp_path / "x"), "--db", sqlite_url],
        ["report", "--territory", "sans-run", "--out", str(tmp_path / "x"), "--db", sqlite_url],
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
    assert not (tmp_path / "x").exists()


def test_report_shows_groups_to_complete_with_what_they_lack_and_whom_to_ask(sqlite_url, tmp_path):
    rows = [(f"S{i}", f"Atelier {i}", "in", "service.security", "4380", "unit", f"{43.44 + i * 0.002:.4f}", "4.93",
             "25.62A", "non", "gardiennage de nuit") for i in range(3)]
    rows.append(("W", "Entrepôts du Golfe", "out", "metal.ferrous", "5", "t", "43.4430", "4.9320", "52.10B", "non", "ferraille"))
    file = write_diagnostic(tmp_path / "zone.csv", rows)
    import_and_run(sqlite_url, file, "zone")
    with UnitOfWork(sqlite_url) as uow:
        paths = write_report_set(uow, "zone", tmp_path / "out")
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    (lead,) = [s for s in doc["synergies"] if s["kind"] == "to_complete"]
    assert not lead["in_plan"] and lead["details"]["family"] == "security"
    assert doc["summary"]["synergies"] == sum(s["in_plan"] for s in doc["synergies"])  # leads out of the totals
    page = Page()
    page.feed(paths["html"].read_text(encoding="utf-8"))
    text = page.plain
    missing = lead["details"]["missing_companies"]
    assert "Groupes à compléter (1)" in text
    assert f"{missing} entreprises de plus" in text
    assert "Entrepôts du Golfe" in text.split("Groupes à compléter")[1]  # the warehouse next door, to approach
