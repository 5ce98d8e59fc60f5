"""ACDD: export declaration data sent, on release, to the destination country's customs,
which keeps it as pre-arrival information and matches it to the import declaration."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.declarations.assessment import Plan
from onewindow.declarations.models import Declaration, PreArrival
from onewindow.declarations.schemas import DeclarationCreate
from onewindow.exchange import Incoming, register_handler
from onewindow.kit.db import jsonable
from onewindow.kit.errors import FieldError, InvalidInput, InvalidTransition, NotFound, Text
from onewindow.logged import logged, send_logged

log = logging.getLogger("onewindow.declarations")
MATCH_WINDOW = timedelta(days=90)  # how long before arrival an export may have left


def missing(doc: DeclarationCreate, partners: frozenset[str]) -> list[FieldError]:
    """What an export to a partner lacks of the ACDD fields it will send on release (the
    declaration alone does not require them). Checked at lodging and amendment, so that
    release never meets an ACDD it cannot build."""
    if doc.type != "EX" or doc.country_of_destination not in partners:
        return []
    needed = {
        "exporter.id": doc.exporter.id,
        "importer.address": doc.importer.address,
        "transport.departure_date": doc.transport.departure_date,
        "transport.port_of_discharge": doc.transport.port_of_discharge,
    }
    why = Text(
        "an export to {country} sends it an ACDD, which needs this field",
        country=doc.country_of_destination,
    )
    return [FieldError(path, "required_for_acdd", why) for path, v in needed.items() if v is None]


def payload(decl: Declaration) -> dict[str, Any]:
    """The 15 mandatory ACDD fields from a released export declaration."""
    doc = decl.document
    return {
        "declaration_id": decl.number,
        "export_country": decl.country_of_export,
        "destination_country": decl.country_of_destination,
        "exporter": {"id": doc["exporter"]["id"], "name": doc["exporter"]["name"]},
        "consignee": {"name": doc["importer"]["name"], "address": doc["importer"]["address"]},
        "agent": {"id": doc["declarant"]["id"], "name": doc["declarant"]["name"]},
        "departure_date": doc["transport"]["departure_date"],
        "transport_mode": doc["transport"]["mode"],
        "discharge_port": doc["transport"]["port_of_discharge"],
        "items": [
            {
                "item_number": n,
                "hs_code": i["hs_code"],
                "quantity": i["quantity"],
                "unit": i["unit"],
                "origin_country": i["origin"],
                "description": i["description"][:512],
            }
            for n, i in enumerate(doc["items"], start=1)
        ],
    }


def on_released(
    session: Session, decl: Declaration, partners: frozenset[str], now: datetime
) -> None:
    if decl.type != "EX" or decl.country_of_destination not in partners:
        return
    send_logged(
        session,
        sender=decl.country_of_export,
        receiver=decl.country_of_destination or "",
        document_type="ACDD",
        document_id=decl.number,
        version=1,
        payload=payload(decl),
        now=now,
    )
    log.info("declaration.acdd_queued number=%s to=%s", decl.number, decl.country_of_destination)


def cancel(session: Session, decl: Declaration, reason: str, now: datetime) -> None:
    """Withdraw an ACDD already sent (the export did not take place as declared)."""
    if decl.type != "EX" or decl.status != "released":
        raise InvalidTransition("only a released export's ACDD can be cancelled")
    send_logged(
        session,
        sender=decl.country_of_export,
        receiver=decl.country_of_destination or "",
        document_type="ACDD_CANCELLATION",
        document_id=f"{decl.number}/cancel",
        version=1,
        payload={
            "declaration_id": decl.number,
            "export_country": decl.country_of_export,
            "issued_at": now,
            "reasons": [{"code": "cancelled", "text": reason[:300]}],
        },
        now=now,
    )


def on_acdd(session: Session, message: Incoming) -> None:
    data = message.payload
    if data["export_country"] != message.sender:
        raise InvalidInput(
            [FieldError("export_country", "not_sender", "an ACDD comes from the exporting country")]
        )
    found = session.scalar(
        select(PreArrival).where(
            PreArrival.export_country == message.sender,
            PreArrival.export_declaration == data["declaration_id"],
        )
    )
    if found is not None:
        return  # the same export declaration again under another message: keep the first
    session.add(
        PreArrival(
            export_declaration=data["declaration_id"],
            export_country=message.sender,
            exporter_id=data["exporter"]["id"],
            exporter_name=data["exporter"]["name"],
            consignee_name=data["consignee"]["name"],
            departure_date=data["departure_date"],
            document=jsonable(data),
            status="received",
            received_at=message.received_at,
        )
    )


def on_cancellation(session: Session, message: Incoming) -> None:
    data = message.payload
    found = session.scalar(
        select(PreArrival).where(
            PreArrival.export_country == message.sender,
            PreArrival.export_declaration == data["declaration_id"],
        )
    )
    if found is None:
        raise InvalidInput([FieldError("declaration_id", "unknown", "no such ACDD here")])
    found.status = "cancelled"


def on_response(session: Session, message: Incoming) -> None:
    """The importing customs' response: the exporting side notes the match in the audit."""
    data = message.payload
    decl = session.scalar(select(Declaration).where(Declaration.number == data["declaration_id"]))
    if decl is None:
        raise InvalidInput([FieldError("declaration_id", "unknown", "no such export here")])
    if decl.country_of_destination != message.sender:  # only where the ACDD went answers
        raise InvalidInput([FieldError("country", "not_destination", "the ACDD went elsewhere")])
    log.info("declaration.acdd_response number=%s status=%s", decl.number, data["status"])


def match(session: Session, plans: list[Plan]) -> list[PreArrival | None]:
    """The pre-arrival ACDD each import declaration matches: same exporting country and
    consignee, shipped in the window before arrival, sharing an HS subheading."""
    names = {p.doc.importer.name.casefold() for p in plans if p.doc.type == "IM"}
    if not names:
        return [None] * len(plans)
    candidates = list(session.scalars(select(PreArrival).where(PreArrival.status == "received")))
    out: list[PreArrival | None] = []
    taken: set[int] = set()
    for plan in plans:
        doc, chosen = plan.doc, None
        if doc.type == "IM":
            hs6 = {i.hs_code[:6] for i in doc.items}
            for acdd in candidates:
                if (
                    acdd.id not in taken
                    and acdd.export_country == doc.country_of_export
                    and acdd.consignee_name.casefold() == doc.importer.name.casefold()
                    and plan.goods_date - MATCH_WINDOW <= acdd.departure_date <= plan.goods_date
                    and hs6 & {i["hs_code"][:6] for i in acdd.document["items"]}
                ):
                    chosen = acdd
                    taken.add(acdd.id)
                    break
        out.append(chosen)
    return out


def respond(
    session: Session,
    acdd: PreArrival,
    import_number: str,
    country: str,
    now: datetime,
    notify: bool = True,
) -> None:
    acdd.status, acdd.import_declaration = "matched", import_number
    if not notify:
        return
    send_logged(
        session,
        sender=country,
        receiver=acdd.export_country,
        document_type="ACDD_RESPONSE",
        document_id=f"{acdd.export_declaration}/response",
        version=1,
        payload={
            "declaration_id": acdd.export_declaration,
            "country": country,
            "issued_at": now,
            "status": "matched",
            "import_declaration_id": import_number,
        },
        now=now,
    )


def get(session: Session, export_country: str, number: str) -> PreArrival:
    found = session.scalar(
        select(PreArrival).where(
            PreArrival.export_country == export_country, PreArrival.export_declaration == number
        )
    )
    if found is None:
        raise NotFound(f"no ACDD {number} from {export_country}")
    return found


def register() -> None:
    register_handler("ACDD", logged(on_acdd))
    register_handler("ACDD_CANCELLATION", logged(on_cancellation))
    register_handler("ACDD_RESPONSE", logged(on_response))
