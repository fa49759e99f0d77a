"""Bulk inserts of new rows: ``COPY`` on PostgreSQL (psycopg 3), one DB-API ``executemany``
on SQLite (values through the columns' own SQLAlchemy bind processors), a Core ``insert()``
elsewhere. All run in the session's transaction, so a failed
import still writes nothing. Column defaults of the ORM (``created_at``…) are filled in
here, as ``COPY`` does not run them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from symbiose.store.versioning import touch_territories


def _defaults(table: Any, columns: Sequence[str]) -> dict[str, Any]:
    """Python-side defaults of the table's columns missing from ``columns`` (primary key aside)."""
    out = {}
    for col in table.columns:
        if col.name in columns or col.primary_key or col.default is None:
            continue
        default = col.default
        out[col.name] = default.arg(None) if default.is_callable else default.arg
    return out


def bulk_insert(session: Session, model: type, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts of column values, same keys) into ``model``'s table; returns how many.

    A uniqueness conflict raises SQLAlchemy's :class:`~sqlalchemy.exc.IntegrityError`, as an ORM
    write would (the import retries on it); the territories written to get their data version
    bumped (:mod:`symbiose.store.versioning`), as the ORM's flush hook does."""
    if not rows:
        return 0
    dbapi_module = session.get_bind().dialect.dbapi
    try:
        count = _insert(session, model, rows)
    except dbapi_module.IntegrityError as exc:  # the raw driver's error, as SQLAlchemy would wrap it
        raise IntegrityError(f"bulk insert into {model.__tablename__}", None, exc) from exc  # type: ignore[attr-defined]
    if "territory_id" in rows[0]:
        touch_territories(session, {r["territory_id"] for r in rows})
    return count


def _insert(session: Session, model: type, rows: Sequence[dict[str, Any]]) -> int:
    table = model.__table__  # type: ignore[attr-defined]
    columns = list(rows[0])
    fill = _defaults(table, columns)
    dialect = session.get_bind().dialect
    names = columns + list(fill)
    if dialect.name == "sqlite":
        cols = [table.columns[n] for n in names]
        procs = [c.type.bind_processor(dialect) for c in cols]
        sql = f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) ' \
              f'VALUES ({", ".join("?" for _ in names)})'
        const = [fill[n] for n in fill]

        def values(r: dict[str, Any]) -> tuple[Any, ...]:
            raw = [r[n] for n in columns] + const
            return tuple(v if p is None or v is None else p(v) for p, v in zip(procs, raw, strict=True))

        dbapi = session.connection().connection.driver_connection  # sqlite3, in this transaction
        dbapi.executemany(sql, (values(r) for r in rows))
        return len(rows)
    if dialect.name != "postgresql":
        session.execute(insert(table), [{**fill, **r} for r in rows])
        return len(rows)
    is_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
    dbapi = session.connection().connection.driver_connection  # psycopg 3, in this transaction
    quoted = ", ".join(f'"{n}"' for n in names)
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for r in rows:
            values = [r[n] for n in columns] + [fill[n] for n in fill]
            copy.write_row([
                json.dumps(v, ensure_ascii=False) if n in is_json and v is not None else v
                for n, v in zip(names, values, strict=True)
            ])
    return len(rows)
