"""Node settings, read from `ONEWINDOW_*` environment variables (and an optional config file)."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pycountry
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onewindow.errors import ConfigurationError

ROOT = Path.cwd()


class PartnerConfig(BaseModel):
    """A partner node: where its gateway listens and the certificates it signs with."""

    endpoint: str
    certificates: list[Path] = Field(default_factory=list)


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
    # How long a new API token is valid (`onewindow user add`, `user token rotate`).
    token_days: int = Field(30, ge=1, le=366, description="Days a new API token is valid")
    # Federation: this node's Ed25519 key and certificate, the federation CA, the partners.
    key_file: Path = Field(default_factory=lambda: ROOT / "var" / "keys" / "node-ed25519.pem")
    cert_file: Path | None = None
    ca_file: Path | None = None
    partners: dict[str, PartnerConfig] = Field(default_factory=dict)
    # Mutual TLS between nodes (onewindow.tls): this node's TLS key and certificate, issued by
    # the federation CA. Without them the node serves and talks plain HTTP, to loopback only
    # unless allow_plain_http.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    allow_plain_http: bool = False
    config_file: Path | None = Field(None, description="The JSON file these settings came from")
    # Box 12 of the Form D certificates this node issues.
    issuing_authority: str = "Issuing authority for certificates of origin"
    issuing_place: str = "-"

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


def load(config_file: Path) -> Settings:
    """Settings from a node's JSON file (`onewindow federation init` writes them); relative
    paths in it are relative to the file. Values in the file win over the environment."""
    try:
        raw = json.loads(config_file.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read node configuration {config_file}: {exc}") from exc
    base = config_file.resolve().parent

    def resolve(value: str) -> str:
        return str((base / value).resolve())

    for key in ("key_file", "cert_file", "ca_file", "tls_cert_file", "tls_key_file"):
        if raw.get(key):
            raw[key] = resolve(raw[key])
    if str(raw.get("database_url", "")).startswith("sqlite:///") and not raw[
        "database_url"
    ].startswith("sqlite:////"):
        raw["database_url"] = "sqlite:///" + resolve(raw["database_url"][len("sqlite:///") :])
    for partner in raw.get("partners", {}).values():
        partner["certificates"] = [resolve(c) for c in partner.get("certificates", [])]
    try:
        return Settings(**raw, config_file=config_file.resolve())
    except ValidationError as exc:
        raise ConfigurationError(f"{config_file}: {exc}") from exc


@lru_cache
def get_settings() -> Settings:
    """The node's settings: from ONEWINDOW_CONFIG (a JSON file) if set, else the environment."""
    path = os.environ.get("ONEWINDOW_CONFIG")
    return load(Path(path)) if path else Settings()
