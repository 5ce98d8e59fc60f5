"""Pydantic I/O for certificates of origin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class CertificateItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_number: int = Field(ge=1, le=999)
    hs_code: str = Field(pattern=r"^\d{6}(\d{2})?$")
    description: str = Field(min_length=1, max_length=500)
    origin_criterion: str = Field(min_length=2, max_length=20)
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=3)
    unit: str = Field(min_length=1, max_length=3)


class CertificateCreate(BaseModel):
    """A certificate of origin recorded by hand (before the exchange delivers real ones)."""

    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=3, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9\-/]+$")
    scheme: str = Field("ATIGA", pattern="^ATIGA$")
    exporting_country: str = Field(pattern="^[A-Z]{2}$")
    importing_country: str = Field(pattern="^[A-Z]{2}$")
    exporter_name: str = Field(min_length=1, max_length=200)
    importer_id: str = Field(min_length=1, max_length=35)
    importer_name: str = Field(min_length=1, max_length=200)
    issue_date: date
    items: list[CertificateItemIn] = Field(min_length=1, max_length=999)


class CertificateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    reference: str
    scheme: str
    exporting_country: str
    importing_country: str
    importer_id: str
    issue_date: date
    valid_until: date
    status: str
    source: str
