"""A movement after its release: at an office of transit (the frontier crossed, IE118), at the
office of destination (arrival, IE006; unloading remarks and control results, IE044 /
IE018), and back at the office of departure (the write-off, IE045, which gives the
guarantee back).

A movement presented at an office of a country on its itinerary other than the one declared
(a diverted transit) is accepted with a notice in its record, as NCTS does: the goods are
under customs control and the office of departure is told where they went. At a country
not on its itinerary the movement is unknown, and refused with that reason: that node never
received its record, so it cannot check the seals or the goods.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from onewindow.kit.auth import Principal
from onewindow.kit.errors import Conflict, NotFound, Text, invalid
from onewindow.transit import itinerary
from onewindow.transit.documents import ARRIVED, CONTROLLED, CROSSED
from onewindow.transit.models import Movement
from onewindow.transit.records import note_event, send_event, send_record
from onewindow.transit.schemas import Unloading
from onewindow.transit.service import OFFICIALS, Context, close, get

# Statuses of a movement at an office of transit or destination.
EXPECTED, CROSSED_HERE, ARRIVED_HERE, UNLOADED = "expected", "crossed", "arrived", "unloaded"
# At departure, after arrival: control results awaited, received with remarks, written off.
DISCREPANCIES, DISCHARGED = "discrepancies", "discharged"


def cross(session: Session, actor: Principal, mrn: str, office: str, ctx: Context) -> Movement:
    """The movement crosses the frontier at `office`, an office of transit of this country."""
    actor.require(*OFFICIALS)
    movement = _here(session, actor, mrn, office, ctx)
    if movement.role != "transit" or movement.status != EXPECTED:
        raise Conflict(
            Text("movement {mrn} is {status} here: a frontier crossing is recorded once, at "
                 "an office of transit", mrn=mrn, status=movement.status)
        )  # fmt: skip
    now = ctx.clock.now()
    movement.status = CROSSED_HERE
    detail = _diverted(office, movement.transit_offices)
    note_event(session, movement, CROSSED, office, now, detail)
    send_event(session, movement, CROSSED, office, now)
    return movement


def arrive(session: Session, actor: Principal, mrn: str, office: str, ctx: Context) -> Movement:
    """The goods are presented at `office` of this country: the office of destination, or
    another one here (a diverted transit, accepted with a notice)."""
    actor.require(*OFFICIALS)
    movement = _here(session, actor, mrn, office, ctx)
    if movement.status not in (EXPECTED, CROSSED_HERE, "enquiry"):  # late goods end it
        raise Conflict(
            Text("movement {mrn} is {status} here: it has arrived already or is closed",
                 mrn=mrn, status=movement.status)
        )  # fmt: skip
    now = ctx.clock.now()
    movement.status = ARRIVED_HERE
    detail = _diverted(office, [movement.destination_office])
    if detail:
        movement.note = detail["notice"]
    movement.document = {**movement.document, "arrived_at_office": office}
    note_event(session, movement, "IE007", office, now, detail)
    send_event(session, movement, ARRIVED, office, now)
    return movement


def unload(session: Session, actor: Principal, mrn: str, data: Unloading, ctx: Context) -> Movement:
    """Unloading remarks (seals intact or not, discrepancies) and the control results, sent to
    the office of departure."""
    actor.require(*OFFICIALS)
    movement = get(session, actor, mrn, lock=True)
    if movement.role == "departure" or movement.status != ARRIVED_HERE:
        raise Conflict(
            Text("movement {mrn} is {status} here: unloading follows its arrival",
                 mrn=mrn, status=movement.status)
        )  # fmt: skip
    now = ctx.clock.now()
    office = movement.document.get("arrived_at_office", movement.destination_office)
    movement.status = UNLOADED
    remarks = {"seals_intact": data.seals_intact, "discrepancies": data.discrepancies}
    note_event(session, movement, "IE044", office, now, remarks)
    send_event(session, movement, CONTROLLED, office, now, **remarks)
    return movement


def discharge(session: Session, actor: Principal, mrn: str, note: str, ctx: Context) -> Movement:
    """An officer of departure writes off a movement whose control results had remarks."""
    actor.require(*OFFICIALS)
    movement = get(session, actor, mrn, lock=True)
    if movement.role != "departure" or movement.status != DISCREPANCIES:
        raise Conflict(
            Text("movement {mrn} is {status}: an officer writes off only a movement whose "
                 "control results had remarks", mrn=mrn, status=movement.status)
        )  # fmt: skip
    movement.note = note
    write_off(session, movement, ctx.clock.now())
    return movement


def write_off(session: Session, movement: Movement, now: datetime) -> None:
    """Discharge at departure (IE045): the guarantee given back, the others told."""
    movement.status = DISCHARGED
    note_event(session, movement, "IE045", movement.departure_office, now)
    close(session, movement.mrn, now)
    send_record(session, movement, "discharged", now)


def _here(session: Session, actor: Principal, mrn: str, office: str, ctx: Context) -> Movement:
    if itinerary.office_country(office) != ctx.country:
        raise invalid(
            "office", "not_here", Text("must be an office of {country}", country=ctx.country)
        )
    try:
        return get(session, actor, mrn, lock=True)
    except NotFound:
        raise Conflict(
            Text("movement {mrn} is unknown here: {country} is not on its itinerary, so no "
                 "record of it was received; refuse the goods", mrn=mrn, country=ctx.country)
        ) from None  # fmt: skip


def _diverted(office: str, declared: list[str]) -> dict[str, str] | None:
    if office in declared:
        return None
    notice = f"diverted: presented at {office}, declared for {', '.join(declared)}"
    return {"notice": notice}
