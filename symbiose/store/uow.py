"""Unit of work: one SQLAlchemy session, rolled back unless committed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from symbiose.settings import get_settings
from symbiose.store.db import get_engine


class UnitOfWork:
    """``with UnitOfWork(url) as uow: ...; uow.commit()`` — anything not committed is rolled back."""

    def __init__(self, url: str | None = None):
        self.url = url or get_settings().resolved_database_url()
        self.session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        self.session = Session(get_engine(self.url), expire_on_commit=False)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.session is not None
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    def rollback(self) -> None:
        assert self.session is not None
        self.session.rollback()
