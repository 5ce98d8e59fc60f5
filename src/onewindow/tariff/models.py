"""The national tariff schedule and official exchange rates, each by validity date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base

RATE = Numeric(9, 4)


class TariffLine(Base):
    __tablename__ = "tariff_lines"
    __table_args__ = (UniqueConstraint("code", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), index=True)
    description: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(3))
    mfn_rate: Mapped[Decimal] = mapped_column(RATE)
    atiga_rate: Mapped[Decimal | None] = mapped_column(RATE)
    vat_rate: Mapped[Decimal] = mapped_column(RATE)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class ExchangeRate(Base):
    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("currency", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), index=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    valid_from: Mapped[date] = mapped_column(Date)
