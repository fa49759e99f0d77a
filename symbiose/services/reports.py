"""Report sets of a territory's latest run: synergy JSON, GeoJSON, XLSX, HTML."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from symbiose.services.territories import get_territory, latest_done_run_id
from symbiose.store import UnitOfWork
from symbiose.store.orm import RunRow, SynergyRow


def latest_synergy_document(uow: UnitOfWork, territory: str) -> dict:
    """The synergy JSON (``synergy-output.md``) of the territory's latest finished run."""
    t = get_territory(uow, territory)
    run_id = latest_done_run_id(uow, t.id)
    if run_id is None:
        raise LookupError(f"territory {territory!r} has no finished run; run `symbiose match --territory {territory}`")
    run = uow.session.get(RunRow, run_id)
    rows = uow.session.scalars(select(SynergyRow).where(SynergyRow.run_id == run_id).order_by(SynergyRow.rank)).all()
    return {**run.result, "synergies": [r.payload for r in rows]}


def write_report_set(uow: UnitOfWork, territory: str, out_dir: Path) -> dict[str, Path]:
    """Write the report files of a territory into ``out_dir``; returns kind → path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = latest_synergy_document(uow, territory)
    paths = {"json": out_dir / "synergies.json"}
    paths["json"].write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return paths
