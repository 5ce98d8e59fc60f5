"""The e-seals' tables: devices and platforms with their credentials, trips with their plan and
their running state, the seals on each trip, the events in packed chunks, and the alerts.

Events are not one row each. A batch's records, all its seals', are one row of a log
(`EventLog`, records of `packing.LOGGED`): one insert a batch, whatever the number of its
trips. When the log has grown enough, a batch moves its records into chunks (`EventChunk`),
a seal's records on a trip in one chunk (more if it has more than `packing.CHUNK`), and
deletes those log rows (`chunks.py`). A device's event ids are its own counter; the records
keep them, and a chunk's `seq_from`/`seq_to` say which chunks to unpack when an id at or
below the seal's highest one comes again (a duplicate or a late event); the log is small
and read whole then.

What changes with every batch is kept apart from what a trip was registered with: a narrow
row per trip (`SealTripState`), so that a batch's update of a thousand trips rewrites a few
hundred bytes of each, not the route they carry.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base, UTCDateTime


class SealPlatform(Base):
    """A vendor's platform that posts batches of its devices' events; only its key's hash."""

    __tablename__ = "seal_platforms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SealDevice(Base):
    """A seal. Its secret signs what it publishes over MQTT (HMAC-SHA256), so the node keeps
    the secret itself, not a hash; `platform`: the one platform that may report for it."""

    __tablename__ = "seal_devices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(ForeignKey("seal_platforms.name"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SealTrip(Base):
    """A trip under seal, as its caller registered it (the reference is theirs, an MRN); what
    the rules keep of it between events is its `SealTripState`."""

    __tablename__ = "seal_trips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # active, ended
    route: Mapped[dict[str, Any]] = mapped_column(JSON)  # a GeoJSON LineString, lon/lat
    corridor_m: Mapped[float] = mapped_column(Float)
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # {name, lat, lon, radius_m}
    max_stop_s: Mapped[int] = mapped_column(Integer)
    max_silence_s: Mapped[int] = mapped_column(Integer)
    destination_office: Mapped[str] = mapped_column(String(20))
    destination_lat: Mapped[float] = mapped_column(Float)
    destination_lon: Mapped[float] = mapped_column(Float)
    destination_radius_m: Mapped[float] = mapped_column(Float)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_office: Mapped[str | None] = mapped_column(String(20))


class SealTripState(Base):
    """What the rules keep of a trip between events (`state`, `rules.TripState` as JSON) and
    the highest event id taken from each of its seals (`seqs`, by device; a seal not in it:
    nothing yet): the row every batch of the trip rewrites."""

    __tablename__ = "seal_trip_states"

    trip_id: Mapped[int] = mapped_column(ForeignKey("seal_trips.id"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    seqs: Mapped[dict[str, int]] = mapped_column(JSON)
    # a new random number with every write of the row (`new_version`), never a counter: a
    # process keeping the state between batches (`memory.py`) reuses it only while the row
    # still has the version it wrote or read, and a write rolled back must not come back as
    # the version another process writes next
    version: Mapped[int] = mapped_column(BigInteger)


def new_version() -> int:
    # the random module, not `secrets`: a batch draws a thousand, and the module is seeded
    # again in a forked process, so two processes never draw the same numbers in turn
    return random.getrandbits(62)


class TripSeal(Base):
    """A seal on a trip (the highest event id taken from it there: `SealTripState.seqs`)."""

    __tablename__ = "seal_trip_seals"
    __table_args__ = (UniqueConstraint("trip_id", "device_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("seal_trips.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("seal_devices.id"), index=True)
    # the trip's status copied, so that finding a device's current trip is one index
    active: Mapped[bool] = mapped_column(Boolean)


class EventChunk(Base):
    """Packed event records of one seal on one trip (`packing.py`). `full`: written once, never
    added to (every chunk since `seals_0004`; before it, a seal's newest records were open
    chunks merged later)."""

    __tablename__ = "seal_event_chunks"
    __table_args__ = (Index("ix_seal_event_chunks_trip_device", "trip_id", "device_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("seal_trips.id"))
    device_id: Mapped[str] = mapped_column(String(40))
    base_ms: Mapped[int] = mapped_column(BigInteger)  # the records' times are offsets from it
    count: Mapped[int] = mapped_column(Integer)
    seq_from: Mapped[int] = mapped_column(BigInteger)
    seq_to: Mapped[int] = mapped_column(BigInteger)
    full: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class EventLog(Base):
    """One batch's records (`packing.LOGGED`: each with its seat, `TripSeal.id`), until they
    are moved into chunks (`chunks.py`)."""

    __tablename__ = "seal_event_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SealAlert(Base):
    """One episode of a rule broken on a trip (off the corridor, a long stop, an opened
    door...), and its acknowledgement by an officer."""

    __tablename__ = "seal_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("seal_trips.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    device_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(String(500))
