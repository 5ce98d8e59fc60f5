"""A route from Bangkok towards the Malaysian border (lon/lat), an authorised stop on it, the
destination office at its end; seals registered to a platform; times from the node's clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onewindow.kit.node import Node
from onewindow.seals import add_device, add_platform, register_trip
from onewindow.seals.schemas import TripCreate

# Along the road south: Bangkok (100.50, 13.75) -> Hua Hin (99.96, 12.57) -> Chumphon (99.18,
# 10.50); a rest area near Hua Hin; the destination office at Chumphon.
ROUTE = [[100.50, 13.75], [99.96, 12.57], [99.18, 10.50]]
STOP = {"name": "Hua Hin rest area", "lat": 12.57, "lon": 99.96, "radius_m": 500}
DESTINATION = {"office": "TH0301", "lat": 10.50, "lon": 99.18, "radius_m": 1000}
ON_ROUTE = (13.75, 100.50)  # lat, lon: the route's first point
OFF_ROUTE = (13.50, 101.20)  # some 70 km east of the route
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # the node's clock (tests/conftest.py)


def trip_body(reference: str = "26TH000000000001A1", seals: list[str] | None = None) -> dict:
    return {
        "reference": reference,
        "seals": seals or ["SEAL-1"],
        "route": {"type": "LineString", "coordinates": ROUTE},
        "corridor_m": 2000,
        "stops": [STOP],
        "max_stop_minutes": 30,
        "max_silence_minutes": 20,
        "destination": DESTINATION,
    }


@pytest.fixture
def platform_key(node: Node) -> str:
    with node.transaction() as s:
        return add_platform(s, "ACME", now=node.clock.now(), actor="t").secret


@pytest.fixture
def secrets_(node: Node, platform_key: str) -> dict[str, str]:
    """SEAL-1 and SEAL-2 of the ACME platform, on one trip; SEAL-3 of none, on no trip."""
    with node.transaction() as s:
        made = {
            d: add_device(s, d, platform="ACME", now=node.clock.now(), actor="t").secret
            for d in ("SEAL-1", "SEAL-2")
        }
        made["SEAL-3"] = add_device(
            s, "SEAL-3", platform=None, now=node.clock.now(), actor="t"
        ).secret
        register_trip(
            s,
            TripCreate.model_validate(trip_body(seals=["SEAL-1", "SEAL-2"])),
            now=node.clock.now(),
            actor="t",
        )
    return made


@pytest.fixture
def event(node: Node) -> Callable[..., dict[str, Any]]:
    """An event as a platform sends it, `minutes` after the trip was registered."""
    start = START

    def make(
        seq: int,
        minutes: float,
        kind: str = "position",
        *,
        device: str = "SEAL-1",
        at: tuple[float, float] | None = ON_ROUTE,
        speed: float | None = 60.0,
    ) -> dict:
        e: dict[str, Any] = {
            "device": device,
            "id": seq,
            "kind": kind,
            "at": (start + timedelta(minutes=minutes)).isoformat(),
        }
        if at is not None:
            e["lat"], e["lon"] = at
        if kind == "position":
            e["speed"] = speed
        return e

    return make
