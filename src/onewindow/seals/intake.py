"""Taking a batch of seal events: checked whole (one bad event refuses the batch, every
problem named, nothing stored), duplicates dropped, each trip's events run through the rules
in time order, and what changed written with one statement per table.

Per batch, whatever its size: one query for the devices and one for their seats with their
trips' versions (`seats.py`, the trips locked); the trips' plans and state come from what the
process kept of them (`memory.py`) while their versions are unchanged, else from one query.
The positions of every trip are measured in one call (`geometry.measure`). Written: the
trips' state and the seals' highest ids (an executemany each), each seal's new records as a
chunk appended (`chunks.py`), the alerts. A query more per seal whose event ids go back below
its highest (duplicates or late events, rare).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import pairwise
from operator import attrgetter
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.kit.errors import FieldError, InvalidInput, Text
from onewindow.seals import bulk, chunks, geometry, memory, packing, rules
from onewindow.seals.geometry import Plan
from onewindow.seals.models import SealAlert, SealTrip, TripSeal, new_version
from onewindow.seals.schemas import AlertRead, EventIn, IngestResult
from onewindow.seals.seats import Seat, place, take_turns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
US = timedelta(microseconds=1)
_EPOCH_DAY = EPOCH.toordinal()
POSITION, DOOR_OPEN, TAMPER = (packing.KIND_CODE[k] for k in ("position", "door_open", "tamper"))
NEVER = -(2**63)  # before any time: a trip with no event taken yet
FUTURE = timedelta(minutes=5)  # a device's clock a little ahead is tolerated, no more
MAX_ERRORS = 100


@dataclass(frozen=True)
class Source:
    """Who sent the batch: a platform (only for its own devices) or one device."""

    platform: str | None = None
    device: str | None = None


def ms_of(at: datetime) -> int:
    """Milliseconds since 1970 (UTC), floored: `(at - EPOCH) // MS`, from the fields (the
    subtraction asks the zone twice, which costs most of a microsecond a batch's event)."""
    us = (
        (at.toordinal() - _EPOCH_DAY) * 86_400 + at.hour * 3600 + at.minute * 60 + at.second
    ) * 1_000_000 + at.microsecond
    offset = at.utcoffset()
    if offset:
        us -= offset // US
    return us // 1000


def at_of(ms: int) -> datetime:
    return EPOCH + ms * MS


def plan_of(trip: SealTrip) -> Plan:
    return memory.plan_of(
        trip.route,
        trip.stops,
        trip.destination_lat,
        trip.destination_lon,
        trip.destination_radius_m,
    )


def limits_of(trip: SealTrip) -> rules.Limits:
    return memory.limits_of(trip.corridor_m, trip.max_stop_s, trip.max_silence_s)


def alert_read(row: SealAlert, reference: str) -> AlertRead:
    return AlertRead(
        id=row.id,
        reference=reference,
        kind=row.kind,
        at=row.at,
        lat=row.lat,
        lon=row.lon,
        device=row.device_id,
        detail=row.detail,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        note=row.note,
    )


def alert_row(trip_id: int, alert: rules.Alert, now: datetime) -> SealAlert:
    return SealAlert(
        trip_id=trip_id,
        kind=alert.kind,
        at=at_of(alert.ms),
        lat=alert.lat,
        lon=alert.lon,
        device_id=alert.device,
        detail=alert.detail[:300],
        raised_at=now,
    )


@dataclass
class _Problems:
    found: list[FieldError] = field(default_factory=list)
    count: int = 0

    def add(self, n: int, name: str, code: str, message: str) -> None:
        self.count += 1
        if len(self.found) < MAX_ERRORS:
            self.found.append(FieldError(f"events.{n}.{name}", code, message))

    def raise_any(self) -> None:
        if self.count:
            more = f" ({self.count} in all, the first {MAX_ERRORS} listed)"
            detail = Text("{count} event(s) refused; nothing was stored", count=self.count)
            raise InvalidInput(self.found, detail + (more if self.count > MAX_ERRORS else ""))


@dataclass
class _Columns:
    """The batch's events a field at a time (read once from the models), and each device's
    events (their indexes)."""

    times: list[int]  # ms
    ids: list[int]
    kinds: list[str]
    lats: list[float | None]
    lons: list[float | None]
    speeds: list[float | None]
    by_device: dict[str, list[int]]

    @cached_property
    def lat_array(self) -> np.ndarray:
        return np.array(self.lats, dtype=float)  # NaN: none

    @cached_property
    def lon_array(self) -> np.ndarray:
        return np.array(self.lons, dtype=float)

    @cached_property
    def speed_array(self) -> np.ndarray:
        return np.array(self.speeds, dtype=float)

    @cached_property
    def kind_array(self) -> np.ndarray:
        return np.array([packing.KIND_CODE[k] for k in self.kinds], dtype=np.uint8)


_FIELDS = attrgetter("device", "id", "kind", "at", "lat", "lon", "speed")


def _check_each(events: Sequence[EventIn], now: datetime, problems: _Problems) -> _Columns:
    if not events:
        return _Columns([], [], [], [], [], [], {})
    fields = zip(*map(_FIELDS, events), strict=True)
    devices, ids, kinds, ats, lats, lons, speeds = map(list, fields)
    times = list(map(ms_of, ats))
    by_device: dict[str, list[int]] = {}
    for n, name in enumerate(devices):
        found = by_device.get(name)
        if found is None:
            by_device[name] = [n]
        else:
            found.append(n)
    latest = ms_of(now + FUTURE)
    if None in lats or None in lons or max(times) > latest:  # look closer: any problem?
        for n, (lat, lon, kind, ms) in enumerate(zip(lats, lons, kinds, times, strict=True)):
            if (lat is None) != (lon is None):
                missing = "lat" if lat is None else "lon"
                problems.add(n, missing, "missing", "give lat and lon together, or neither")
            elif lat is None and kind == "position":
                problems.add(n, "lat", "missing", "a position needs lat and lon")
            if ms > latest:
                at = ats[n].isoformat()
                problems.add(n, "at", "in_future", f"{at} is ahead of this node's clock")
    return _Columns(times, ids, kinds, lats, lons, speeds, by_device)


def _fresh(session: Session, seat: Seat, ids: list[int], indexes: list[int]) -> list[int]:
    """A seal's events but those stored already or twice in the batch."""
    mine = [ids[n] for n in indexes]
    if min(mine) > seat.last_seq and len(set(mine)) == len(mine):
        return indexes  # all new: the usual case
    older = [i for i in mine if i <= seat.last_seq]
    stored = (
        chunks.stored_seqs(session, seat.trip, seat.device, min(older), max(older))
        if older
        else set()
    )
    seen: set[int] = set()
    kept = []
    for n, i in zip(indexes, mine, strict=True):
        if i not in seen and i not in stored:
            seen.add(i)
            kept.append(n)
    return kept


@dataclass
class _Taken:
    """The events taken, seal after seal (`seats`, sorted by trip and device, each with
    `counts[k]` events): their indexes in the batch, and their times and ids."""

    seats: list[Seat]
    counts: list[int]
    events: np.ndarray
    ms: np.ndarray
    ids: np.ndarray

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.counts[:-1])]).astype(np.intp)


def ingest(
    session: Session, events: Sequence[EventIn], *, source: Source, now: datetime
) -> IngestResult:
    """Take a batch: all of it, or (InvalidInput, every problem by its `events.N.field`)
    nothing of it."""
    problems = _Problems()
    cols = _check_each(events, now, problems)
    take_turns(session)
    placed = place(
        session,
        events,
        cols.by_device,
        at_of(min(cols.times)) if cols.times else now,
        platform=source.platform,
        device=source.device,
        problems=problems,
    )
    problems.raise_any()
    per_seat: list[tuple[Seat, list[int]]] = []
    duplicates = 0
    for seat, indexes in placed.items():
        kept = _fresh(session, seat, cols.ids, indexes)
        duplicates += len(indexes) - len(kept)
        if kept:
            per_seat.append((seat, kept))
    per_seat.sort(key=lambda pair: (pair[0].trip, pair[0].device))
    flat = np.array([n for _, kept in per_seat for n in kept], dtype=np.intp)
    taken = _Taken(
        [seat for seat, _ in per_seat],
        [len(kept) for _, kept in per_seat],
        flat,
        np.array(cols.times, dtype=np.int64)[flat],
        np.array(cols.ids, dtype=np.int64)[flat],
    )
    mind = memory.of(session)
    trips = mind.trips(session, {seat.trip: seat.version for seat in placed})
    late, raised, states = _evaluate(trips, taken, cols)
    after = _write_events(session, taken, cols, trips)
    kept_trips = _write_trips(session, trips, states, after)
    alerts = _write_alerts(session, raised, trips, now)
    for loaded in list(session.identity_map.values()):  # rows the caller read before
        if isinstance(loaded, SealTrip | TripSeal):
            session.expire(loaded)
    mind.keep(kept_trips)
    return IngestResult(
        accepted=len(flat),
        duplicates=duplicates,
        late=late,
        alerts=alerts,
    )


def _evaluate(
    trips: dict[int, memory.Known], taken: _Taken, cols: _Columns
) -> tuple[int, list[tuple[int, rules.Alert]], dict[int, rules.TripState]]:
    """Every trip's events through the rules in time order (then by device and id), the
    positions of all of them measured at once. The kept states are not changed: each trip
    steps a copy."""
    if not taken.seats:
        return 0, [], {}
    trip_ids = [seat.trip for seat in taken.seats]
    starts_trip = [True] + [a != b for a, b in pairwise(trip_ids)]
    order = [t for t, new in zip(trip_ids, starts_trip, strict=True) if new]
    seat_rank = np.repeat(np.arange(len(taken.seats)), taken.counts)  # by trip, then device
    trip_rank = np.repeat(np.cumsum(starts_trip) - 1, taken.counts)
    sorted_ = np.lexsort((taken.ids, seat_rank, taken.ms, trip_rank))
    events = taken.events[sorted_]
    ranks = trip_rank[sorted_]
    lats, lons = cols.lat_array[events], cols.lon_array[events]
    placed = ~np.isnan(lats)  # and lon: checked
    ms = taken.ms[sorted_]
    first = np.empty(len(ranks), dtype=bool)
    first[0], first[1:] = True, ranks[1:] != ranks[:-1]
    starts = np.flatnonzero(first)
    states = {t: trips[t].state.copy() for t in order}
    limits = [trips[t].limits for t in order]
    newest = [NEVER if states[t].last_ms is None else states[t].last_ms for t in order]
    # late positions change nothing: only the others are measured
    where = placed & ~rules.surely_late(ms, first, np.array(newest, dtype=np.int64)[ranks])
    measured = geometry.measure(
        [trips[t].plan for t in order], ranks[where], lats[where], lons[where]
    )
    off = np.zeros(len(events))
    in_stop = np.zeros(len(events), dtype=bool)
    at_destination = np.zeros(len(events), dtype=bool)
    off[where], in_stop[where], at_destination[where] = (
        measured.off_route_m,
        measured.in_stop,
        measured.at_destination,
    )
    devices = [seat.device for seat in taken.seats]
    kinds = cols.kind_array[events]
    speeds = cols.speed_array[events]
    first_ok = [
        rules.first_ok(states[t], m, lim)
        for t, m, lim in zip(order, ms[starts].tolist(), limits, strict=True)
    ]
    classes = rules.quiet(
        ms,
        first,
        np.array(first_ok, dtype=bool)[ranks],
        kinds == POSITION,
        (kinds == DOOR_OPEN) | (kinds == TAMPER),
        placed,
        speeds,
        off,
        np.array([lim.corridor_m for lim in limits])[ranks],
        np.array([lim.max_silence_ms for lim in limits], dtype=np.int64)[ranks],
    ).tolist()
    rows = _Rows(
        ms.tolist(),
        [devices[k] for k in seat_rank[sorted_].tolist()],
        events.tolist(),
        off.tolist(),
        in_stop.tolist(),
        at_destination.tolist(),
        cols,
    )
    late = 0
    raised: list[tuple[int, rules.Alert]] = []
    bounds = [*starts.tolist(), len(events)]
    for k, trip_id in enumerate(order):
        a, b = bounds[k], bounds[k + 1]
        rows.start = a
        found, behind = rules.run(states[trip_id], rows, classes[a:b], limits[k])
        late += behind
        raised += [(trip_id, alert) for alert in found]
    return late, raised, states


@dataclass
class _Rows:
    """The sorted events as `rules.Event` fields, each made when `rules.run` asks for it (the
    quiet ones but the last of each run are not): the n-th of the trip starting at `start`."""

    ms: list[int]
    devices: list[str]
    events: list[int]  # their indexes in the batch
    off: list[float]
    in_stop: list[bool]
    at_destination: list[bool]
    cols: _Columns
    start: int = 0

    def __getitem__(self, n: int) -> tuple[Any, ...]:
        j = self.start + n
        e = self.events[j]
        return (
            self.ms[j],
            self.cols.kinds[e],
            self.devices[j],
            self.cols.lats[e],
            self.cols.lons[e],
            self.cols.speeds[e],
            self.off[j],
            self.in_stop[j],
            self.at_destination[j],
        )


def _write_events(
    session: Session, taken: _Taken, cols: _Columns, trips: dict[int, memory.Known]
) -> dict[tuple[int, str], chunks.Open]:
    """The records appended (`chunks.write`) and each seal's highest id; the seals' records
    in open chunks after."""
    if not taken.seats:
        return {}
    starts = taken.starts
    events = taken.events
    found = packing.columns(
        taken.ids,
        cols.lat_array[events],
        cols.lon_array[events],
        cols.speed_array[events],
        cols.kind_array[events],
    )
    keys = [(seat.trip, seat.device) for seat in taken.seats]
    after = chunks.write(
        session,
        keys,
        taken.counts,
        taken.ms,
        found,
        {(t, d): trips[t].pending.get(d, (0, 0)) for t, d in keys},
    )
    tops = np.maximum.reduceat(taken.ids, starts).tolist()
    higher = [
        (seat.id, top) for seat, top in zip(taken.seats, tops, strict=True) if top > seat.last_seq
    ]
    bulk.update_many(session, TripSeal, ("last_seq",), higher)
    return after


def _write_alerts(
    session: Session,
    raised: list[tuple[int, rules.Alert]],
    trips: dict[int, memory.Known],
    now: datetime,
) -> list[AlertRead]:
    """The alerts inserted with one statement, their ids returned in order."""
    if not raised:
        return []
    table = db.table(SealAlert)
    times = [at_of(a.ms) for _, a in raised]
    rows = [
        {
            "trip_id": trip_id,
            "kind": a.kind,
            "at": at,
            "lat": a.lat,
            "lon": a.lon,
            "device_id": a.device,
            "detail": a.detail[:300],
            "raised_at": now,
        }
        for (trip_id, a), at in zip(raised, times, strict=True)
    ]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = session.connection().execute(statement, rows).scalars().all()
    return [
        AlertRead(
            id=alert_id,
            reference=trips[trip_id].reference,
            kind=a.kind,
            at=at,
            lat=a.lat,
            lon=a.lon,
            device=a.device,
            detail=a.detail[:300],
        )
        for alert_id, (trip_id, a), at in zip(ids, raised, times, strict=True)
    ]


def _write_trips(
    session: Session,
    trips: dict[int, memory.Known],
    states: dict[int, rules.TripState],
    pending: dict[tuple[int, str], chunks.Open],
) -> dict[int, memory.Known]:
    """Each trip's new state with a new version; what the process keeps of them."""
    if not states:
        return {}
    counts: dict[int, dict[str, chunks.Open]] = {}
    for (trip_id, device), n in pending.items():
        counts.setdefault(trip_id, {})[device] = n
    changed: list[tuple[int, dict[str, Any], datetime | None, int]] = []
    kept: dict[int, memory.Known] = {}
    for trip_id, state in states.items():
        version = new_version()
        last = None if state.last_ms is None else at_of(state.last_ms)
        changed.append((trip_id, state.as_json(), last, version))
        known = trips[trip_id]
        kept[trip_id] = known.moved(version, state, known.pending | counts.get(trip_id, {}))
    bulk.update_many(session, SealTrip, ("state", "last_at", "version"), changed)
    return kept
