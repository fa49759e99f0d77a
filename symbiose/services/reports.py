"""Report sets: synergy JSON, GeoJSON, XLSX and HTML of a territory's latest
run, of a diagnostic file (no database), or of every territory with an index."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from symbiose.ingest import Progress
from symbiose.report.data import Report, ReportInput, build_report
from symbiose.services.territories import get_territory, latest_done_run_id, list_territories
from symbiose.store import UnitOfWork
from symbiose.store.orm import RunRow, SynergyRow

FILES = {"json": "synergies.json", "geojson": "carte.geojson", "xlsx": "rapport.xlsx", "html": "rapport.html"}
INDEX = "index.html"
_PAGE = 500


class NoFinishedRun(LookupError):
    """The territory has no finished matching run to report on."""


def latest_synergy_document(uow: UnitOfWork, territory: str) -> dict:
    """The synergy JSON (``synergy-output.md``) of the territory's latest finished run."""
    t = get_territory(uow, territory)
    run_id = latest_done_run_id(uow, t.id)
    if run_id is None:
        raise NoFinishedRun(f"territory {territory!r} has no finished run; run `symbiose match --territory {territory}`")
    run = uow.session.get(RunRow, run_id)
    rows = uow.session.scalars(select(SynergyRow).where(SynergyRow.run_id == run_id).order_by(SynergyRow.rank)).all()
    return {**run.result, "synergies": [r.payload for r in rows]}


def territory_report_input(uow: UnitOfWork, territory: str, document: dict | None = None) -> ReportInput:
    """What the report of a stored territory shows: its flows and its latest run's
    synergies with their follow-up status and consents."""
    from symbiose.services.prediagnostic import latest_visits
    from symbiose.services.queries import list_synergies
    from symbiose.services.runs import load_diagnostic

    t = get_territory(uow, territory)
    doc = document if document is not None else latest_synergy_document(uow, territory)
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        chunk = list_synergies(uow, t.code, page=page, size=_PAGE)
        items.extend(chunk.items)
        if len(items) >= chunk.total or not chunk.items:
            break
        page += 1
    return ReportInput(territory=t.code, name=t.name or t.code, document={**doc, "synergies": items},
                       diagnostic=load_diagnostic(uow, t.code), source="données du territoire",
                       visits=latest_visits(uow, t.code))


def file_report_input(path: Path, *, territory: str | None = None, progress: Progress | None = None) -> tuple[ReportInput, dict]:
    """Read and match a diagnostic file without any database; returns the report input
    and the synergy JSON. Raises :class:`~symbiose.services.runs.InputRejected` on blocking errors."""
    from symbiose.matching import match
    from symbiose.report.synergy_json import result_to_dict
    from symbiose.services.imports import read_file
    from symbiose.services.runs import InputRejected

    code = territory or Path(path).stem
    parsed = read_file(Path(path), territory=code)
    if parsed.errors:
        raise InputRejected(parsed.errors)
    result = match(parsed.diagnostic, progress=progress, warnings=parsed.warnings)
    doc = result_to_dict(result)
    data = ReportInput(territory=code, name=f"Diagnostic {Path(path).name}", document=doc,
                       diagnostic=parsed.diagnostic, source=f"fichier {Path(path).name}")
    return data, doc


def write_reports(data: ReportInput, document: dict, out_dir: Path) -> tuple[dict[str, Path], Report]:
    """Write the four report files of ``data`` into ``out_dir``; returns kind → path and the report."""
    from symbiose.report.geojson import territory_geojson
    from symbiose.report.html import write_html_report
    from symbiose.report.xlsx import write_workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(data)
    paths = {kind: out_dir / name for kind, name in FILES.items()}
    paths["json"].write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    geo = territory_geojson(report.companies, report.flows, [{**v.payload, "status": v.status} for v in report.plan])
    paths["geojson"].write_text(json.dumps(geo, ensure_ascii=False) + "\n", encoding="utf-8")
    write_workbook(report, paths["xlsx"])
    write_html_report(report, paths["html"])
    return paths, report


def write_report_set(uow: UnitOfWork, territory: str, out_dir: Path) -> dict[str, Path]:
    """Write the report files of a territory's latest finished run into ``out_dir``; returns kind → path."""
    doc = latest_synergy_document(uow, territory)
    paths, _ = write_reports(territory_report_input(uow, territory, doc), doc, Path(out_dir))
    return paths


def write_file_report_set(path: Path, out_dir: Path, *, territory: str | None = None, progress: Progress | None = None) -> dict[str, Path]:
    """``symbiose report FILE``: the same report files for a diagnostic file, no database."""
    data, doc = file_report_input(path, territory=territory, progress=progress)
    paths, _ = write_reports(data, doc, Path(out_dir))
    return paths


@dataclass
class BatchResult:
    """What ``report --all`` wrote: the index and, per territory, its files or why it has none."""

    index: Path
    written: dict[str, dict[str, Path]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def write_all_report_sets(uow: UnitOfWork, out_dir: Path, *, progress: Callable[[int, int], None] | None = None,
                          now: datetime | None = None) -> BatchResult:
    """One folder per territory (named by its code) and a French ``index.html`` linking them."""
    from symbiose.report.html import write_index

    out_dir = Path(out_dir)
    territories = list_territories(uow)
    entries: list[dict[str, Any]] = []
    written: dict[str, dict[str, Path]] = {}
    skipped: dict[str, str] = {}
    if progress is not None:
        progress(0, len(territories))
    for i, t in enumerate(territories, start=1):
        entry: dict[str, Any] = dict(t)
        try:
            doc = latest_synergy_document(uow, t["code"])
        except NoFinishedRun:
            skipped[t["code"]] = entry["missing"] = "aucune analyse terminée"
        else:
            paths, report = write_reports(territory_report_input(uow, t["code"], doc), doc, out_dir / t["code"])
            written[t["code"]] = paths
            entry.update(totals=report.totals, generated_at=report.generated_at,
                         files={k: p.relative_to(out_dir).as_posix() for k, p in paths.items()})
        entries.append(entry)
        if progress is not None:
            progress(i, len(territories))
    stamp = (now or datetime.now(UTC)).strftime("%d/%m/%Y")
    index = write_index(entries, out_dir / INDEX, generated_at=stamp)
    return BatchResult(index=index, written=written, skipped=skipped)
