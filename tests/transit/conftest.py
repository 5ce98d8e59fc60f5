"""Three member states on the road from Bangkok to Singapore, in this process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from onewindow.kit.clock import FixedClock
from onewindow.kit.node import Node

ROAD = ("TH", "MY", "SG")


@pytest.fixture
def nodes(make_node: Callable[..., Node]) -> dict[str, Node]:
    """TH, MY and SG nodes, partners of each other (the `relay` fixture carries their
    documents)."""
    clock = FixedClock(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    currencies = {"TH": "THB", "MY": "MYR", "SG": "SGD"}
    return {c: make_node(c, currencies[c], clock, ROAD) for c in ROAD}
