"""Trips under seal: registered by their caller (the transit domain, when it releases a
movement), ended at the destination, read with their alerts and track; alerts acknowledged by
officers; the sweep that finds trips gone silent between events. Events come in through
`intake.py`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.errors import Conflict, FieldError, InvalidInput, NotFound, Text
from onewindow.seals import chunks, packing, rules
from onewindow.seals.intake import (
    alert_read,
    alert_row,
    at_of,
    limits_of,
    ms_of,
    plan_of,
)
from onewindow.seals.models import (
    SealAlert,
    SealDevice,
    SealTrip,
    SealTripState,
    TripSeal,
    new_version,
)
from onewindow.seals.schemas import AlertRead, Track, TrackPoint, TripCreate, TripRead


def _trip(session: Session, reference: str, *, lock: bool = False) -> SealTrip:
    query = select(SealTrip).where(SealTrip.reference == reference)
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(Text("no trip {reference} is under seal here", reference=reference))
    return found


def _state(session: Session, trip_id: int, *, lock: bool = False) -> SealTripState:
    found = session.get(SealTripState, trip_id, with_for_update=lock, populate_existing=True)
    assert found is not None  # every trip has one (register_trip, seals_0003)
    return found


def register_trip(session: Session, trip: TripCreate, *, now: datetime, actor: str) -> TripRead:
    """A trip under seal from now: its seals must be registered and on no other active trip."""
    if session.scalar(select(SealTrip.id).where(SealTrip.reference == trip.reference)):
        raise Conflict(Text("trip {reference} is registered already", reference=trip.reference))
    known = set(session.scalars(select(SealDevice.id).where(SealDevice.id.in_(trip.seals))))
    busy = dict(
        session.execute(
            select(TripSeal.device_id, SealTrip.reference)
            .join(SealTrip, SealTrip.id == TripSeal.trip_id)
            .where(TripSeal.device_id.in_(trip.seals), TripSeal.active)
        ).all()
    )
    errors = []
    for n, seal in enumerate(trip.seals):
        if seal in trip.seals[:n]:
            errors.append(FieldError(f"seals.{n}", "duplicate", f"{seal} is listed twice"))
        elif seal not in known:
            errors.append(
                FieldError(f"seals.{n}", "unknown_device", f"no seal {seal} is registered")
            )
        elif seal in busy:
            errors.append(
                FieldError(
                    f"seals.{n}",
                    "seal_in_use",
                    f"seal {seal} is on trip {busy[seal]}, still active",
                )
            )
    if errors:
        raise InvalidInput(errors)
    row = SealTrip(
        reference=trip.reference,
        status="active",
        route=trip.route.model_dump(mode="json"),
        corridor_m=trip.corridor_m,
        stops=[s.model_dump(mode="json") for s in trip.stops],
        max_stop_s=trip.max_stop_minutes * 60,
        max_silence_s=trip.max_silence_minutes * 60,
        destination_office=trip.destination.office,
        destination_lat=trip.destination.lat,
        destination_lon=trip.destination.lon,
        destination_radius_m=trip.destination.radius_m,
        registered_at=now,
    )
    plan_of(row)  # a route the projection cannot take fails here, not at the first event
    session.add(row)
    session.flush()
    session.add(
        SealTripState(
            trip_id=row.id,
            # silence counts from the registration: a seal never heard is silent too
            state=rules.TripState(heard_ms=ms_of(now)).as_json(),
            seqs={},
            version=new_version(),
        )
    )
    session.add_all(TripSeal(trip_id=row.id, device_id=seal, active=True) for seal in trip.seals)
    audit.record(
        session,
        at=now,
        actor=actor,
        action="seal_trip.registered",
        entity_type="seal_trip",
        entity_id=trip.reference,
        to_status="active",
        detail={"seals": trip.seals},
    )
    session.flush()
    return read_trip(session, row)


def end_trip(
    session: Session, reference: str, *, office: str, now: datetime, actor: str
) -> TripRead:
    """The seals released at `office`: at another than the destination, a `wrong_arrival`
    alert (once). The seals are free for another trip; late events still find this one."""
    row = _trip(session, reference, lock=True)
    if row.status != "active":
        raise Conflict(Text("trip {reference} ended already", reference=reference))
    kept = _state(session, row.id, lock=True)
    state = rules.TripState.of(kept.state)
    if office != row.destination_office and not state.wrong_arrival:
        state.wrong_arrival = True
        detail = f"ended at office {office}, not the destination {row.destination_office}"
        alert = rules.Alert("wrong_arrival", ms_of(now), state.lat, state.lon, None, detail)
        session.add(alert_row(row.id, alert, now))
    kept.state, kept.version = state.as_json(), new_version()
    row.status, row.ended_at, row.ended_office = "ended", now, office
    for seat in session.scalars(select(TripSeal).where(TripSeal.trip_id == row.id)):
        seat.active = False
    audit.record(
        session,
        at=now,
        actor=actor,
        action="seal_trip.ended",
        entity_type="seal_trip",
        entity_id=reference,
        from_status="active",
        to_status="ended",
        detail={"office": office},
    )
    session.flush()
    return read_trip(session, row)


def read_trip(session: Session, row: SealTrip) -> TripRead:
    seals = list(session.scalars(select(TripSeal.device_id).where(TripSeal.trip_id == row.id)))
    state = rules.TripState.of(_state(session, row.id).state)
    return TripRead(
        reference=row.reference,
        status=row.status,
        seals=sorted(seals),
        corridor_m=row.corridor_m,
        destination_office=row.destination_office,
        registered_at=row.registered_at,
        ended_at=row.ended_at,
        ended_office=row.ended_office,
        last_at=None if state.last_ms is None else at_of(state.last_ms),
        lat=state.lat,
        lon=state.lon,
        alerts=_alerts_of(session, [row]),
    )


def trip(session: Session, reference: str) -> TripRead:
    return read_trip(session, _trip(session, reference))


def trips(session: Session, *, status: str | None = None, limit: int = 100) -> list[TripRead]:
    query = select(SealTrip).order_by(SealTrip.registered_at.desc(), SealTrip.id.desc())
    if status:
        query = query.where(SealTrip.status == status)
    return [read_trip(session, row) for row in session.scalars(query.limit(limit))]


def _alerts_of(session: Session, rows: list[SealTrip]) -> list[AlertRead]:
    refs = {r.id: r.reference for r in rows}
    query = select(SealAlert).where(SealAlert.trip_id.in_(refs)).order_by(SealAlert.at)
    return [alert_read(a, refs[a.trip_id]) for a in session.scalars(query)]


def alerts(
    session: Session,
    *,
    reference: str | None = None,
    open_only: bool = False,
    limit: int = 200,
) -> list[AlertRead]:
    """Alerts newest first: of one trip, or of every trip (an officer's list)."""
    query = (
        select(SealAlert, SealTrip.reference)
        .join(SealTrip, SealTrip.id == SealAlert.trip_id)
        .order_by(SealAlert.at.desc(), SealAlert.id.desc())
        .limit(limit)
    )
    if reference is not None:
        query = query.where(SealTrip.id == _trip(session, reference).id)
    if open_only:
        query = query.where(SealAlert.acknowledged_at.is_(None))
    return [alert_read(a, ref) for a, ref in session.execute(query)]


def alerts_after(session: Session, after: int, limit: int = 500) -> list[AlertRead]:
    """The alerts raised since alert `after` (ids grow), oldest first: for a domain that
    passes them on."""
    query = (
        select(SealAlert, SealTrip.reference)
        .join(SealTrip, SealTrip.id == SealAlert.trip_id)
        .where(SealAlert.id > after)
        .order_by(SealAlert.id)
        .limit(limit)
    )
    return [alert_read(a, ref) for a, ref in session.execute(query)]


def acknowledge(
    session: Session, reference: str, alert_id: int, *, note: str, actor: str, now: datetime
) -> AlertRead:
    row = _trip(session, reference)
    alert = session.get(SealAlert, alert_id, with_for_update=True)
    if alert is None or alert.trip_id != row.id:
        raise NotFound(Text("trip {reference} has no alert {id}", reference=reference, id=alert_id))
    if alert.acknowledged_at is not None:
        raise Conflict(
            Text(
                "alert {id} was acknowledged by {who} already",
                id=alert_id,
                who=alert.acknowledged_by,
            )
        )
    alert.acknowledged_at, alert.acknowledged_by, alert.note = now, actor, note
    audit.record(
        session,
        at=now,
        actor=actor,
        action="seal_alert.acknowledged",
        entity_type="seal_trip",
        entity_id=reference,
        detail={"alert": alert_id, "note": note},
    )
    session.flush()
    return alert_read(alert, reference)


def track(session: Session, reference: str) -> Track:
    """Every event of the trip that had a position, in time order."""
    row = _trip(session, reference)
    points = []
    for device, ms, found in chunks.of_trip(session, row.id):
        placed = found["lat"] != packing.NO_COORD
        found = found[placed]
        times = ms[placed].tolist()
        lats = (found["lat"] / packing.SCALE).tolist()
        lons = (found["lon"] / packing.SCALE).tolist()
        speeds = (found["speed"] / 10).tolist()
        kinds = found["kind"].tolist()
        points += [
            (times[n], device, packing.KINDS[kinds[n]], lats[n], lons[n], speeds[n])
            for n in range(len(times))
        ]
    points.sort()
    return Track(
        reference=reference,
        points=[
            TrackPoint(at=at_of(ms), device=device, kind=kind, lat=lat, lon=lon, speed=speed)
            for ms, device, kind, lat, lon, speed in points
        ],
    )


def sweep(session: Session, *, now: datetime) -> list[AlertRead]:
    """A `silence` alert for each active trip not heard for longer than its limit (once per
    episode: the next event ends it). Run every minute or so beside serving."""
    raised = []
    now_ms = ms_of(now)
    query = (
        select(SealTrip, SealTripState)
        .join(SealTripState, SealTripState.trip_id == SealTrip.id)
        .where(SealTrip.status == "active")
        .with_for_update(of=SealTripState)
    )
    for row, kept in session.execute(query):
        state = rules.TripState.of(kept.state)
        alert = rules.silence(state, now_ms, limits_of(row), None)
        if alert is not None:
            kept.state, kept.version = state.as_json(), new_version()
            found = alert_row(row.id, alert, now)
            session.add(found)
            raised.append((found, row.reference))
    session.flush()
    return [alert_read(a, ref) for a, ref in raised]
