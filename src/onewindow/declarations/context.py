"""What lodging needs from the running node: its country, currency, clock and lanes."""

from __future__ import annotations

from onewindow.declarations.lodging import Context
from onewindow.declarations.settings import DeclarationsSettings
from onewindow.kit.node import Node
from onewindow.risk.lanes import lanes


def context(node: Node) -> Context:
    s = node.settings
    max_items = DeclarationsSettings.of(s).max_items
    selectivity = lanes(node).selectivity
    return Context(s.country, s.currency, node.clock, selectivity, max_items, frozenset(s.partners))
