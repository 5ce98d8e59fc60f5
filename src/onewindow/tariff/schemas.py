"""Pydantic I/O for the tariff schedule."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from onewindow.kit.fields import Country


class TariffLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    description: str
    unit: str
    mfn_rate: Decimal
    atiga_rate: Decimal | None
    vat_rate: Decimal
    valid_from: date
    valid_to: date | None


class PublishRequest(BaseModel):
    """What to publish: the schedule in force from `effective` (today if left out), to the
    partners in `to` (every active partner if left out)."""

    model_config = ConfigDict(extra="forbid")
    effective: date | None = None
    to: list[Country] | None = Field(None, max_length=50)


class PublicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    effective_date: date
    published_at: datetime
    currency: str
    line_count: int
    rate_count: int
    size: int
    document_sha256: str
    receivers: list[str]

    @field_validator("receivers", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split(",") if isinstance(value, str) else value


class PartnerScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    country: str
    version: int
    effective_date: date
    issued_at: datetime
    received_at: datetime
    currency: str
    line_count: int
    rate_count: int
    message_id: str
