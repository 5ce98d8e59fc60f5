"""A movement under e-seals: its seals watched from release on the route declared, their
alerts on the movement, and the seals released where the goods arrive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from onewindow import seals
from onewindow.kit.node import Node
from onewindow.seals.intake import Source
from onewindow.seals.schemas import EventIn
from onewindow.transit import offices, service
from onewindow.transit.context import context
from onewindow.transit.schemas import Release

from .movements import MOVEMENT, OFFICER, declare_at_th

Relay = Callable[[str, str], list[str]]
# Laem Chabang to Bukit Kayu Hitam to Singapore, roughly, as [lon, lat].
ROUTE = [[100.88, 13.08], [100.50, 13.75], [99.95, 11.80], [99.20, 9.10], [100.42, 6.50],
         [101.70, 3.10], [103.85, 1.29]]  # fmt: skip
MONITORING: dict[str, Any] = {
    "route": {"type": "LineString", "coordinates": ROUTE},
    "corridor_m": 5000, "max_stop_minutes": 120, "max_silence_minutes": 60,
    "destination": {"office": "SGSIN", "lat": 1.29, "lon": 103.85, "radius_m": 3000},
}  # fmt: skip


@pytest.fixture
def monitored(nodes: dict[str, Node], relay: Relay) -> str:
    th = nodes["TH"]
    with th.transaction() as s:
        for seal in MOVEMENT["seals"]:
            seals.add_device(s, seal, platform=None, now=th.clock.now(), actor="admin1")
    mrn = declare_at_th(nodes, MOVEMENT | {"monitoring": MONITORING})
    with th.transaction() as s:
        service.decide_release(s, OFFICER, mrn, Release(decision="release"), context(th))
    relay("TH", "MY"), relay("TH", "SG")
    return mrn


def report(node: Node, *events: dict[str, Any]) -> None:
    with node.transaction() as s:
        seal = events[0]["device"]
        batch = [EventIn.model_validate(e) for e in events]
        seals.ingest(s, batch, source=Source(device=seal), now=node.clock.now())


def test_a_detour_and_an_opened_door_are_alerts_on_the_movement(
    nodes: dict[str, Node], monitored: str
) -> None:
    th = nodes["TH"]
    now = th.clock.now()
    th.clock.advance(minutes=30)  # the events below have happened
    with th.transaction() as s:
        read = service.read_movement(s, service.get(s, OFFICER, monitored), OFFICER)
        assert read.monitored and seals.trip(s, monitored).status == "active"
    seal = MOVEMENT["seals"][0]
    on_road = {"device": seal, "kind": "position", "lat": 13.75, "lon": 100.50}
    detour = {"device": seal, "kind": "position", "lat": 14.97, "lon": 102.10}  # Khorat
    report(th, on_road | {"id": 1, "at": now + timedelta(minutes=10)},
           detour | {"id": 2, "at": now + timedelta(minutes=20)},
           {"device": seal, "id": 3, "kind": "door_open", "at": now + timedelta(minutes=25),
            "lat": 14.97, "lon": 102.10})  # fmt: skip
    with th.transaction() as s:
        kinds = sorted(a.kind for a in seals.alerts(s, reference=monitored))
    assert kinds == ["door_open", "off_route"]


def test_arrival_at_another_office_releases_the_seals_with_an_alert(
    nodes: dict[str, Node], relay: Relay, monitored: str
) -> None:
    th, sg = nodes["TH"], nodes["SG"]
    with sg.transaction() as s:
        offices.arrive(s, OFFICER, monitored, "SGJUR", context(sg))
    relay("SG", "TH")
    with th.transaction() as s:
        assert seals.trip(s, monitored).status == "ended"
        assert [a.kind for a in seals.alerts(s, reference=monitored)] == ["wrong_arrival"]
        assert service.get(s, OFFICER, monitored).note == (
            "diverted: arrived at SGJUR, declared for SGSIN"
        )
