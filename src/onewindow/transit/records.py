"""The documents a movement's offices send each other (see transit.documents): built from the
movement as this node keeps it, sent through the exchange and logged in the ledger, and its
events kept at every node it touched."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from onewindow.logged import send_logged, send_logged_to
from onewindow.transit.documents import EVENT, RECORD, event_id
from onewindow.transit.models import Movement, MovementEvent


def note_event(
    session: Session, movement: Movement, kind: str, office: str, at: datetime,
    detail: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    session.add(
        MovementEvent(
            movement_id=movement.id, kind=kind, office=office, country=office[:2], at=at,
            detail=detail,
        )
    )  # fmt: skip


def record(movement: Movement, status: str) -> dict[str, Any]:
    """The movement as its TRANSIT_RECORD carries it."""
    doc = movement.document
    assert movement.released_at is not None and movement.time_limit is not None
    payload: dict[str, Any] = {
        "mrn": movement.mrn,
        "departure_country": movement.mrn[2:4],
        "status": status,
        "holder_id": movement.holder_id,
        "holder_name": movement.holder_name,
        "departure_office": movement.departure_office,
        "transit_offices": list(movement.transit_offices),
        "destination_office": movement.destination_office,
        "released_at": movement.released_at,
        "time_limit": movement.time_limit,
        "seals": list(movement.seals),
        "items": [
            {
                "hs_code": item["hs_code"],
                "description": item["description"],
                "quantity": Decimal(item["quantity"]),
                "unit": item["unit"],
                "gross_mass_kg": Decimal(item["gross_mass_kg"]),
            }
            for item in doc["items"]
        ],
    }
    if doc.get("departure_premises"):
        payload["departure_premises"] = doc["departure_premises"]
    if doc.get("consignee"):
        payload["consignee"] = {k: v for k, v in doc["consignee"].items() if v is not None}
    if movement.note:
        payload["note"] = movement.note
    return payload


def send_record(session: Session, movement: Movement, status: str, now: datetime) -> None:
    """The movement's next version to every other country of its itinerary, logged in the
    ledger once as issued."""
    movement.record_version += 1
    send_logged_to(
        session, sender=movement.countries[0], receivers=movement.countries[1:],
        document_type=RECORD, document_id=movement.mrn, version=movement.record_version,
        payload=record(movement, status), now=now,
    )  # fmt: skip


def send_event(
    session: Session, movement: Movement, kind: str, office: str, now: datetime,
    **detail: Any,
) -> None:  # fmt: skip
    """An event at an office here, to the office of departure (the MRN's country)."""
    payload = {"mrn": movement.mrn, "country": office[:2], "kind": kind, "office": office,
               "at": now, **{k: v for k, v in detail.items() if v is not None}}  # fmt: skip
    send_logged(
        session, sender=office[:2], receiver=movement.mrn[2:4], document_type=EVENT,
        document_id=event_id(movement.mrn, kind, office), version=1, payload=payload, now=now,
    )  # fmt: skip
