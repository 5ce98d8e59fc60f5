"""Taking a batch of seal events: checked whole (one bad event refuses the batch, every
problem named, nothing stored), duplicates dropped, each trip's events run through the rules
in time order, and what changed written with one statement per table.

Per batch, whatever its size: one query of the versions of the trips the batch's devices
are on, the trips' states locked (`seats.py`); the devices' seats and the trips' plans,
state and seals' highest ids come from what the process kept of them (`memory.py`) while
those versions are unchanged, else from a query each (one more for devices on no trip). The
rules run over the whole batch at once (`evaluation.py`). Written: each trip's narrow state
row with its seals' highest ids (one executemany), the batch's records as one row of the
log (`chunks.py`, now and then moved into the seals' chunks), the alerts (one insert). A
query more per seal whose event ids go back below its highest (duplicates or late events,
rare), and the log read once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.kit.errors import FieldError, InvalidInput, Text
from onewindow.kit.runtime import collector_paused
from onewindow.seals import bulk, chunks, memory, packing, rules, seats
from onewindow.seals.evaluation import Columns, Taken, evaluate
from onewindow.seals.geometry import Plan
from onewindow.seals.models import SealAlert, SealTrip, SealTripState, new_version
from onewindow.seals.schemas import AlertRead, EventIn, IngestResult
from onewindow.seals.seats import Seat, place, take_turns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
US = timedelta(microseconds=1)
_EPOCH_DAY = EPOCH.toordinal()
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


def ms_each(ats: Sequence[datetime]) -> list[int]:
    """`ms_of` of each: the zones asked in one pass and the fields read in a comprehension,
    where a call a time cost a frame per event (a batch's 5,000)."""
    offsets = list(map(datetime.utcoffset, ats))
    us = [
        ((at.toordinal() - _EPOCH_DAY) * 86_400 + at.hour * 3600 + at.minute * 60 + at.second)
        * 1_000_000
        + at.microsecond
        for at in ats
    ]
    if any(offsets):
        us = [u - offset // US if offset else u for u, offset in zip(us, offsets, strict=True)]
    return [u // 1000 for u in us]


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


_FIELDS = attrgetter("device", "id", "kind", "at", "lat", "lon", "speed")


def _check_each(events: Sequence[EventIn], now: datetime, problems: _Problems) -> Columns:
    if not events:
        return Columns([], [], [], [], [], [], {})
    fields = zip(*map(_FIELDS, events), strict=True)
    devices, ids, kinds, ats, lats, lons, speeds = map(list, fields)
    times = ms_each(ats)
    by_device: dict[str, list[int]] = {}
    for n, name in enumerate(devices):
        found = by_device.get(name)
        if found is None:
            by_device[name] = [n]
        else:
            found.append(n)
    cols = Columns(times, ids, kinds, lats, lons, speeds, by_device)
    latest = ms_of(now + FUTURE)
    # any problem? found for the whole batch (a door event has no position: `None in lats`
    # would look at every event again), then named event by event
    no_lat, no_lon = np.isnan(cols.lat_array), np.isnan(cols.lon_array)
    suspect = (no_lat != no_lon) | (no_lat & (cols.kind_array == packing.KIND_CODE["position"]))
    suspect |= np.array(times, dtype=np.int64) > latest
    for n in np.flatnonzero(suspect).tolist():
        lat, lon, kind, ms = lats[n], lons[n], kinds[n], times[n]
        if (lat is None) != (lon is None):
            missing = "lat" if lat is None else "lon"
            problems.add(n, missing, "missing", "give lat and lon together, or neither")
        elif lat is None and kind == "position":
            problems.add(n, "lat", "missing", "a position needs lat and lon")
        if ms > latest:
            at = ats[n].isoformat()
            problems.add(n, "at", "in_future", f"{at} is ahead of this node's clock")
    return cols


def _fresh(
    stored_: chunks.Stored, seat: Seat, last_seq: int, ids: list[int], indexes: list[int]
) -> list[int]:
    """A seal's events but those stored already or twice in the batch."""
    mine = [ids[n] for n in indexes]
    if min(mine) > last_seq and len(set(mine)) == len(mine):
        return indexes  # all new: the usual case
    older = [i for i in mine if i <= last_seq]
    stored = stored_.seqs(seat, min(older), max(older)) if older else set()
    seen: set[int] = set()
    kept = []
    for n, i in zip(indexes, mine, strict=True):
        if i not in seen and i not in stored:
            seen.add(i)
            kept.append(n)
    return kept


def _all_new(
    per_seat: list[tuple[Seat, list[int]]], trips: dict[int, memory.Known], ids: np.ndarray
) -> bool:
    """Whether every seal's events (`ids`, seal after seal) are above its highest id taken
    and each there once: the usual case, checked for the whole batch at once."""
    counts = [len(indexes) for _, indexes in per_seat]
    last = [trips[seat.trip].seqs.get(seat.device, -1) for seat, _ in per_seat]
    rank = np.repeat(np.arange(len(per_seat)), counts)
    if not (ids > np.array(last, dtype=np.int64)[rank]).all():
        return False
    order = np.lexsort((ids, rank))
    repeated = (rank[order][1:] == rank[order][:-1]) & (ids[order][1:] == ids[order][:-1])
    return not repeated.any()


def ingest(
    session: Session, events: Sequence[EventIn], *, source: Source, now: datetime
) -> IngestResult:
    """Take a batch: all of it, or (InvalidInput, every problem by its `events.N.field`)
    nothing of it."""
    # No cycle collection during the batch (runtime.collector_paused): its tens of thousands
    # of objects live until it is stored, and a pass over them in the middle finds nothing.
    with collector_paused():
        return _ingest(session, events, source=source, now=now)


def _ingest(
    session: Session, events: Sequence[EventIn], *, source: Source, now: datetime
) -> IngestResult:
    problems = _Problems()
    cols = _check_each(events, now, problems)
    take_turns(session)
    mind = memory.of(session)
    placed: dict[Seat, list[int]] = {}
    versions: dict[int, int] = {}
    if cols.by_device:
        found = mind.seats_of(session, list(cols.by_device), at_of(min(cols.times)))
        placed = place(
            events,
            cols.by_device,
            found,
            platform=source.platform,
            device=source.device,
            problems=problems,
        )
        versions = found.versions
    problems.raise_any()
    missing = {seat.trip for seat in placed} - versions.keys()
    if missing:  # ended trips of devices kept (late events): rare
        versions = versions | seats.versions(session, missing)
    trips = mind.trips(session, {seat.trip: versions[seat.trip] for seat in placed})
    per_seat = sorted(placed.items(), key=lambda pair: (pair[0].trip, pair[0].device))
    flat = np.fromiter(chain.from_iterable(kept for _, kept in per_seat), dtype=np.intp)
    ids = np.array(cols.ids, dtype=np.int64)
    duplicates = 0
    if not _all_new(per_seat, trips, ids[flat]):  # duplicates or late ids: seal by seal
        stored = chunks.Stored(session)
        every, per_seat = per_seat, []
        for seat, indexes in every:
            last_seq = trips[seat.trip].seqs.get(seat.device, -1)
            kept = _fresh(stored, seat, last_seq, cols.ids, indexes)
            duplicates += len(indexes) - len(kept)
            if kept:
                per_seat.append((seat, kept))
        flat = np.fromiter(chain.from_iterable(kept for _, kept in per_seat), dtype=np.intp)
    taken = Taken(
        [seat for seat, _ in per_seat],
        [len(kept) for _, kept in per_seat],
        flat,
        np.array(cols.times, dtype=np.int64)[flat],
        ids[flat],
    )
    late, raised, states = evaluate(trips, taken, cols)
    tops = _write_events(session, taken, cols)
    kept_trips = _write_trips(session, trips, states, tops)
    alerts = _write_alerts(session, raised, trips, now)
    for loaded in list(session.identity_map.values()):  # rows the caller read before
        if isinstance(loaded, SealTripState):
            session.expire(loaded)
    mind.keep(kept_trips)
    return IngestResult(
        accepted=len(flat),
        duplicates=duplicates,
        late=late,
        alerts=alerts,
    )


def _write_events(session: Session, taken: Taken, cols: Columns) -> dict[tuple[int, str], int]:
    """The records appended to the log (`chunks.append`); each seal's highest id in the
    batch."""
    if not taken.seats:
        return {}
    events = taken.events
    found = packing.columns(
        taken.ids,
        cols.lat_array[events],
        cols.lon_array[events],
        cols.speed_array[events],
        cols.kind_array[events],
    )
    seat_ids = np.repeat([seat.id for seat in taken.seats], taken.counts)
    chunks.append(session, seat_ids, taken.ms, found)
    tops = np.maximum.reduceat(taken.ids, taken.starts).tolist()
    return {(seat.trip, seat.device): top for seat, top in zip(taken.seats, tops, strict=True)}


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
    tops: dict[tuple[int, str], int],
) -> dict[int, memory.Known]:
    """Each trip's new state and seals' highest ids with a new version; what the process
    keeps of them."""
    if not states:
        return {}
    highest: dict[int, dict[str, int]] = {}
    for (trip_id, device), top in tops.items():
        highest.setdefault(trip_id, {})[device] = top
    changed: list[tuple[int, dict[str, Any], dict[str, int], int]] = []
    kept: dict[int, memory.Known] = {}
    for trip_id, state in states.items():
        version = new_version()
        known = trips[trip_id]
        seqs = known.seqs
        mine = highest.get(trip_id)
        if mine:
            seqs = seqs.copy()
            for device, top in mine.items():
                if top > seqs.get(device, -1):
                    seqs[device] = top
        # the state's own fields, not a copy (`as_json`): written below before anything
        # changes them, and the state kept is never changed in place
        changed.append((trip_id, vars(state), seqs, version))
        kept[trip_id] = known.moved(version, state, seqs)
    bulk.update_many(session, SealTripState, ("state", "seqs", "version"), changed)
    return kept
