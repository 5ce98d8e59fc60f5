"""Partners' published tariffs as a node receives them, for transit's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from onewindow.exchange import sync_partners
from onewindow.exchange.handlers import handler_for
from onewindow.exchange.inbox import Incoming
from onewindow.kit.config import PartnerConfig
from onewindow.kit.node import Node

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def publish_to(
    node: Node, country: str, currency: str, usd: str, phones_duty: str, vat: str = "10"
) -> None:
    """`country`'s published schedule as this node received it (through the handler)."""
    payload: dict[str, Any] = {
        "country": country, "version": 1, "effective_date": date(2026, 11, 1), "issued_at": NOW,
        "currency": currency, "rates": [{"currency": "USD", "rate": Decimal(usd)}],
        "lines": [{"code": "85171300", "unit": "PCE", "mfn": Decimal(phones_duty),
                   "vat": Decimal(vat)}],
    }  # fmt: skip
    handler = handler_for("TARIFF_SCHEDULE")
    assert handler is not None
    message = Incoming(
        str(uuid.uuid4()),
        country,
        node.settings.country,
        "TARIFF_SCHEDULE",
        f"{country}-TARIFF",
        1,
        payload,
        NOW,
    )
    with node.transaction() as s:
        handler(s, message)


def federate(node: Node, *countries: str) -> None:
    """Make `countries` partners of `node` (their nodes exchange with it)."""
    partners = {c: PartnerConfig(endpoint=f"http://127.0.0.1/{c}") for c in countries}
    with node.transaction() as s:
        sync_partners(s, partners, now=node.clock.now())
