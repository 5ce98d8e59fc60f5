"""Traders registered for ACTS, for transit's tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onewindow.kit import auth
from onewindow.kit.node import Node
from onewindow.transit import traders
from onewindow.transit.models import Trader
from onewindow.transit.schemas import TraderWrite

REGISTRAR = auth.Principal("officer1", auth.Role.OFFICER)


def register(node: Node, party_id: str, name: str = "Trader", **authorisations: Any) -> None:
    """`party_id` registered for ACTS at `node`, with `authorisations` (consignor, consignee,
    premises: a list of {"code", "address"})."""
    data = TraderWrite.model_validate({"name": name, **authorisations})
    with node.transaction() as s:
        traders.register(s, REGISTRAR, party_id, data, node.clock)


def known(node: Node, party_id: str, name: str = "Trader") -> None:
    """`party_id` registered for ACTS at `node`, as it is if it was already."""
    with node.transaction() as s:
        found = s.scalar(select(Trader.id).where(Trader.party_id == party_id))
    if found is None:
        register(node, party_id, name)
