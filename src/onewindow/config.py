"""Node settings, read from `ONEWINDOW_*` environment variables (and an optional config file)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pycountry
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path.cwd()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEWINDOW_", extra="ignore")

    country: str = Field("VN", description="ISO 3166 alpha-2 code of this node's member state")
    currency: str = Field("VND", description="National currency (ISO 4217)")
    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{ROOT / 'var' / 'onewindow.db'}",
        description="SQLAlchemy URL; SQLite by default, postgresql+psycopg:// in production",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    # Selectivity: share of declarations sent to each control lane, and the share of
    # inspections that are picked at random (exploration keeps the risk model honest).
    red_target: Decimal = Decimal("0.05")
    yellow_target: Decimal = Decimal("0.15")
    random_share: Decimal = Decimal("0.10")
    max_body_bytes: int = 5_000_000
    max_items: int = 999

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.upper()
        if pycountry.countries.get(alpha_2=value) is None:
            raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code")
        return value

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        # Plain postgresql:// would pick psycopg2, which is not installed.
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
