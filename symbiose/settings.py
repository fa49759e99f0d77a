"""Settings from the environment (``SYMBIOSE_*``), read once and cached.

Nothing here runs at import time: call :func:`get_settings`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """An SQLite file in the user's data directory."""
    folder = Path(user_data_dir("symbiose", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'symbiose.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SYMBIOSE_", extra="ignore")

    database_url: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    run_workers: int = 1
    match_time_limit_s: float = 30.0
    cors_origins: list[str] = []
    # failed authentications allowed per client address and minute before 429 (API and sign-in page)
    auth_failures_per_minute: int = 30
    # set behind a TLS-terminating proxy: the pages' cookie then always carries the Secure flag
    cookie_secure: bool = False
    # HMAC key of the opaque aliases shown to portal keys instead of confidential
    # companies' ids; when unset, a random key is made once and kept in the database.
    anonymisation_secret: str | None = None

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
