"""Storage adapter: SQLAlchemy tables, Alembic migrations, a unit of work."""

from symbiose.store.db import get_engine, migrate
from symbiose.store.uow import UnitOfWork
from symbiose.store import versioning  # noqa: F401  (registers the data-version hook)

__all__ = ["UnitOfWork", "get_engine", "migrate"]
