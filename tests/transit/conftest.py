"""Three member states on the road from Bangkok to Singapore, in this process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from onewindow.kit.clock import FixedClock
from onewindow.kit.node import Node
from onewindow.transit import service
from onewindow.transit.context import context
from onewindow.transit.schemas import Release

from .movements import MOVEMENT, OFFICER, declare_at_th

ROAD = ("TH", "MY", "SG")


@pytest.fixture
def nodes(make_node: Callable[..., Node]) -> dict[str, Node]:
    """TH, MY and SG nodes, partners of each other (the `relay` fixture carries their
    documents)."""
    clock = FixedClock(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    currencies = {"TH": "THB", "MY": "MYR", "SG": "SGD"}
    return {c: make_node(c, currencies[c], clock, ROAD) for c in ROAD}


@pytest.fixture
def released(nodes: dict[str, Node], relay: Callable[[str, str], list[str]]) -> str:
    """A movement accepted and released at TH; its record goes to MY and SG."""
    mrn = declare_at_th(nodes, MOVEMENT)
    th = nodes["TH"]
    with th.transaction() as s:
        service.decide_release(s, OFFICER, mrn, Release(decision="release"), context(th))
    assert relay("TH", "MY") == ["TRANSIT_RECORD"] and relay("TH", "SG") == ["TRANSIT_RECORD"]
    return mrn
