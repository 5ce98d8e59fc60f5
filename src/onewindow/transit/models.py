"""Transit movements under ACTS, the guarantees that cover them, and what each reserves."""

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
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base, UTCDateTime

MONEY = Numeric(20, 2)


class Trader(Base):
    """A trader registered here for ACTS (the holder of the procedure), with the
    authorisations this node gave it: authorised consignor (movements start at its premises,
    released without presenting the goods at the office when no control is selected) and
    authorised consignee (movements end at its premises: it notifies their arrival and gives
    the unloading remarks)."""

    __tablename__ = "transit_traders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    party_id: Mapped[str] = mapped_column(String(35), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # registered | suspended
    consignor: Mapped[bool] = mapped_column(Boolean, default=False)
    consignee: Mapped[bool] = mapped_column(Boolean, default=False)
    # The authorised locations of goods: [{"code": ..., "address": ...}]
    premises: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120))


class Guarantee(Base):
    """A guarantee lodged at this node's office of guarantee for a holder of the transit
    procedure: comprehensive (a reference amount that movements draw on and give back) or
    individual (one movement)."""

    __tablename__ = "transit_guarantees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grn: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(15))  # comprehensive | individual
    holder_id: Mapped[str] = mapped_column(String(35), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(MONEY)  # the reference amount
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(15), default="valid")  # valid | revoked
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(120))


class Reservation(Base):
    """The amount a movement holds on its guarantee, from release until discharge."""

    __tablename__ = "transit_reservations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guarantee_id: Mapped[int] = mapped_column(ForeignKey("transit_guarantees.id"), index=True)
    mrn: Mapped[str] = mapped_column(String(18), unique=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    # Per country of the itinerary: the duties and taxes potentially due, in the
    # guarantee's currency; the highest is the amount.
    exposure: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(15), default="held")  # held | released
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Movement(Base):
    """A transit movement as this node knows it: declared here (the office of departure) or
    announced by its departure node (an office of transit or of destination here)."""

    __tablename__ = "transit_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mrn: Mapped[str] = mapped_column(String(18), unique=True)
    role: Mapped[str] = mapped_column(String(12))  # departure | transit | destination
    status: Mapped[str] = mapped_column(String(20), index=True)
    holder_id: Mapped[str] = mapped_column(String(35), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    # At an office of destination: the consignee, who sees the movement and, if authorised
    # here, notifies its arrival at its premises.
    consignee_id: Mapped[str | None] = mapped_column(String(35), index=True)
    # At departure: the lane the declaration got (green: no control) and why.
    lane: Mapped[str | None] = mapped_column(String(10))
    lane_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    departure_office: Mapped[str] = mapped_column(String(8))
    destination_office: Mapped[str] = mapped_column(String(8))
    # The offices of transit in order, then the countries they cross (departure first).
    transit_offices: Mapped[list[str]] = mapped_column(JSON)
    countries: Mapped[list[str]] = mapped_column(JSON)
    grn: Mapped[str] = mapped_column(String(18))
    seals: Mapped[list[str]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)  # the declaration as lodged
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    time_limit: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    # The last version of its TRANSIT_RECORD sent (at departure) or applied (elsewhere).
    record_version: Mapped[int] = mapped_column(Integer, default=0)


class SealInUse(Base):
    """A seal on a movement declared here that has not ended: one movement at a time."""

    __tablename__ = "transit_seals"

    seal: Mapped[str] = mapped_column(String(35), primary_key=True)
    mrn: Mapped[str] = mapped_column(String(18), index=True)


class Sequence(Base):
    """The unique parts of MRNs and GRNs allocated here, per kind and year."""

    __tablename__ = "transit_sequences"

    # movement | guarantee | alerts (the last e-seal alert passed on: transit.alerts)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class MovementEvent(Base):
    """What happened to a movement at an office, here or as a partner told it: released,
    frontier crossed, arrived, control results, written off."""

    __tablename__ = "transit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("transit_movements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # the NCTS message: IE029, IE118, IE006...
    office: Mapped[str] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2))  # where it happened
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Alert(Base):
    """An e-seal alert on a movement, as its office of departure passes it on to the next
    office on the itinerary (`country` here: `sent_to` the partner told, or None when that
    office is here), or as that office received it (`country`: the departure's)."""

    __tablename__ = "transit_alerts"
    __table_args__ = (UniqueConstraint("country", "alert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mrn: Mapped[str] = mapped_column(String(18), index=True)
    country: Mapped[str] = mapped_column(String(2))  # where it was raised: the departure's
    alert_id: Mapped[int] = mapped_column(Integer)  # its id there
    kind: Mapped[str] = mapped_column(String(20))
    office: Mapped[str] = mapped_column(String(8))  # the office it is for
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    device: Mapped[str | None] = mapped_column(String(35))
    detail: Mapped[str] = mapped_column(String(300))
    sent_to: Mapped[str | None] = mapped_column(String(2))
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime)
