"""Database fixtures shared by every test (loaded with ``-p tests.plugins``).

``db_url`` runs a test on a fresh SQLite file and, when
``SYMBIOSE_TEST_DATABASE_URL`` is set, on PostgreSQL too (tables emptied
before each test). Under ``CI=true`` a missing PostgreSQL URL is a failure,
not a skip.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_ENV = "SYMBIOSE_TEST_DATABASE_URL"


def postgres_url_or_skip() -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {PG_ENV} is not set: PostgreSQL tests must run in CI")
    pytest.skip(f"PostgreSQL tests skipped: set {PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test to run them")


@pytest.fixture(scope="session")
def _pg_database() -> str:
    """A private PostgreSQL database for this test session, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(postgres_url_or_skip())
    name = f"symbiose_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    yield url
    from symbiose.store.db import _engine

    _engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    from sqlalchemy import text

    from symbiose.store import get_engine
    from symbiose.store.orm import Base

    engine = get_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'symbiose-test.db'}"


@pytest.fixture
def postgres_url(request) -> str:
    url = request.getfixturevalue("_pg_database")
    _truncate(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """A migrated, empty database: SQLite, then PostgreSQL when available."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")
