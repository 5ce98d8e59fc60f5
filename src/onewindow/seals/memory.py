"""What a process keeps of each trip between batches, so that a batch reads only the trips'
versions: the plan, limits and reference (fixed when the trip is registered), the rules'
state and its seals' highest event ids; and each device's platform
and seats, so that a batch of known devices reads no seat.

Kept per engine (a database), and reused only while the trip's state still has the version
kept with it (`SealTripState.version`, read under the batch's lock): a write by another
process, by another engine, or by this one in a transaction rolled back, changes or leaves
the version, and the trip is read again. Whoever writes a trip's state gives it a new
version (`models.new_version`). A device's seats are reused while its active trip's version
is the one kept: a seal joins another trip only once its trip has ended, and ending a trip
writes its state; trips that ended are never changed but their state. A device on no trip
is read at every batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.seals import rules, seats
from onewindow.seals.geometry import Circle, Plan, plan
from onewindow.seals.models import SealTrip, SealTripState
from onewindow.seals.seats import Seat

KEPT = 50_000  # trips kept at most per database; the oldest kept are forgotten first


class Known(NamedTuple):
    """A trip as kept (a tuple: a batch makes a thousand)."""

    version: int
    reference: str
    plan: Plan
    limits: rules.Limits
    state: rules.TripState  # never changed in place: a batch steps a copy
    seqs: dict[str, int]  # per seal: the highest event id taken (none: nothing yet)

    def moved(self, version: int, state: rules.TripState, seqs: dict[str, int]) -> Known:
        return Known(version, self.reference, self.plan, self.limits, state, seqs)


@dataclass(frozen=True)
class Device:
    """A device on a trip, as a batch found it: `seats` holds its active one (on `trip`)
    and those it ended at or after `since`."""

    platform: str | None
    seats: list[Seat]
    trip: int
    since: datetime


def plan_of(route: dict, stops: list[dict], lat: float, lon: float, radius_m: float) -> Plan:
    return plan(
        tuple((float(x), float(y)) for x, y in route["coordinates"]),
        tuple(Circle(s["lat"], s["lon"], s["radius_m"]) for s in stops),
        Circle(lat, lon, radius_m),
    )


def limits_of(corridor_m: float, max_stop_s: int, max_silence_s: int) -> rules.Limits:
    return rules.Limits(corridor_m, max_stop_s * 1000, max_silence_s * 1000)


class Memory:
    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._trips: dict[int, Known] = {}
        self._devices: dict[str, Device] = {}
        self._lock = threading.Lock()
        self.reads = 0  # trips read from the database, not reused
        self.device_reads = 0  # devices whose seats were read, not reused

    def seats_of(self, session: Session, devices: list[str], earliest: datetime) -> seats.Found:
        """The devices' platforms and seats and their trips' versions, the trips locked: the
        seats kept reused while their active trip's version is the one kept (one query of
        the versions), the others read."""
        kept: dict[str, Device] = {}
        with self._lock:
            for name in devices:
                known = self._devices.get(name)
                if known is not None and known.since <= earliest and known.trip in self._trips:
                    kept[name] = known
        asked = {d.trip for d in kept.values()}
        found = seats.versions(session, asked)
        with self._lock:  # checked per trip, not per device: a trip has several seals
            stale = set()
            for trip_id, version in found.items():
                trip = self._trips.get(trip_id)
                if trip is None or version != trip.version:
                    stale.add(trip_id)
        if stale or len(found) < len(asked):  # some changed or gone: their devices read
            kept = {name: d for name, d in kept.items() if d.trip in found and d.trip not in stale}
        ask = [name for name in devices if name not in kept]
        fresh = seats.read(session, ask, earliest) if ask else seats.Found({}, {}, {})
        self.device_reads += len(ask)
        platforms = {name: d.platform for name, d in kept.items()} | fresh.platforms
        placed = {name: d.seats for name, d in kept.items()} | fresh.seats
        with self._lock:
            for name, mine in fresh.seats.items():
                active = [s.trip for s in mine if s.active]
                if active:
                    self._devices[name] = Device(fresh.platforms[name], mine, active[0], earliest)
                else:
                    self._devices.pop(name, None)
            while len(self._devices) > self.kept * 4:
                del self._devices[next(iter(self._devices))]
        return seats.Found(platforms, placed, found | fresh.versions)

    def trips(self, session: Session, versions: dict[int, int]) -> dict[int, Known]:
        """The trips of these ids, whose rows have these versions in this transaction."""
        found: dict[int, Known] = {}
        with self._lock:
            for trip_id, version in versions.items():
                known = self._trips.get(trip_id)
                if known is not None and known.version == version:
                    found[trip_id] = known
        missing = [trip_id for trip_id in versions if trip_id not in found]
        if missing:
            read = _read(session, missing)
            self.reads += len(read)
            found.update(read)
        return found

    def keep(self, known: dict[int, Known]) -> None:
        """Trips as this transaction wrote them. Kept before the commit: if it rolls back,
        the rows keep their old versions and these are not reused."""
        with self._lock:
            for trip_id, each in known.items():
                self._trips.pop(trip_id, None)  # to the end: the newest kept
                self._trips[trip_id] = each
            while len(self._trips) > self.kept:
                del self._trips[next(iter(self._trips))]


def _read(session: Session, ids: list[int]) -> dict[int, Known]:
    t, st = db.table(SealTrip).c, db.table(SealTripState).c
    rows = session.connection().execute(
        select(
            t.id,
            st.version,
            t.reference,
            t.route,
            t.stops,
            t.destination_lat,
            t.destination_lon,
            t.destination_radius_m,
            t.corridor_m,
            t.max_stop_s,
            t.max_silence_s,
            st.state,
            st.seqs,
        )
        .join_from(db.table(SealTrip), db.table(SealTripState), st.trip_id == t.id)
        .where(t.id.in_(ids))
    )
    return {
        r.id: Known(
            r.version,
            r.reference,
            plan_of(r.route, r.stops, r.destination_lat, r.destination_lon, r.destination_radius_m),
            limits_of(r.corridor_m, r.max_stop_s, r.max_silence_s),
            rules.TripState.of(r.state),
            r.seqs,
        )
        for r in rows
    }


_MEMORIES: WeakKeyDictionary[Engine, Memory] = WeakKeyDictionary()
_MEMORIES_LOCK = threading.Lock()


def of(session: Session) -> Memory:
    """The memory of the database this session works on (one per engine)."""
    engine = session.get_bind().engine
    with _MEMORIES_LOCK:
        found = _MEMORIES.get(engine)
        if found is None:
            found = _MEMORIES[engine] = Memory()
        return found
