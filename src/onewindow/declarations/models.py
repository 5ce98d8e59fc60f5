"""Declarations, their items and tax lines, officers' controls, and number sequences."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.kit.db import Base, UTCDateTime

MONEY = Numeric(20, 2)
QTY = Numeric(18, 3)


class Declaration(Base):
    __tablename__ = "declarations"
    __table_args__ = (
        # The officers' queue, oldest first, for all offices or one: each status's rows are
        # read in order and the scan stops at the page's end. Their leading column serves
        # every look-up by status.
        Index("ix_declarations_status_lodged_at", "status", "lodged_at", "id"),
        Index("ix_declarations_status_office_lodged_at", "status", "office", "lodged_at", "id"),
        # One office's declarations of a day (the analysts' roll-up); it serves every look-up
        # by office too.
        Index("ix_declarations_office_lodged_at", "office", "lodged_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    type: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10), index=True)
    office: Mapped[str] = mapped_column(String(5))
    declarant_id: Mapped[str] = mapped_column(String(35), index=True)
    importer_id: Mapped[str | None] = mapped_column(String(35), index=True)
    importer_name: Mapped[str] = mapped_column(String(200))
    exporter_name: Mapped[str] = mapped_column(String(200))
    country_of_export: Mapped[str] = mapped_column(String(2))
    country_of_destination: Mapped[str | None] = mapped_column(String(2))
    goods_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    national_currency: Mapped[str] = mapped_column(String(3))
    total_value: Mapped[Decimal] = mapped_column(MONEY)
    total_duty: Mapped[Decimal] = mapped_column(MONEY)
    total_vat: Mapped[Decimal] = mapped_column(MONEY)
    total_due: Mapped[Decimal] = mapped_column(MONEY)
    risk_score: Mapped[float | None] = mapped_column(Float)
    risk_reasons: Mapped[list[str]] = mapped_column(JSON)
    random_pick: Mapped[bool] = mapped_column(Boolean, default=False)
    # The document as lodged (or last amended): the source for amendments and exchanges.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    payment_method: Mapped[str | None] = mapped_column(String(10))
    payment_reference: Mapped[str | None] = mapped_column(String(60))
    pre_arrival: Mapped[str | None] = mapped_column(String(45))  # the matched ACDD, if any
    lodged_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[DeclarationItem]] = relationship(
        order_by="DeclarationItem.seq", lazy="selectin", cascade="all, delete-orphan"
    )
    taxes: Mapped[list[TaxLineRow]] = relationship(
        order_by="TaxLineRow.id", lazy="selectin", cascade="all, delete-orphan"
    )
    controls: Mapped[list[Control]] = relationship(order_by="Control.id", lazy="selectin")


class DeclarationItem(Base):
    __tablename__ = "declaration_items"
    __table_args__ = (UniqueConstraint("declaration_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Indexed by the unique (declaration_id, seq), whose leading column it is.
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    hs_code: Mapped[str] = mapped_column(String(8), index=True)
    description: Mapped[str] = mapped_column(String(500))
    origin: Mapped[str] = mapped_column(String(2))
    quantity: Mapped[Decimal] = mapped_column(QTY)
    unit: Mapped[str] = mapped_column(String(3))
    net_mass_kg: Mapped[Decimal] = mapped_column(QTY)
    gross_mass_kg: Mapped[Decimal] = mapped_column(QTY)
    customs_value: Mapped[Decimal] = mapped_column(MONEY)
    value_national: Mapped[Decimal] = mapped_column(MONEY)
    preference_certificate: Mapped[str | None] = mapped_column(String(40), index=True)
    preference_granted: Mapped[bool | None] = mapped_column(Boolean)
    preference_reason: Mapped[str | None] = mapped_column(String(300))
    certificate_item_id: Mapped[int | None] = mapped_column(Integer)


class TaxLineRow(Base):
    __tablename__ = "declaration_taxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), index=True)
    item_seq: Mapped[int] = mapped_column(Integer)
    tax: Mapped[str] = mapped_column(String(20))
    base: Mapped[Decimal] = mapped_column(MONEY)
    rate: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    rate_kind: Mapped[str] = mapped_column(String(10))


class Control(Base):
    """A document check or physical inspection; inspection results are the risk labels."""

    __tablename__ = "declaration_controls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # document_check | inspection
    officer: Mapped[str] = mapped_column(String(60))
    result: Mapped[str] = mapped_column(String(20))  # accept | inspect | compliant | irregularity
    note: Mapped[str | None] = mapped_column(String(1000))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AmendmentRequest(Base):
    """A trader's request to amend a declaration an officer has acted on: the whole amended
    document and why; an officer accepts (the amendment is applied) or refuses it."""

    __tablename__ = "declaration_amendment_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # of the declaration when the request was filed
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))  # pending | accepted | refused
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(1000))


class NumberSequence(Base):
    __tablename__ = "declaration_sequences"

    office: Mapped[str] = mapped_column(String(5), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class PreArrival(Base):
    """An ACDD received from the exporting country: export data that arrives before the goods,
    for risk assessment and to match the import declaration when it is lodged."""

    __tablename__ = "pre_arrivals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    export_declaration: Mapped[str] = mapped_column(String(40))
    export_country: Mapped[str] = mapped_column(String(2))
    exporter_id: Mapped[str] = mapped_column(String(35))
    exporter_name: Mapped[str] = mapped_column(String(200))
    consignee_name: Mapped[str] = mapped_column(String(200), index=True)
    departure_date: Mapped[date] = mapped_column(Date)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # received | matched | cancelled
    import_declaration: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("export_country", "export_declaration"),)


class DayFigure(Base):
    """One figure of the declarations lodged at one office on one day that is over, kept so
    that the dashboards read a few rows a day rather than every declaration (see
    declarations.statistics). `figure` says what `key`, `sub` and the numbers mean:

    - lane: key the lane; `count` declarations lodged.
    - hits-lane, hits-source: key the lane, or what targeted the declarations (a rule
      profile, a model version, the random pick); `count` controlled, `hits` irregular.
    - revenue: key the tax, sub the HS chapter; `amount` assessed (paid or released ones).
    - clearance: key the lane; `count` released, `amount` their seconds from lodging to
      release in total, `buckets` how many took how long ({bucket: declarations}).
    """

    __tablename__ = "declaration_day_figures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    office: Mapped[str] = mapped_column(String(5), primary_key=True)
    figure: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    sub: Mapped[str] = mapped_column(String(20), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(MONEY, default=0)
    buckets: Mapped[dict[str, int] | None] = mapped_column(JSON)


class RolledDay(Base):
    """A day whose figures are kept in declaration_day_figures and up to date."""

    __tablename__ = "declaration_rolled_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


class RollUp(Base):
    """The one row that says up to which audit event the kept figures have been checked; its
    lock makes one request at a time bring them up to date."""

    __tablename__ = "declaration_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_event: Mapped[int] = mapped_column(Integer, default=0)
