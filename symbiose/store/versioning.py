"""A data version per territory, bumped by every write to its companies or flows.

Whatever is cached from a territory's data (the portal's redaction, rendered
listings, the map) keys on ``territories.data_version``: a write through the
ORM bumps it in the same transaction (a ``before_flush`` hook), and a bulk
write that bypasses the ORM calls :func:`touch_territories` itself. So no
cache outlives the data it was made from, whichever door the write came in by
(an import naming another territory, an edit in the pages, the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from symbiose.store.orm import CompanyRow, FlowRow, TerritoryRow


def touch_territories(session: Session, territory_ids: Iterable[int]) -> None:
    """Bump the data version of ``territory_ids`` (in the session's transaction)."""
    for tid in sorted({t for t in territory_ids if t is not None}):
        session.execute(
            update(TerritoryRow).where(TerritoryRow.id == tid).values(data_version=TerritoryRow.data_version + 1)
            .execution_options(synchronize_session=False)
        )


def data_version(session: Session, territory_id: int) -> int:
    """The territory's current data version."""
    return session.scalar(select(TerritoryRow.data_version).where(TerritoryRow.id == territory_id)) or 0


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _context: Any, _instances: Any) -> None:
    touched = set()
    for obj in chain(session.new, session.deleted):
        if isinstance(obj, (CompanyRow, FlowRow)):
            touched.add(obj.territory_id)
    for obj in session.dirty:
        if isinstance(obj, (CompanyRow, FlowRow)) and session.is_modified(obj, include_collections=False):
            touched.add(obj.territory_id)
    if touched:
        touch_territories(session, touched)
