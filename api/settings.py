"""Settings, read from the environment (prefix ``GRIDGOV_``) once per process."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
DEV_CONTACT_KEY = "ZGV2LW9ubHktY29udGFjdC1rZXktMDEyMzQ1Njc4OWE="  # urlsafe base64 of 32 bytes (Fernet)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    home: Path = PROJECT_ROOT
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "GRIDGOV_DATABASE_URL")
    )
    pg_port: int = 54329
    pg_database: str = "gridgov"
    pg_user: str = "gridgov"

    host: str = "127.0.0.1"
    port: int = 8000

    secret_key: str = DEV_SECRET
    contact_key: str = DEV_CONTACT_KEY
    access_token_minutes: int = 15
    refresh_token_days: int = 7

    # routing
    boundary_tolerance_m: float = 20.0
    stale_position_s: int = 1800
    units_per_department: int = 3

    # limits
    max_body_bytes: int = 1_000_000
    page_limit_max: int = 1000
    public_rate_per_minute: int = 60
    cors_origins: list[str] = []
    basemap_url: str | None = None  # e.g. a local tile server; none by default (offline)
    basemap_attribution: str = ""

    @property
    def data_dir(self) -> Path:
        return self.home / ".gridgov"

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of the database the app uses."""
        if self.database_url:
            return normalise_url(self.database_url)
        return (
            f"postgresql+psycopg://{self.pg_user}@/{self.pg_database}"
            f"?host={self.pg_dir}&port={self.pg_port}"
        )

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> "Settings":
        if self.env == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("GRIDGOV_SECRET_KEY must be set to a random string of 32+ characters in production")
            if self.contact_key == DEV_CONTACT_KEY:
                raise ValueError("GRIDGOV_CONTACT_KEY must be set (Fernet key) in production")
        return self


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pin the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL without the SQLAlchemy driver suffix, for psycopg/libpq."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


@functools.lru_cache
def get_settings() -> Settings:
    return Settings()
