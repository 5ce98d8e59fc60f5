"""Which trip each event of a batch belongs to: its device's seat on the trip it was on at
the event's time, read with Core rows, the trips locked for the batch.

The seats read are the devices' active ones and those of trips ended since the batch's
earliest event: an event older than a trip's end may still belong to it (a late event),
one newer cannot, so a seal's older trips are never read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.seals.models import SealDevice, SealTrip, TripSeal
from onewindow.seals.schemas import EventIn


@dataclass(eq=False, slots=True)
class Seat:
    """A seal on a trip as the batch found it: its trip's version, its highest id taken;
    for an ended trip, when it ran."""

    id: int
    device: str
    trip: int
    last_seq: int
    active: bool
    version: int
    registered_at: datetime | None = None
    ended_at: datetime | None = None


class Problems(Protocol):
    def add(self, n: int, name: str, code: str, message: str) -> None: ...


def take_turns(session: Session) -> None:
    """Batches of one trip take turns. PostgreSQL: the trips' rows are locked when read
    (`FOR UPDATE`). SQLite: the batch's transaction starts by writing (nothing), which takes
    the database's one write lock before anything is read, so that no other process writes a
    trip between this batch's reading it and writing it."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE seal_trips SET version = version WHERE 0"))


def _seats(
    session: Session, devices: list[str], earliest: datetime
) -> tuple[dict[str, str | None], dict[str, list[Seat]]]:
    """The devices' platforms and seats, one query for the devices on a trip (the usual
    case), one more for the others."""
    device, seat, trip = db.table(SealDevice).c, db.table(TripSeal).c, db.table(SealTrip).c
    query = (
        select(
            device.platform,
            seat.id,
            seat.device_id,
            seat.trip_id,
            seat.last_seq,
            seat.active,
            trip.version,
        )
        .join_from(db.table(SealDevice), db.table(TripSeal), seat.device_id == device.id)
        .join(db.table(SealTrip), trip.id == seat.trip_id)
        .where(device.id.in_(devices), or_(seat.active, trip.ended_at >= earliest))
        .with_for_update(of=db.table(SealTrip))
    )
    platforms: dict[str, str | None] = {}
    seats: dict[str, list[Seat]] = defaultdict(list)
    ended: dict[int, list[Seat]] = defaultdict(list)
    for platform, *row in session.connection().execute(query):
        found = Seat(*row)
        platforms[found.device] = platform
        seats[found.device].append(found)
        if not found.active:
            ended[found.trip].append(found)
    others = [name for name in devices if name not in platforms]
    if others:  # on no trip, or not registered: refused
        rest = select(device.id, device.platform).where(device.id.in_(others))
        platforms.update(session.connection().execute(rest).all())
    if ended:  # late events of ended trips, rare: when each ran
        times = select(trip.id, trip.registered_at, trip.ended_at).where(trip.id.in_(ended))
        for trip_id, registered_at, ended_at in session.connection().execute(times):
            for each in ended[trip_id]:
                each.registered_at, each.ended_at = registered_at, ended_at
    return platforms, seats


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
    session: Session,
    events: Sequence[EventIn],
    by_device: dict[str, list[int]],
    earliest: datetime,
    *,
    platform: str | None,
    device: str | None,
    problems: Problems,
) -> dict[Seat, list[int]]:
    """Each seat with its events (their indexes in `events`), or a problem naming the device
    of each event that has none (the batch is then refused). What depends only on the device
    is found once per device: a batch holds many events of each."""
    if not by_device:
        return {}
    platforms, seats = _seats(session, list(by_device), earliest)
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
