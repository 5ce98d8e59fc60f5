"""Pydantic I/O for the tariff schedule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


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
