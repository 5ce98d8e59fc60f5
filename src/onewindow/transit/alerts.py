"""E-seal alerts passed on to the next office on a movement's itinerary.

A movement's seals report to its office of departure's node (the seals domain), which raises
the alerts. The officers who next see the truck are at the next office on its itinerary: the
first office of transit whose frontier crossing has not been reported, else the destination;
once the goods have arrived, the office where they did. `forward` (every few seconds in
`onewindow serve`) sends each new alert of a movement declared here to that office's node as
a signed `TRANSIT_ALERT`, in the transaction that notes it as passed on: an alert is sent
once, and none is lost when the node stops between two rounds. An alert for an office of
this country is noted and not sent: its officers see it here.

That node keeps it with the movement (`on_alert`), whether or not the movement's record has
come yet: documents are retried each on their own, so an alert may come first.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onewindow import seals
from onewindow.exchange import Incoming
from onewindow.kit.errors import Text, invalid
from onewindow.logged import send_logged
from onewindow.transit import itinerary, repository
from onewindow.transit.documents import ALERT, CROSSED
from onewindow.transit.models import Alert, Movement, MovementEvent, Sequence
from onewindow.transit.service import Context

BATCH = 500
ALERTS = "alerts"  # the cursor's row among the sequences
CURSOR = (Sequence.kind == ALERTS) & (Sequence.year == 0)


def forward(session: Session, ctx: Context) -> int:
    """Pass on the alerts raised since the last round: how many were noted. One round at a
    time: its first statement locks the cursor (the last alert noted)."""
    after = _cursor(session)
    raised = seals.alerts_after(session, after, BATCH)
    movements = {
        m.mrn: m
        for m in session.scalars(
            select(Movement).where(
                Movement.mrn.in_({a.reference for a in raised}), Movement.role == "departure"
            )
        )
    }
    now = ctx.clock.now()
    for alert in raised:
        movement = movements.get(alert.reference)
        if movement is None:  # a trip that is not a transit movement of this node
            continue
        office = next_office(session, movement)
        country = itinerary.office_country(office)
        sent_to = country if country != ctx.country else None
        session.add(
            Alert(
                mrn=movement.mrn, country=ctx.country, alert_id=alert.id, kind=alert.kind,
                office=office, at=alert.at, lat=alert.lat, lon=alert.lon, device=alert.device,
                detail=alert.detail, sent_to=sent_to, noted_at=now,
            )
        )  # fmt: skip
        if sent_to:
            _send(session, movement, alert, office, sent_to, now)
    if raised:
        session.execute(update(Sequence).where(CURSOR).values(last=raised[-1].id))
    session.flush()
    return len(raised)


def _cursor(session: Session) -> int:
    """The id of the last alert noted, its row locked until the transaction ends."""
    row = {"the_kind": ALERTS, "the_year": 0}
    postgresql = session.get_bind().dialect.name == "postgresql"
    session.execute(repository.NEW_SEQUENCE[postgresql], row)
    return int(session.execute(repository.HOLD_SEQUENCE, row).scalar_one())


def next_office(session: Session, movement: Movement) -> str:
    """Where the truck is expected next: where it arrived, else the first office of transit
    not crossed, else the destination."""
    events = session.execute(
        select(MovementEvent.kind, MovementEvent.office).where(
            MovementEvent.movement_id == movement.id
        )
    ).all()
    arrived = [office for kind, office in events if kind == "IE006"]
    if arrived:
        return arrived[0]
    crossed = {office for kind, office in events if kind == CROSSED}
    ahead = [o for o in movement.transit_offices if o not in crossed]
    return ahead[0] if ahead else movement.destination_office


def _send(
    session: Session, movement: Movement, alert: seals.AlertRead, office: str, to: str,
    now: datetime,
) -> None:  # fmt: skip
    sender = movement.mrn[2:4]
    payload = {
        "mrn": movement.mrn, "departure_country": sender, "alert_id": alert.id,
        "kind": alert.kind, "office": office, "at": alert.at, "detail": alert.detail,
    }  # fmt: skip
    for key, value in (("lat", alert.lat), ("lon", alert.lon), ("device", alert.device)):
        if value is not None:
            payload[key] = value if key == "device" else Decimal(str(value))
    send_logged(
        session, sender=sender, receiver=to, document_type=ALERT,
        document_id=f"{movement.mrn}-ALERT-{alert.id}", version=1, payload=payload, now=now,
    )  # fmt: skip


def on_alert(session: Session, message: Incoming) -> None:
    """An alert from a movement's office of departure, for an office here."""
    data = message.payload
    if itinerary.office_country(data["office"]) != message.receiver:
        raise invalid(
            "office", "not_here", Text("{office} is not an office of {here}",
                                       office=data["office"], here=message.receiver),
        )  # fmt: skip
    known = session.scalar(
        select(Alert.id).where(Alert.country == message.sender, Alert.alert_id == data["alert_id"])
    )
    if known is not None:  # the same alert again: kept once
        return
    session.add(
        Alert(
            mrn=data["mrn"], country=message.sender, alert_id=data["alert_id"],
            kind=data["kind"], office=data["office"], at=data["at"],
            lat=_float(data.get("lat")), lon=_float(data.get("lon")), device=data.get("device"),
            detail=data["detail"], sent_to=None, noted_at=message.received_at,
        )
    )  # fmt: skip


def received(session: Session, mrn: str, here: str) -> list[Alert]:
    """The alerts on movement `mrn` its office of departure passed on to this node."""
    stmt = select(Alert).where(Alert.mrn == mrn, Alert.country != here)
    return list(session.scalars(stmt.order_by(Alert.at, Alert.id)))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
