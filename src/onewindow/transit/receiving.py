"""Transit documents from partners. Handlers run in the exchange's receiving transaction, after
the gateway checked the signature and the issuer (a TRANSIT_RECORD only from the MRN's
country; a TRANSIT_EVENT only to it); raising InvalidInput rejects the message with coded
reasons on the signed receipt, and stores nothing."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow import seals
from onewindow.exchange import Incoming, register_handler
from onewindow.kit.db import jsonable
from onewindow.kit.errors import Text, invalid
from onewindow.logged import logged
from onewindow.transit import itinerary
from onewindow.transit.alerts import on_alert
from onewindow.transit.documents import ALERT, ARRIVED, CONTROLLED, EVENT, RECORD
from onewindow.transit.enquiry import ENQUIRY
from onewindow.transit.models import Movement
from onewindow.transit.offices import DISCREPANCIES, EXPECTED, write_off
from onewindow.transit.records import note_event
from onewindow.transit.service import RELEASED

log = logging.getLogger("onewindow.transit")
ARRIVED_THERE = "arrived"  # at departure: the goods arrived at destination
# What a record's status is as an event, at an office of transit or destination.
RECORD_EVENTS = {
    "released": "IE001",
    "discharged": "IE045",
    "enquiry": "IE142",
    "recovery": "IE152",
}
# A movement's status here once its departure says it is written off or under enquiry.
RECORD_STATUSES = {"discharged": "discharged", "enquiry": "enquiry", "recovery": "recovery"}


def on_record(session: Session, message: Incoming) -> None:
    """A movement released (or written off, or under enquiry) by its office of departure: kept
    here as an office of transit or of destination on its itinerary."""
    data = message.payload
    here = message.receiver
    offices = [data["departure_office"], *data.get("transit_offices", []),
               data["destination_office"]]  # fmt: skip
    if here not in {itinerary.office_country(o) for o in offices[1:]}:
        raise invalid(
            "destination_office", "not_on_itinerary",
            Text("{here} is not on this movement's itinerary", here=here),
        )  # fmt: skip
    movement = session.scalar(select(Movement).where(Movement.mrn == data["mrn"]))
    if movement is None:
        role = (
            "destination"
            if itinerary.office_country(data["destination_office"]) == here
            else "transit"
        )
        movement = Movement(mrn=data["mrn"], role=role, status=EXPECTED, grn="-")
        session.add(movement)
    elif movement.role == "departure":
        raise invalid("mrn", "conflict", Text("movement {mrn} was declared here", mrn=data["mrn"]))
    countries = list(dict.fromkeys(itinerary.office_country(o) for o in offices))
    movement.holder_id, movement.holder_name = data["holder_id"], data["holder_name"]
    movement.consignee_id = data.get("consignee", {}).get("id")
    movement.departure_office, movement.destination_office = offices[0], offices[-1]
    movement.transit_offices, movement.countries = offices[1:-1], countries
    movement.seals, movement.released_at = list(data["seals"]), data["released_at"]
    movement.time_limit = data["time_limit"]
    movement.declared_at = movement.declared_at or data["released_at"]
    movement.document = {**(movement.document or {}), **_items(data)}
    movement.record_version, movement.note = message.version, data.get("note")
    if data["status"] in RECORD_STATUSES:
        movement.status = RECORD_STATUSES[data["status"]]
    session.flush()
    note_event(session, movement, RECORD_EVENTS[data["status"]], offices[0], message.received_at)
    log.info("transit.record_received mrn=%s status=%s from=%s", movement.mrn, data["status"],
             message.sender)  # fmt: skip


def on_event(session: Session, message: Incoming) -> None:
    """An office of transit or destination tells this office of departure what happened."""
    data = message.payload
    movement = session.scalar(
        select(Movement).where(Movement.mrn == data["mrn"], Movement.role == "departure")
        .with_for_update()
    )  # fmt: skip
    if movement is None:
        raise invalid("mrn", "unknown", Text("no movement {mrn} departed here", mrn=data["mrn"]))
    if message.sender not in movement.countries[1:]:
        raise invalid(
            "country", "not_on_itinerary",
            Text("{country} is not on the itinerary of {mrn}", country=message.sender,
                 mrn=movement.mrn),
        )  # fmt: skip
    kind, office, at = data["kind"], data["office"], data["at"]
    detail: dict[str, Any] = {k: data[k] for k in ("seals_intact", "discrepancies") if k in data}
    # Events come in any order: each is its own document, retried on its own, so after a
    # node was down the control results may come before the arrival they follow.
    if kind in (ARRIVED, CONTROLLED) and movement.status in (RELEASED, ENQUIRY):
        _arrived(session, movement, office, at, message.sender, detail)  # it ends an enquiry
    if kind == CONTROLLED:
        _expect(movement, (ARRIVED_THERE,), kind)
        satisfactory = data.get("seals_intact", True) and not data.get("discrepancies")
        note_event(session, movement, kind, office, at, jsonable(detail))
        if satisfactory:
            write_off(session, movement, message.received_at)
        else:
            movement.status = DISCREPANCIES
        return
    # A crossing whenever it comes; an arrival after its control results, noted.
    note_event(session, movement, kind, office, at, jsonable(detail) or None)


def _arrived(
    session: Session, movement: Movement, office: str, at: Any, sender: str,
    detail: dict[str, Any],
) -> None:  # fmt: skip
    movement.status = ARRIVED_THERE
    if movement.document.get("monitoring"):  # the seals released where the goods arrived
        seals.end_trip(session, movement.mrn, office=office, now=at, actor=f"partner:{sender}")
    if office != movement.destination_office:
        detail["notice"] = (
            f"diverted: arrived at {office}, declared for {movement.destination_office}"
        )
        movement.note = detail["notice"]


def _expect(movement: Movement, statuses: tuple[str, ...], kind: str) -> None:
    if movement.status not in statuses:
        raise invalid(
            "kind", "out_of_order",
            Text("{kind} for {mrn}, which is {status} here", kind=kind, mrn=movement.mrn,
                 status=movement.status),
        )  # fmt: skip


def _items(data: dict[str, Any]) -> dict[str, Any]:
    """What the movement's page shows of the record: its goods, consignee and premises."""
    keys = ("items", "consignee", "departure_premises")
    return jsonable({k: data[k] for k in keys if k in data})


def register() -> None:
    register_handler(RECORD, logged(on_record))
    register_handler(EVENT, logged(on_event))
    register_handler(ALERT, logged(on_alert))
