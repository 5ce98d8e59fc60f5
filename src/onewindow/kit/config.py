"""Node settings, read from `ONEWINDOW_*` environment variables (and an optional config file)."""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

import pycountry
from pydantic import BaseModel, Field, ValidationError, create_model, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SettingsSourceError

from onewindow.kit import domain
from onewindow.kit.errors import ConfigurationError, InvalidSetting
from onewindow.kit.money import is_currency

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
    host: str = Field("127.0.0.1", min_length=1)
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(5_000_000, ge=1)
    # How long a new API token is valid (`onewindow user add`, `user token rotate`).
    token_days: int = Field(30, ge=1, le=366, description="Days a new API token is valid")
    # Federation: this node's Ed25519 key and certificate, the federation CA, the partners.
    key_file: Path = Field(default_factory=lambda: ROOT / "var" / "keys" / "node-ed25519.pem")
    cert_file: Path | None = None
    ca_file: Path | None = None
    partners: dict[str, PartnerConfig] = Field(default_factory=dict)
    # Mutual TLS between nodes (onewindow.kit.tls): this node's TLS key and certificate, issued by
    # the federation CA. Without them the node serves and talks plain HTTP, to loopback only
    # unless allow_plain_http.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    allow_plain_http: bool = False
    config_file: Path | None = Field(None, description="The JSON file these settings came from")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.upper()
        if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
            raise ValueError(
                f"{value!r} is not an ISO 3166 alpha-2 country code (such as VN, TH, SG)"
            )
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.upper()
        if not is_currency(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (such as VND, THB)")
        return value

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme == "sqlite":
            _check_sqlite_path(value)
            return value
        # Plain postgresql:// would pick psycopg2, which is not installed.
        if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        raise ValueError(
            f"{_without_password(value)!r} is not supported: use sqlite:///PATH "
            "or postgresql://USER@HOST/DATABASE"
        )


S = TypeVar("S", bound="Section")


class Section(BaseModel):
    """A domain's own settings (its descriptor's `settings`): flat fields, read from the same
    ONEWINDOW_* variables and node.json as the node's, so a node's settings are one list."""

    @classmethod
    def of(cls: type[S], settings: Settings) -> S:
        """This section of the node's settings."""
        if not isinstance(settings, cls):
            raise ConfigurationError(
                f"the node's settings have no {cls.__name__}: is its domain installed?"
            )
        return settings


@lru_cache
def _composed(sections: tuple[type[Section], ...]) -> type[Settings]:
    if not sections:
        return Settings
    # The sections first: their validators run, and their fields are the node's too.
    bases: tuple[type[BaseModel], ...] = (*sections, Settings)
    composed: Any = create_model("NodeSettings", __base__=bases)
    return cast(type[Settings], composed)


def settings_class() -> type[Settings]:
    """The node's settings: the kit's and each installed domain's section."""
    sections = tuple(domain.load(d.settings) for d in domain.installed() if d.settings)
    return _composed(sections)


def _without_password(url: str) -> str:
    """A URL as it may be shown in an error: no password."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"
    return url


def _check_sqlite_path(url: str) -> None:
    """The database file must be creatable: found here, the error names the setting instead
    of surfacing as a traceback from deep inside the first command that opens the database.
    Only looks: the directories are created when the database is opened."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    target = Path(path)
    if target.exists():
        if not target.is_file() or not os.access(target, os.R_OK | os.W_OK):
            raise ValueError(f"{path} is not a database file this node can write")
        return
    ancestor = target.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise ValueError(f"cannot create {path}: {ancestor} is not a writable directory")


def _one_line(exc: ValidationError, source: str) -> str:
    """Pydantic's errors as one line naming each setting, as the user spells it."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if not field:  # a rule across settings (the model validator) names them itself
            if source == "env":
                for name in settings_class().model_fields:
                    message = re.sub(rf"\b{name}\b", f"ONEWINDOW_{name.upper()}", message)
            parts.append(message)
            continue
        name = f"ONEWINDOW_{field.split('.')[0].upper()}" if source == "env" else field
        message = message.replace("Input should be", "must be", 1)
        given = error.get("input")
        shown = (
            f" (got {given!r})"
            if isinstance(given, str | int | float | Decimal)
            and str(given) not in message
            and field != "database_url"  # may hold a password
            else ""
        )
        parts.append(f"{name}: {message}{shown}")
    prefix = "" if source == "env" else f"{source}: "
    return prefix + "; ".join(parts)


def load(config_file: Path) -> Settings:
    """Settings from a node's JSON file (`onewindow federation init` writes them); relative
    paths in it are relative to the file. Values in the file win over the environment."""
    try:
        raw = json.loads(config_file.read_text())
    except OSError as exc:
        raise InvalidSetting(
            f"ONEWINDOW_CONFIG: cannot read {config_file}: {exc.strerror}; "
            "give the node.json that `onewindow federation init` wrote"
        ) from exc
    except ValueError as exc:
        raise InvalidSetting(f"ONEWINDOW_CONFIG: {config_file} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidSetting(f"ONEWINDOW_CONFIG: {config_file} must hold a JSON object")
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
    partners = raw.get("partners", {})
    if isinstance(partners, dict):
        for partner in partners.values():
            if isinstance(partner, dict) and isinstance(partner.get("certificates"), list):
                partner["certificates"] = [resolve(str(c)) for c in partner["certificates"]]
    try:
        return settings_class()(**raw, config_file=config_file.resolve())
    except ValidationError as exc:
        raise InvalidSetting(_one_line(exc, str(config_file))) from exc
    except SettingsSourceError as exc:
        raise _not_json(exc) from exc


@lru_cache
def get_settings() -> Settings:
    """The node's settings: from ONEWINDOW_CONFIG (a JSON file) if set, else the environment.
    InvalidSetting, naming the setting and what it allows, if one is wrong."""
    path = os.environ.get("ONEWINDOW_CONFIG")
    if path:
        return load(Path(path))
    try:
        return settings_class()()
    except ValidationError as exc:
        raise InvalidSetting(_one_line(exc, "env")) from exc
    except SettingsSourceError as exc:
        raise _not_json(exc) from exc


def _not_json(exc: SettingsSourceError) -> InvalidSetting:
    """A variable that should hold JSON (ONEWINDOW_PARTNERS) does not."""
    found = re.search(r'field "?(\w+)', str(exc))
    name = f"ONEWINDOW_{found.group(1).upper()}" if found else "a ONEWINDOW_* variable"
    return InvalidSetting(f"{name}: not valid JSON (a JSON object is expected)")
