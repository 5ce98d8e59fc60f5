"""What transit's use cases need from the running node."""

from __future__ import annotations

from onewindow.kit.node import Node
from onewindow.risk.lanes import lanes
from onewindow.transit.service import Context
from onewindow.transit.settings import TransitSettings


def context(node: Node) -> Context:
    s = node.settings
    own = TransitSettings.of(s)
    return Context(
        s.country, s.currency, node.clock, own.transit_days, own.enquiry_days,
        lanes(node).selectivity,
    )  # fmt: skip
