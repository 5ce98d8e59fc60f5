"""E-seal alerts passed on to the next office on the itinerary: to Malaysia's node before the
frontier is crossed, to Singapore's after; each once, as a signed document logged in both
ledgers, kept there with the movement even when it comes before the movement's record."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from onewindow.exchange.inbox import Incoming
from onewindow.kit.errors import InvalidInput
from onewindow.kit.node import Node
from onewindow.transit import alerts, offices
from onewindow.transit.context import context
from onewindow.transit.mrn import make

from .movements import MOVEMENT, OFFICER, logged
from .portal import receive
from .test_monitoring import monitored, report  # noqa: F401 (a fixture)

Relay = Callable[[str, str], list[str]]
SEAL = MOVEMENT["seals"][0]


def forward(node: Node) -> int:
    with node.transaction() as s:
        return alerts.forward(s, context(node))


def incoming(node: Node, sender: str, payload: dict[str, Any]) -> Incoming:
    return Incoming(str(uuid.uuid4()), sender, node.settings.country, "TRANSIT_ALERT",
                    f"{payload['mrn']}-ALERT-{payload['alert_id']}", 1, payload,
                    node.clock.now())  # fmt: skip


def kept(node: Node, mrn: str) -> list[tuple[str, str]]:
    with node.transaction() as s:
        return [(a.kind, a.office) for a in alerts.received(s, mrn, node.settings.country)]


def test_alerts_go_to_the_next_office_once(
    nodes: dict[str, Node],
    relay: Relay,
    monitored: str,  # noqa: F811
) -> None:
    th, my, sg = nodes["TH"], nodes["MY"], nodes["SG"]
    now = th.clock.now()
    th.clock.advance(minutes=30)
    report(th, {"device": SEAL, "id": 1, "kind": "door_open", "lat": 13.75, "lon": 100.50,
                "at": now + timedelta(minutes=10)})  # fmt: skip
    assert forward(th) == 1 and forward(th) == 0  # noted once
    assert relay("TH", "SG") == [] and relay("TH", "MY") == ["TRANSIT_ALERT"]
    assert kept(my, monitored) == [("door_open", "MYBKH")]
    document_id = f"{monitored}-ALERT-1"
    assert logged(th, document_id) == ["issued"] and logged(my, document_id) == ["received"]

    with my.transaction() as s:  # the truck crosses into Malaysia: Singapore is next
        offices.cross(s, OFFICER, monitored, "MYBKH", context(my))
    relay("MY", "TH")
    report(th, {"device": SEAL, "id": 2, "kind": "tamper", "lat": 6.0, "lon": 100.6,
                "at": now + timedelta(minutes=20)})  # fmt: skip
    forward(th)
    assert relay("TH", "MY") == [] and relay("TH", "SG") == ["TRANSIT_ALERT"]
    assert [k for k, _ in kept(sg, monitored)] == ["tamper"]
    assert kept(my, monitored) == [("door_open", "MYBKH")]


def test_an_alert_before_the_record_is_kept_and_a_repeat_is_not(nodes: dict[str, Node]) -> None:
    """Documents are retried each on their own: an alert may reach MY before the movement's
    record. MY keeps it on its MRN, and the same alert twice (another message) once."""
    my = nodes["MY"]
    mrn = make(2026, "TH", "LCH0000000099")
    alert = {"mrn": mrn, "departure_country": "TH", "alert_id": 7, "kind": "door_open",
             "office": "MYBKH", "at": my.clock.now(), "lat": Decimal("6.5"),
             "lon": Decimal("100.42"), "device": SEAL, "detail": "door opened"}  # fmt: skip
    receive(my, "TH", "TRANSIT_ALERT", f"{mrn}-ALERT-7", alert)
    receive(my, "TH", "TRANSIT_ALERT", f"{mrn}-ALERT-7", alert)
    assert kept(my, mrn) == [("door_open", "MYBKH")]
    with my.transaction() as s, pytest.raises(InvalidInput) as caught:  # not an office of MY
        alerts.on_alert(s, incoming(my, "TH", alert | {"office": "SGSIN", "alert_id": 8}))
    assert caught.value.errors[0].code == "not_here"
