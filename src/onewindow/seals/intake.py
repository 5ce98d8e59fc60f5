"""Taking a batch of seal events: checked whole (one bad event refuses the batch, every
problem named, nothing stored), duplicates dropped, each trip's events run through the rules
in time order, and what changed written with one statement per table.

Per batch, whatever its size: one query for the devices, one for their trips (locked on
PostgreSQL, so that two batches of one trip take turns), one for the open chunks, and a query
per seal whose event ids go back below its highest (duplicates or late events, rare). The
geometry of a trip's positions is measured in one call per trip (`geometry.Plan.measure`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.kit.errors import FieldError, InvalidInput, Text
from onewindow.seals import packing, rules
from onewindow.seals.geometry import Circle, Plan, plan
from onewindow.seals.models import EventChunk, SealAlert, SealDevice, SealTrip, TripSeal
from onewindow.seals.schemas import AlertRead, EventIn, IngestResult

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
FUTURE = timedelta(minutes=5)  # a device's clock a little ahead is tolerated, no more
MAX_ERRORS = 100
_CHANGING = ("count", "seq_from", "seq_to", "full", "data")  # of an open chunk


@dataclass(frozen=True)
class Source:
    """Who sent the batch: a platform (only for its own devices) or one device."""

    platform: str | None = None
    device: str | None = None


def ms_of(at: datetime) -> int:
    return (at - EPOCH) // MS


def at_of(ms: int) -> datetime:
    return EPOCH + ms * MS


def plan_of(trip: SealTrip) -> Plan:
    route = tuple((float(x), float(y)) for x, y in trip.route["coordinates"])
    stops = tuple(Circle(s["lat"], s["lon"], s["radius_m"]) for s in trip.stops)
    return plan(
        route, stops, Circle(trip.destination_lat, trip.destination_lon, trip.destination_radius_m)
    )


def limits_of(trip: SealTrip) -> rules.Limits:
    return rules.Limits(trip.corridor_m, trip.max_stop_s * 1000, trip.max_silence_s * 1000)


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


def alert_row(trip: SealTrip, alert: rules.Alert, now: datetime) -> SealAlert:
    return SealAlert(
        trip_id=trip.id,
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


def _check_each(events: Sequence[EventIn], now: datetime, problems: _Problems) -> None:
    latest = now + FUTURE
    for n, e in enumerate(events):
        if (e.lat is None) != (e.lon is None):
            missing = "lat" if e.lat is None else "lon"
            problems.add(n, missing, "missing", "give lat and lon together, or neither")
        elif e.kind == "position" and e.lat is None:
            problems.add(n, "lat", "missing", "a position needs lat and lon")
        if e.at > latest:
            problems.add(n, "at", "in_future", f"{e.at.isoformat()} is ahead of this node's clock")


def _seats(
    session: Session, devices: set[str]
) -> tuple[dict[str, SealDevice], dict[str, list[tuple[TripSeal, SealTrip]]]]:
    if not devices:
        return {}, {}
    found = {d.id: d for d in session.scalars(select(SealDevice).where(SealDevice.id.in_(devices)))}
    seats: dict[str, list[tuple[TripSeal, SealTrip]]] = defaultdict(list)
    query = (
        select(TripSeal, SealTrip)
        .join(SealTrip, SealTrip.id == TripSeal.trip_id)
        .where(TripSeal.device_id.in_(found))
        .order_by(SealTrip.registered_at.desc(), SealTrip.id.desc())
        .with_for_update(of=SealTrip)
    )
    for seat, trip in session.execute(query):
        seats[seat.device_id].append((seat, trip))
    return found, seats


def _trip_for(seats: list[tuple[TripSeal, SealTrip]], at: datetime) -> tuple[TripSeal, SealTrip]:
    """The trip the device was on at `at`: an ended one whose time covers it (a late event),
    else its active trip; else none (KeyError)."""
    for seat, trip in seats:
        if trip.ended_at is not None and trip.registered_at <= at <= trip.ended_at:
            return seat, trip
    for seat, trip in seats:
        if trip.status == "active":
            return seat, trip
    raise KeyError(at)


def _place(
    session: Session, events: Sequence[EventIn], source: Source, problems: _Problems
) -> dict[int, tuple[TripSeal, SealTrip]]:
    """Each event's trip and seat, or a problem naming the device. What depends only on the
    device is found once per device: a batch holds many events of each."""
    devices, seats = _seats(session, {e.device for e in events})
    refused: dict[str, tuple[str, str]] = {}
    active: dict[str, tuple[TripSeal, SealTrip]] = {}
    for name in {e.device for e in events}:
        device = devices.get(name)
        if device is None:
            refused[name] = ("unknown_device", f"no seal {name} is registered")
        elif (source.platform is not None and device.platform != source.platform) or (
            source.device is not None and name != source.device
        ):
            refused[name] = ("not_your_device", f"seal {name} does not report through this sender")
        elif not any(trip.ended_at is not None for _, trip in seats.get(name, [])):
            found = [(seat, trip) for seat, trip in seats.get(name, []) if trip.status == "active"]
            if found:
                active[name] = found[0]
    placed: dict[int, tuple[TripSeal, SealTrip]] = {}
    for n, e in enumerate(events):
        name = e.device
        if name in active:
            placed[n] = active[name]
        elif name in refused:
            problems.add(n, "device", *refused[name])
        else:
            try:
                placed[n] = _trip_for(seats.get(name, []), e.at)
            except KeyError:
                problems.add(n, "device", "not_on_trip", f"seal {name} is on no trip now")
    return placed


def _stored_seqs(session: Session, trip_id: int, device: str, low: int, high: int) -> set[int]:
    query = select(EventChunk.data).where(
        EventChunk.trip_id == trip_id,
        EventChunk.device_id == device,
        EventChunk.seq_to >= low,
        EventChunk.seq_from <= high,
    )
    seqs: set[int] = set()
    for data in session.scalars(query):
        seqs.update(packing.unpack(data)["seq"].tolist())
    return seqs


def ingest(
    session: Session, events: Sequence[EventIn], *, source: Source, now: datetime
) -> IngestResult:
    """Take a batch: all of it, or (InvalidInput, every problem by its `events.N.field`)
    nothing of it."""
    problems = _Problems()
    _check_each(events, now, problems)
    placed = _place(session, events, source, problems)
    problems.raise_any()
    groups: dict[tuple[int, str], list[EventIn]] = defaultdict(list)
    seats: dict[tuple[int, str], TripSeal] = {}
    trips: dict[int, SealTrip] = {}
    for n, e in enumerate(events):
        seat, trip = placed[n]
        groups[(trip.id, e.device)].append(e)
        seats[(trip.id, e.device)] = seat
        trips[trip.id] = trip
    fresh: dict[tuple[int, str], list[EventIn]] = {}
    duplicates = 0
    for key, items in groups.items():
        seat = seats[key]
        older = [e.id for e in items if e.id <= seat.last_seq]
        stored = _stored_seqs(session, *key, min(older), max(older)) if older else set()
        seen: set[int] = set()
        kept = []
        for e in items:
            if e.id in seen or e.id in stored:
                duplicates += 1
                continue
            seen.add(e.id)
            kept.append(e)
        fresh[key] = kept
    times = {id(e): ms_of(e.at) for items in fresh.values() for e in items}
    late, raised = _evaluate(session, trips, fresh, times, now)
    _write_chunks(session, fresh, times)
    _write_seats(session, seats, fresh)
    return IngestResult(
        accepted=sum(map(len, fresh.values())),
        duplicates=duplicates,
        late=late,
        alerts=[alert_read(row, trips[row.trip_id].reference) for row in raised],
    )


def _evaluate(
    session: Session,
    trips: dict[int, SealTrip],
    fresh: dict[tuple[int, str], list[EventIn]],
    times: dict[int, int],
    now: datetime,
) -> tuple[int, list[SealAlert]]:
    per_trip: dict[int, list[EventIn]] = defaultdict(list)
    for (trip_id, _), items in fresh.items():
        per_trip[trip_id].extend(items)
    late = 0
    raised: list[SealAlert] = []
    changed: list[dict[str, Any]] = []
    for trip_id, items in per_trip.items():
        if not items:
            continue
        trip = trips[trip_id]
        items.sort(key=lambda e: (times[id(e)], e.device, e.id))
        measured = _measure(trip, items, times)
        state = rules.TripState.of(trip.state)
        limits = limits_of(trip)
        for event in measured:
            if state.last_ms is not None and event.ms <= state.last_ms:
                late += 1
            raised += [alert_row(trip, a, now) for a in rules.step(state, event, limits)]
        changed.append(
            {
                "b_id": trip.id,
                "b_state": state.as_json(),
                "b_last": None if state.last_ms is None else at_of(state.last_ms),
            }
        )
    if changed:
        table = db.table(SealTrip)
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(state=bindparam("b_state"), last_at=bindparam("b_last"))
        )
        session.connection().execute(statement, changed)
        for trip_id in (c["b_id"] for c in changed):
            session.expire(trips[trip_id])
    session.add_all(raised)
    session.flush()
    return late, raised


def _measure(trip: SealTrip, items: list[EventIn], times: dict[int, int]) -> list[rules.Event]:
    where = [n for n, e in enumerate(items) if e.lat is not None and e.lon is not None]
    off = np.zeros(len(items))
    in_stop = np.zeros(len(items), dtype=bool)
    at_destination = np.zeros(len(items), dtype=bool)
    if where:
        lats = np.array([items[n].lat for n in where], dtype=float)
        lons = np.array([items[n].lon for n in where], dtype=float)
        m = plan_of(trip).measure(lats, lons)
        off[where], in_stop[where], at_destination[where] = (
            m.off_route_m,
            m.in_stop,
            m.at_destination,
        )
    off_list, stop_list, dest_list = off.tolist(), in_stop.tolist(), at_destination.tolist()
    return [
        rules.Event(
            times[id(e)],
            e.kind,
            e.device,
            e.lat,
            e.lon,
            e.speed,
            off_list[n],
            stop_list[n],
            dest_list[n],
        )
        for n, e in enumerate(items)
    ]


def _write_chunks(
    session: Session, fresh: dict[tuple[int, str], list[EventIn]], times: dict[int, int]
) -> None:
    keys = [k for k, items in fresh.items() if items]
    if not keys:
        return
    trip_ids = {trip_id for trip_id, _ in keys}
    open_chunks = {
        (c.trip_id, c.device_id): c
        for c in session.scalars(
            select(EventChunk).where(EventChunk.trip_id.in_(trip_ids), EventChunk.full.is_(False))
        )
    }
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for key in keys:
        rows = [(e.id, times[id(e)], e.lat, e.lon, e.speed, e.kind) for e in fresh[key]]
        chunk = open_chunks.get(key)
        current: dict[str, Any] | None = None
        if chunk is not None:
            current = {
                "id": chunk.id,
                "base_ms": chunk.base_ms,
                "count": chunk.count,
                "seq_from": chunk.seq_from,
                "seq_to": chunk.seq_to,
                "full": False,
                "data": chunk.data,
                "rows": [],
            }
        parts = [] if current is None else [current]
        for row in rows:
            if (
                current is None
                or current["count"] >= packing.CHUNK
                or not packing.fits(current["base_ms"], row[1])
            ):
                if current is not None:
                    current["full"] = True
                current = {
                    "id": None,
                    "base_ms": row[1],
                    "count": 0,
                    "seq_from": row[0],
                    "seq_to": row[0],
                    "full": False,
                    "data": b"",
                    "rows": [],
                }
                parts.append(current)
            current["rows"].append(row)
            current["count"] += 1
            current["seq_from"] = min(current["seq_from"], row[0])
            current["seq_to"] = max(current["seq_to"], row[0])
        for part in parts:
            data = packing.join(part["data"], packing.records(part["base_ms"], part["rows"]))
            values = {
                "trip_id": key[0],
                "device_id": key[1],
                "base_ms": part["base_ms"],
                "count": part["count"],
                "seq_from": part["seq_from"],
                "seq_to": part["seq_to"],
                "full": part["full"],
                "data": data,
            }
            if part["id"] is None:
                inserts.append(values)
            else:
                updates.append({"b_id": part["id"]} | {f"b_{k}": values[k] for k in _CHANGING})
    if updates:
        table = db.table(EventChunk)
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in _CHANGING})
        )
        session.connection().execute(statement, updates)
        for chunk in open_chunks.values():
            session.expire(chunk)
    db.insert_many(session, EventChunk, inserts)


def _write_seats(
    session: Session, seats: dict[tuple[int, str], TripSeal], fresh: dict[tuple[int, str], list]
) -> None:
    changed = []
    for key, items in fresh.items():
        if not items:
            continue
        seat = seats[key]
        top = max(e.id for e in items)
        if top > seat.last_seq:
            changed.append({"b_id": seat.id, "b_seq": top})
    if changed:
        table = db.table(TripSeal)
        statement = (
            update(table).where(table.c.id == bindparam("b_id")).values(last_seq=bindparam("b_seq"))
        )
        session.connection().execute(statement, changed)
        for seat in seats.values():
            session.expire(seat)
