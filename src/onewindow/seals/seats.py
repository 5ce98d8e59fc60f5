"""Which trip each event of a batch belongs to: its device's seat on the trip it was on at
the event's time, read with Core rows, the trips' states locked for the batch.

The seats read are the devices' active ones and those of trips ended since the batch's
earliest event: an event older than a trip's end may still belong to it (a late event),
one newer cannot, so a seal's older trips are never read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import orjson
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.seals.models import SealDevice, SealTrip, SealTripState, TripSeal
from onewindow.seals.schemas import EventIn


@dataclass(eq=False, slots=True)
class Seat:
    """A seal on a trip; for an ended trip, when it ran. Never changed once read: a process
    keeps a device's seats between batches (`memory.py`) while its active trip's version
    stays the one it knows."""

    device: str
    trip: int
    active: bool
    id: int  # the seat's row (`TripSeal.id`): what the log of records keeps (`chunks.py`)
    registered_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Found:
    """Devices as read: their platforms, their seats, and the versions of the seats' trips."""

    platforms: dict[str, str | None]
    seats: dict[str, list[Seat]]
    versions: dict[int, int]


class Problems(Protocol):
    def add(self, n: int, name: str, code: str, message: str) -> None: ...


def take_turns(session: Session) -> None:
    """Batches of one trip take turns. PostgreSQL: the trips' states are locked when read
    (`FOR UPDATE`). SQLite: the batch's transaction starts by writing (nothing), which takes
    the database's one write lock before anything is read, so that no other process writes a
    trip between this batch's reading it and writing it."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE seal_trip_states SET version = version WHERE 0"))


# A batch asks for a thousand trips' versions: as one parameter (a JSON array on SQLite, an
# array on PostgreSQL), the statement is the same text every time, where `IN` with a
# parameter per trip is expanded and sent as a new statement at every batch.
_VERSIONS = {
    "sqlite": text(
        "SELECT trip_id, version FROM seal_trip_states"
        " WHERE trip_id IN (SELECT value FROM json_each(:ids))"
    ),
    "postgresql": text(
        "SELECT trip_id, version FROM seal_trip_states WHERE trip_id = ANY(:ids) FOR UPDATE"
    ),
}


def versions(session: Session, trips: Iterable[int]) -> dict[int, int]:
    """The trips' versions, their states locked for the batch."""
    ids = list(trips)
    if not ids:
        return {}
    conn = session.connection()
    statement = _VERSIONS.get(conn.dialect.name)
    if statement is None:  # another database: the portable form
        state = db.table(SealTripState).c
        query = select(state.trip_id, state.version).where(state.trip_id.in_(ids))
        return dict(conn.execute(query.with_for_update()).all())
    value = orjson.dumps(ids).decode() if conn.dialect.name == "sqlite" else ids
    return dict(conn.execute(statement, {"ids": value}).all())


def read(session: Session, devices: list[str], earliest: datetime) -> Found:
    """The devices' platforms and seats, one query for the devices on a trip (the usual
    case), one more for the others."""
    device, seat, trip = db.table(SealDevice).c, db.table(TripSeal).c, db.table(SealTrip).c
    state = db.table(SealTripState).c
    query = (
        select(
            device.platform,
            seat.device_id,
            seat.trip_id,
            seat.active,
            seat.id,
            state.version,
        )
        .join_from(db.table(SealDevice), db.table(TripSeal), seat.device_id == device.id)
        .join(db.table(SealTrip), trip.id == seat.trip_id)
        .join(db.table(SealTripState), state.trip_id == seat.trip_id)
        .where(device.id.in_(devices), or_(seat.active, trip.ended_at >= earliest))
        .with_for_update(of=db.table(SealTripState))
    )
    platforms: dict[str, str | None] = {}
    seats: dict[str, list[Seat]] = defaultdict(list)
    ended: dict[int, list[Seat]] = defaultdict(list)
    trip_versions: dict[int, int] = {}
    for platform, name, trip_id, active, seat_id, version in session.connection().execute(query):
        found = Seat(name, trip_id, active, seat_id)
        platforms[name] = platform
        seats[name].append(found)
        trip_versions[trip_id] = version
        if not active:
            ended[trip_id].append(found)
    others = [name for name in devices if name not in platforms]
    if others:  # on no trip, or not registered: refused
        rest = select(device.id, device.platform).where(device.id.in_(others))
        platforms.update(session.connection().execute(rest).all())
    if ended:  # late events of ended trips, rare: when each ran
        times = select(trip.id, trip.registered_at, trip.ended_at).where(trip.id.in_(ended))
        for trip_id, registered_at, ended_at in session.connection().execute(times):
            for each in ended[trip_id]:
                each.registered_at, each.ended_at = registered_at, ended_at
    return Found(platforms, dict(seats), trip_versions)


def _trip_for(seats: list[Seat], at: datetime) -> Seat:
    """The trip the device was on at `at`: an ended one whose time covers it (a late event),
    the newest first, else its active trip; else none (KeyError)."""
    for seat in sorted(seats, key=lambda s: s.trip, reverse=True):
        if (
            seat.ended_at is not None
            and seat.registered_at is not None
            and (seat.registered_at <= at <= seat.ended_at)
        ):
            return seat
    for seat in seats:
        if seat.active:
            return seat
    raise KeyError(at)


def place(
    events: Sequence[EventIn],
    by_device: dict[str, list[int]],
    found_: Found,
    *,
    platform: str | None,
    device: str | None,
    problems: Problems,
) -> dict[Seat, list[int]]:
    """Each seat with its events (their indexes in `events`), or a problem naming the device
    of each event that has none (the batch is then refused). What depends only on the device
    is found once per device: a batch holds many events of each."""
    platforms, seats = found_.platforms, found_.seats
    placed: dict[Seat, list[int]] = {}
    refusals: list[tuple[int, str, str]] = []  # listed in the events' order, below
    for name, indexes in by_device.items():
        refused = None
        if name not in platforms:
            refused = ("unknown_device", f"no seal {name} is registered")
        elif (platform is not None and platforms[name] != platform) or (
            device is not None and name != device
        ):
            refused = ("not_your_device", f"seal {name} does not report through this sender")
        if refused is not None:
            refusals += [(n, *refused) for n in indexes]
            continue
        found = seats.get(name, [])
        if len(found) == 1 and found[0].active:  # the usual case: on one trip, all its events
            placed[found[0]] = indexes
            continue
        for n in indexes:
            try:
                seat = _trip_for(found, events[n].at)
            except KeyError:
                refusals.append((n, "not_on_trip", f"seal {name} is on no trip now"))
                continue
            placed.setdefault(seat, []).append(n)
    for n, code, message in sorted(refusals):
        problems.add(n, "device", code, message)
    return placed
