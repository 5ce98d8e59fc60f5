"""Movements not ended in time, at their office of departure: the enquiry, then the recovery.

A movement released here and not arrived by its time limit goes to enquiry (NCTS IE140 to
the holder, IE142 to the office of destination): its record's new version tells the other
offices, and the holder sees it on the movement. Goods that arrive during the enquiry end it
as an arrival does. An enquiry unresolved after `enquiry_days` lets an officer call the
guarantee (recovery, at departure, where ACTS lodged it): the amount reserved is taken, not
given back, and the others are told.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit.auth import Principal
from onewindow.kit.errors import Conflict, Text
from onewindow.transit.models import Movement, Reservation
from onewindow.transit.records import note_event, send_record
from onewindow.transit.service import OFFICIALS, RELEASED, Context, events, get

ENQUIRY, RECOVERY = "enquiry", "recovery"


def overdue(session: Session, ctx: Context) -> list[str]:
    """Start an enquiry on every movement released here and not arrived by its time limit;
    their MRNs. Run by `onewindow serve` every hour and by `onewindow transit overdue`."""
    now = ctx.clock.now()
    late = select(Movement).where(
        Movement.role == "departure", Movement.status == RELEASED,
        Movement.time_limit < now.date(),
    ).with_for_update()  # fmt: skip
    started = []
    for movement in session.scalars(late):
        movement.status = ENQUIRY
        note_event(
            session,
            movement,
            "IE140",
            movement.departure_office,
            now,
            {"time_limit": movement.time_limit.isoformat() if movement.time_limit else ""},
        )
        send_record(session, movement, ENQUIRY, now)  # IE142 to the others
        started.append(movement.mrn)
    return started


def recover(session: Session, actor: Principal, mrn: str, note: str, ctx: Context) -> Movement:
    """Call the guarantee of a movement whose enquiry has lasted `enquiry_days` unresolved."""
    actor.require(*OFFICIALS)
    movement = get(session, actor, mrn, lock=True)
    now = ctx.clock.now()
    if movement.role != "departure" or movement.status != ENQUIRY:
        raise Conflict(
            Text("movement {mrn} is {status}: only a movement under enquiry is recovered",
                 mrn=mrn, status=movement.status)
        )  # fmt: skip
    started = _enquiry_started(movement, session)
    if started is not None and now < started + timedelta(days=ctx.enquiry_days):
        until = (started + timedelta(days=ctx.enquiry_days)).date().isoformat()
        raise Conflict(
            Text("the enquiry on {mrn} runs until {until}: the holder and the destination may "
                 "still answer", mrn=mrn, until=until)
        )  # fmt: skip
    movement.status, movement.note = RECOVERY, note
    held = session.scalar(
        select(Reservation).where(Reservation.mrn == mrn, Reservation.status == "held")
    )
    if held is not None:
        held.status = "called"
    note_event(session, movement, "IE152", movement.departure_office, now, {"note": note})
    send_record(session, movement, RECOVERY, now)
    return movement


def _enquiry_started(movement: Movement, session: Session) -> datetime | None:
    found = [e.at for e in events(session, movement) if e.kind == "IE140"]
    return found[-1] if found else None
