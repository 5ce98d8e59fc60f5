"""A movement after its release: at an office of transit (the frontier crossed, IE118), at the
office of destination (arrival, IE006; unloading remarks and control results, IE044 /
IE018), and back at the office of departure (the write-off, IE045, which gives the
guarantee back).

A movement presented at an office of a country on its itinerary other than the one declared
(a diverted transit) is accepted with a notice in its record, as NCTS does: the goods are
under customs control and the office of departure is told where they went. At a country
not on its itinerary the movement is unknown, and refused with that reason: that node never
received its record, so it cannot check the seals or the goods.

A movement addressed to an authorised consignee at its premises (transit.traders) ends there:
the consignee notifies its arrival and gives the unloading remarks, as an officer would at the
office of destination; a trader does neither for any other movement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from onewindow.kit.auth import Principal, Role
from onewindow.kit.errors import Conflict, Forbidden, NotFound, Text, invalid
from onewindow.transit import itinerary, traders
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
    another one here (a diverted transit, accepted with a notice); or the authorised
    consignee notifies their arrival at its premises."""
    actor.require(*OFFICIALS, Role.TRADER)
    movement = _here(session, actor, mrn, office, ctx)
    detail = _by_consignee(session, actor, movement)
    if detail and office != movement.destination_office:
        raise invalid(
            "office", "not_destination",
            Text("an authorised consignee notifies arrival under the office of destination, "
                 "{office}", office=movement.destination_office),
        )  # fmt: skip
    if movement.status not in (EXPECTED, CROSSED_HERE, "enquiry"):  # late goods end it
        raise Conflict(
            Text("movement {mrn} is {status} here: it has arrived already or is closed",
                 mrn=mrn, status=movement.status)
        )  # fmt: skip
    now = ctx.clock.now()
    movement.status = ARRIVED_HERE
    diverted = _diverted(office, [movement.destination_office])
    if diverted:
        movement.note = diverted["notice"]
    detail = detail or diverted
    movement.document = {**movement.document, "arrived_at_office": office}
    note_event(session, movement, "IE007", office, now, detail)
    send_event(session, movement, ARRIVED, office, now)
    return movement


def unload(session: Session, actor: Principal, mrn: str, data: Unloading, ctx: Context) -> Movement:
    """Unloading remarks (seals intact or not, discrepancies) and the control results, sent to
    the office of departure: by an officer, or by the authorised consignee at its premises."""
    actor.require(*OFFICIALS, Role.TRADER)
    movement = get(session, actor, mrn, lock=True)
    by = _by_consignee(session, actor, movement)
    if movement.role == "departure" or movement.status != ARRIVED_HERE:
        raise Conflict(
            Text("movement {mrn} is {status} here: unloading follows its arrival",
                 mrn=mrn, status=movement.status)
        )  # fmt: skip
    now = ctx.clock.now()
    office = movement.document.get("arrived_at_office", movement.destination_office)
    movement.status = UNLOADED
    remarks = {"seals_intact": data.seals_intact, "discrepancies": data.discrepancies}
    note_event(session, movement, "IE044", office, now, {**remarks, **(by or {})})
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


def receives(session: Session, actor: Principal, movement: Movement) -> bool:
    """Whether `actor` is the movement's consignee, authorised at this node (its office of
    destination) at the premises the movement is addressed to."""
    consignee = movement.document.get("consignee") or {}
    premises = consignee.get("premises")
    if movement.role != "destination" or not premises or consignee.get("id") != actor.party_id:
        return False
    return traders.at_premises(traders.find(session, actor.party_id), premises, "consignee")


def _by_consignee(session: Session, actor: Principal, movement: Movement) -> dict[str, str] | None:
    """None for an officer; for a trader, what its act is noted with, if it `receives` the
    movement."""
    if actor.role is not Role.TRADER:
        return None
    if not receives(session, actor, movement):
        raise Forbidden(
            Text("{name} is not this movement's authorised consignee at its premises: the "
                 "goods are presented to an officer at the office of destination",
                 name=actor.name)
        )  # fmt: skip
    return {"by": "authorised consignee", "premises": movement.document["consignee"]["premises"]}


def _here(session: Session, actor: Principal, mrn: str, office: str, ctx: Context) -> Movement:
    if itinerary.office_country(office) != ctx.country:
        raise invalid(
            "office", "not_here", Text("must be an office of {country}", country=ctx.country)
        )
    try:
        return get(session, actor, mrn, lock=True)
    except NotFound:
        if actor.role is Role.TRADER:
            raise
        raise Conflict(
            Text("movement {mrn} is unknown here: {country} is not on its itinerary, so no "
                 "record of it was received; refuse the goods", mrn=mrn, country=ctx.country)
        ) from None  # fmt: skip


def _diverted(office: str, declared: list[str]) -> dict[str, str] | None:
    if office in declared:
        return None
    notice = f"diverted: presented at {office}, declared for {', '.join(declared)}"
    return {"notice": notice}
