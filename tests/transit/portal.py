"""Transit's pages in tests: a VN node (SQLite or PostgreSQL, the `node` fixture) that
declares movements to Thailand through Laos (partners LA and TH have published their
tariffs), and records and events from partners as its handlers receive them."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from onewindow.exchange.handlers import handler_for
from onewindow.exchange.inbox import Incoming
from onewindow.exchange.models import OutgoingMessage
from onewindow.kit import auth, web
from onewindow.kit.node import Node
from onewindow.tariff import import_rates
from onewindow.transit import service
from onewindow.transit.context import context
from onewindow.transit.models import Guarantee, Movement, MovementEvent, Reservation
from onewindow.transit.mrn import make
from onewindow.transit.schemas import GuaranteeCreate, MovementCreate

from .partners import federate, publish_to
from .traders import register

OFFICER = auth.Principal("officer1", auth.Role.OFFICER)
HOLDER_ID = "0101234567"  # the `tokens` fixture's trader, saigon
GUARANTEE = {
    "kind": "comprehensive", "holder_id": HOLDER_ID, "holder_name": "Saigon Trading",
    "currency": "VND", "amount": "5000000000", "valid_until": "2027-12-31",
}  # fmt: skip
# The movement as the form's fields: Hanoi to Bangkok through Vientiane, two seals.
FORM = {
    "holder_id": HOLDER_ID, "holder_name": "Saigon Trading", "departure_office": "VNHAN",
    "transit_offices.0": "LAVTE", "destination_office": "THBKK",
    "seals.0": "VNSEAL-0001", "seals.1": "VNSEAL-0002",
    "items.0.hs_code": "85171300", "items.0.description": "Smartphones",
    "items.0.quantity": "200", "items.0.unit": "PCE", "items.0.gross_mass_kg": "80",
    "items.0.customs_value": "40000", "items.0.currency": "USD",
}  # fmt: skip


def prepare(node: Node) -> None:
    """LA and TH partners of this node, their tariffs published here, LAK rated; the holder
    registered for ACTS."""
    federate(node, "LA", "TH")
    register(node, HOLDER_ID, "Saigon Trading")
    publish_to(node, "LA", "LAK", "21000", "5")
    publish_to(node, "TH", "THB", "35", "20")
    with node.transaction() as s:
        import_rates(s, "currency,rate,valid_from\nLAK,1.2,2026-01-01\n")


def guarantee(node: Node, amount: str = "5000000000", holder: str = HOLDER_ID) -> str:
    """A guarantee of `amount` VND for `holder`: its GRN. The movement of FORM reserves
    333,760,000 VND on it (Thailand's duties and taxes, the highest of the three)."""
    register(node, holder, "Saigon Trading")
    with node.transaction() as s:
        data = GuaranteeCreate.model_validate(GUARANTEE | {"amount": amount, "holder_id": holder})
        return service.register_guarantee(s, OFFICER, data, context(node)).grn


def document(grn: str, **changes: Any) -> dict[str, Any]:
    """FORM as the API's JSON, with `changes`."""
    return web.nested(FORM | {"grn": grn}) | changes


def declare(node: Node, grn: str, **changes: Any) -> str:
    with node.transaction() as s:
        data = MovementCreate.model_validate(document(grn, **changes))
        return service.declare(s, OFFICER, data, context(node)).mrn


def signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set(web.COOKIE, token)
    return client


def post(client: TestClient, path: str, data: dict[str, str]) -> Response:
    token = web.csrf(client.cookies[web.COOKIE])
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def text(response: Response) -> str:
    """The page's text, entities decoded and white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def field_error(response: Response, field: str) -> str:
    """The error message shown next to the field whose id is `field` ("" if none)."""
    found = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', response.text, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) if found else ""


def state(node: Node, mrn: str | None = None) -> tuple[Any, ...]:
    """What an action could change: movements, events, reservations held, queued messages,
    guarantees; with `mrn`, that movement's status too."""
    with node.transaction() as s:
        counts = tuple(
            s.scalar(stmt) or 0
            for stmt in (
                select(func.count()).select_from(Movement),
                select(func.count()).select_from(MovementEvent),
                select(func.count()).select_from(Reservation).where(Reservation.status == "held"),
                select(func.count()).select_from(OutgoingMessage),
                select(func.count()).select_from(Guarantee),
            )
        )
        status = s.scalar(select(Movement.status).where(Movement.mrn == mrn)) if mrn else None
        return (*counts, status)


def queued(node: Node, document_type: str) -> list[str]:
    """The receivers of the messages of `document_type` waiting in the outbox."""
    with node.transaction() as s:
        stmt = select(OutgoingMessage.receiver).where(
            OutgoingMessage.document_type == document_type
        )
        return sorted(s.scalars(stmt))


def receive(node: Node, sender: str, kind: str, document_id: str, payload: dict[str, Any],
            version: int = 1) -> None:  # fmt: skip
    """A partner's document as the gateway hands it to transit's handler."""
    handler = handler_for(kind)
    assert handler is not None
    message = Incoming(str(uuid.uuid4()), sender, node.settings.country, kind, document_id,
                       version, payload, node.clock.now())  # fmt: skip
    with node.transaction() as s:
        handler(s, message)


def record_from_th(node: Node, *offices: str, holder: str = HOLDER_ID, **more: Any) -> str:
    """A movement released at Bangkok for `offices` (transit ones, then the destination), its
    TRANSIT_RECORD received here (with `more` of its fields, such as its consignee): its
    MRN."""
    now = node.clock.now()
    mrn = make(2026, "TH", f"BKK{uuid.uuid4().int % 10**10:010d}")
    payload = {
        "mrn": mrn, "departure_country": "TH", "status": "released", "holder_id": holder,
        "holder_name": "Saigon Trading", "departure_office": "THBKK",
        "transit_offices": list(offices[:-1]), "destination_office": offices[-1],
        "released_at": now - timedelta(hours=5), "time_limit": date(2026, 11, 28),
        "seals": ["THSEAL-0101", "THSEAL-0102"],
        "items": [{"hs_code": "85171300", "description": "Smartphones",
                   "quantity": Decimal("500"), "unit": "PCE", "gross_mass_kg": Decimal("200")}],
    } | more  # fmt: skip
    receive(node, "TH", "TRANSIT_RECORD", mrn, payload)
    return mrn


def event_from(node: Node, country: str, mrn: str, kind: str, office: str,
               at: datetime, **detail: Any) -> None:  # fmt: skip
    """An office of transit or destination abroad tells this office of departure."""
    payload = {"mrn": mrn, "country": country, "kind": kind, "office": office, "at": at, **detail}
    receive(node, country, "TRANSIT_EVENT", f"{mrn}-{kind}-{office}", payload)
