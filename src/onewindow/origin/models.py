"""Certificates of origin on record at this node, and their use against declarations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.db import Base, UTCDateTime


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
    source: Mapped[str] = mapped_column(String(20))  # recorded by hand | exchange
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
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
