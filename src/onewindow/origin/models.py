"""Certificates of origin on record at this node, and their use against declarations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.kit.db import Base, UTCDateTime


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    scheme: Mapped[str] = mapped_column(String(10), default="ATIGA")
    exporting_country: Mapped[str] = mapped_column(String(2))
    importing_country: Mapped[str] = mapped_column(String(2))
    exporter_name: Mapped[str] = mapped_column(String(200))
    importer_id: Mapped[str] = mapped_column(String(35), index=True)
    importer_name: Mapped[str] = mapped_column(String(200))
    issue_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="received")
    source: Mapped[str] = mapped_column(String(20))  # issued here | recorded by hand | exchange
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The Form D as exchanged (boxes 1 to 13), its version, and what became of it.
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status_reason: Mapped[str | None] = mapped_column(String(300))
    replaced_by: Mapped[str | None] = mapped_column(String(40))
    transmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items: Mapped[list[CertificateItem]] = relationship(
        back_populates="certificate", order_by="CertificateItem.item_number", lazy="selectin"
    )


class CertificateItem(Base):
    __tablename__ = "certificate_items"
    __table_args__ = (UniqueConstraint("certificate_id", "item_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    item_number: Mapped[int] = mapped_column(Integer)
    hs_code: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(500))
    origin_criterion: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(3))
    used_quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    certificate: Mapped[Certificate] = relationship(back_populates="items")


class CertificateSequence(Base):
    """Reference numbers of certificates issued here: COUNTRY-YEAR-NNNNNN."""

    __tablename__ = "certificate_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class VerificationRequest(Base):
    """A request by importing customs to verify the origin of a certificate, on both sides."""

    __tablename__ = "origin_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(40), unique=True)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    requesting_country: Mapped[str] = mapped_column(String(2))
    issuer_country: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(
        String(20)
    )  # open | confirmed | partially_confirmed | not_confirmed
    answer: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
