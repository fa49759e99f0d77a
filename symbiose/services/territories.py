"""Territories (tenants): creation, lookup and listing with counts."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from symbiose.store import UnitOfWork
from symbiose.store.orm import CompanyRow, FlowRow, RunRow, SynergyRow, TerritoryRow

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class TerritoryNotFound(LookupError):
    pass


def check_code(code: str) -> str:
    """A territory code: lower-case letters, digits, ``-`` and ``_``, at most 64."""
    if not CODE_PATTERN.fullmatch(code or ""):
        raise ValueError(f"code de territoire invalide : {code!r} ; attendu des lettres minuscules sans accent, "
                         "des chiffres, « - » ou « _ » (64 au plus), ex. zi-nord")
    return code


def get_territory(uow: UnitOfWork, code: str) -> TerritoryRow:
    row = uow.session.scalar(select(TerritoryRow).where(TerritoryRow.code == code))
    if row is None:
        raise TerritoryNotFound(code)
    return row


def ensure_territory(uow: UnitOfWork, code: str, name: str | None = None) -> TerritoryRow:
    """The territory ``code``, created (not committed) when new."""
    check_code(code)
    row = uow.session.scalar(select(TerritoryRow).where(TerritoryRow.code == code))
    if row is None:
        row = TerritoryRow(code=code, name=name or code)
        uow.session.add(row)
        uow.session.flush()
    return row


class TerritoryExists(ValueError):
    """A territory with this code exists already."""


def create_territory(uow: UnitOfWork, code: str, name: str) -> TerritoryRow:
    """A new territory with a real name (committed); :class:`TerritoryExists` if the code is taken."""
    check_code(code)
    if uow.session.scalar(select(TerritoryRow.id).where(TerritoryRow.code == code)) is not None:
        raise TerritoryExists(code)
    row = ensure_territory(uow, code, _name(name, code))
    uow.commit()
    return row


def rename_territory(uow: UnitOfWork, code: str, name: str) -> TerritoryRow:
    """Give the territory ``code`` a new name (committed); :class:`TerritoryNotFound` if it does not exist."""
    row = get_territory(uow, code)
    row.name = _name(name, code)
    uow.commit()
    return row


def name_if_unnamed(uow: UnitOfWork, code: str, name: str | None = None) -> str | None:
    """Give a territory still named by its code a real name: ``name`` when given, else one derived from
    the commune most of its companies are in (``Fos-sur-Mer et alentours``). Committed; returns the new
    name, or ``None`` when the territory already had a real name (or has no commune to name it after)."""
    row = get_territory(uow, code)
    if row.name != row.code:
        return None
    if not name:
        cities = uow.session.execute(
            select(CompanyRow.city, func.count()).where(CompanyRow.territory_id == row.id, CompanyRow.city.is_not(None),
                                                        CompanyRow.city != "")
            .group_by(CompanyRow.city).order_by(func.count().desc(), CompanyRow.city).limit(1)
        ).first()
        if cities is None:
            return None
        name = f"{cities[0]} et alentours"
    row.name = _name(name, code)
    uow.commit()
    return row.name


def _name(name: str, code: str) -> str:
    text = " ".join(str(name or "").split())
    if not text or len(text) > 256 or "\x00" in text:
        raise ValueError(f"nom de territoire invalide pour {code!r} : de 1 à 256 caractères attendus")
    return text


def latest_done_run_id(uow: UnitOfWork, territory_id: int) -> int | None:
    return uow.session.scalar(
        select(RunRow.id)
        .where(RunRow.territory_id == territory_id, RunRow.status == "done")
        .order_by(RunRow.id.desc())
        .limit(1)
    )


def territory_counts(uow: UnitOfWork, row: TerritoryRow) -> dict[str, Any]:
    s = uow.session
    companies = s.scalar(select(func.count()).select_from(CompanyRow).where(CompanyRow.territory_id == row.id))
    flows = s.scalar(select(func.count()).select_from(FlowRow).where(FlowRow.territory_id == row.id, FlowRow.status == "declared"))
    run_id = latest_done_run_id(uow, row.id)
    synergies = 0
    if run_id is not None:
        synergies = s.scalar(
            select(func.count()).select_from(SynergyRow).where(SynergyRow.run_id == run_id, SynergyRow.in_plan.is_(True))
        )
    return {"code": row.code, "name": row.name, "companies": companies, "flows": flows, "synergies": synergies}


def list_territories(uow: UnitOfWork, codes: set[str] | None = None) -> list[dict[str, Any]]:
    """``[{code, name, companies, flows, synergies}]``, optionally limited to ``codes``."""
    rows = uow.session.scalars(select(TerritoryRow).order_by(TerritoryRow.code)).all()
    return [territory_counts(uow, r) for r in rows if codes is None or r.code in codes]
