"""Pydantic I/O for certificates of origin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from onewindow.kit.fields import (
    CertificateRef,
    Country,
    HsCode,
    PartyId,
    Text20,
    Text200,
    Text500,
    Unit,
)


class CertificateItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_number: int = Field(ge=1, le=999)
    hs_code: HsCode
    description: Text500
    origin_criterion: Annotated[Text20, Field(min_length=2)]
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=3)
    unit: Unit


class CertificateCreate(BaseModel):
    """A certificate of origin recorded by hand (before the exchange delivers real ones)."""

    model_config = ConfigDict(extra="forbid")
    reference: CertificateRef
    scheme: str = Field("ATIGA", pattern="^ATIGA$")
    exporting_country: Country
    importing_country: Country
    exporter_name: Text200
    importer_id: PartyId
    importer_name: Text200
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
