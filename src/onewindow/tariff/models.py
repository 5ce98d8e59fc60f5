"""The national tariff schedule and official exchange rates, each by validity date; the
versions of them this node published, and those its partners published to it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base, UTCDateTime

RATE = Numeric(9, 4)
EXCHANGE_RATE = Numeric(18, 6)


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
    rate: Mapped[Decimal] = mapped_column(EXCHANGE_RATE)
    valid_from: Mapped[date] = mapped_column(Date)


class Publication(Base):
    """A version of this node's schedule and rates, as sent to its partners."""

    __tablename__ = "tariff_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    effective_date: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    line_count: Mapped[int] = mapped_column(Integer)
    rate_count: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)  # bytes of the document
    document_sha256: Mapped[str] = mapped_column(String(64))
    receivers: Mapped[str] = mapped_column(String(400))  # countries, comma-separated


class PartnerSchedule(Base):
    """A version of a partner's schedule and rates, received from it and signed by it. In
    force from its effective date until a higher version's effective date."""

    __tablename__ = "tariff_partner_versions"
    __table_args__ = (
        UniqueConstraint("country", "version"),
        Index("ix_tariff_partner_versions_country_effective", "country", "effective_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    version: Mapped[int] = mapped_column(Integer)
    effective_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    line_count: Mapped[int] = mapped_column(Integer)
    rate_count: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(36))


class PartnerLine(Base):
    __tablename__ = "tariff_partner_lines"

    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("tariff_partner_versions.id"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    unit: Mapped[str] = mapped_column(String(3))
    mfn_rate: Mapped[Decimal] = mapped_column(RATE)
    atiga_rate: Mapped[Decimal | None] = mapped_column(RATE)
    vat_rate: Mapped[Decimal] = mapped_column(RATE)


class PartnerRate(Base):
    """A partner's official rate: its national currency per unit of `currency`."""

    __tablename__ = "tariff_partner_rates"

    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("tariff_partner_versions.id"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(EXCHANGE_RATE)
