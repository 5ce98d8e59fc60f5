"""Transit's test helpers: a movement from Bangkok through Malaysia to Singapore, declared at
TH, and what each node knows of it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from onewindow.kit import auth
from onewindow.kit.node import Node
from onewindow.ledger.models import LedgerEntry
from onewindow.tariff import import_rates
from onewindow.transit import service
from onewindow.transit.context import context
from onewindow.transit.schemas import GuaranteeCreate, MovementCreate

from .partners import publish_to
from .traders import known

OFFICER = auth.Principal("officer1", auth.Role.OFFICER)
MOVEMENT: dict[str, Any] = {
    "holder_id": "0105551234567", "holder_name": "Siam Logistics",
    "departure_office": "THLCH", "transit_offices": ["MYBKH"], "destination_office": "SGSIN",
    "seals": ["THSEAL-0001", "THSEAL-0002"],
    "items": [{"hs_code": "85171300", "description": "Smartphones", "quantity": "500",
               "unit": "PCE", "gross_mass_kg": "200", "customs_value": "100000",
               "currency": "USD"}],
}  # fmt: skip


def declare_at_th(nodes: dict[str, Node], body: dict[str, Any]) -> str:
    """TH holds MY's and SG's published tariffs and its own rates for their currencies; it
    registers a guarantee and accepts a movement on it: its MRN."""
    th = nodes["TH"]
    publish_to(th, "MY", "MYR", "4.4", "10")
    publish_to(th, "SG", "SGD", "1.35", "0", vat="9")
    with th.transaction() as s:
        import_rates(s, "currency,rate,valid_from\nUSD,36,2026-11-02\nMYR,7.7,2026-11-02\n"
                        "SGD,26.5,2026-11-02\n")  # fmt: skip
    known(th, "0105551234567", "Siam Logistics")
    guarantee = GuaranteeCreate(
        kind="comprehensive", holder_id="0105551234567", holder_name="Siam Logistics",
        currency="THB", amount=Decimal("900000"), valid_until=datetime(2027, 6, 30).date(),
    )  # fmt: skip
    with th.transaction() as s:
        grn = service.register_guarantee(s, OFFICER, guarantee, context(th)).grn
    with th.transaction() as s:
        return service.declare(s, OFFICER, MovementCreate.model_validate(body | {"grn": grn}),
                               context(th)).mrn  # fmt: skip


def status(node: Node, mrn: str) -> tuple[str, str]:
    with node.transaction() as s:
        movement = service.get(s, OFFICER, mrn)
        return movement.role, movement.status


def kinds(node: Node, mrn: str) -> list[str]:
    with node.transaction() as s:
        return [e.kind for e in service.events(s, service.get(s, OFFICER, mrn))]


def held(node: Node, mrn: str) -> str | None:
    with node.transaction() as s:
        found = service.reservation(s, mrn)
        return found.status if found else None


def logged(node: Node, document_id: str) -> list[str]:
    with node.transaction() as s:
        stmt = select(LedgerEntry.kind).where(LedgerEntry.document_id == document_id)
        return list(s.scalars(stmt))
