"""Devices' signed events over the real Mosquitto broker at 127.0.0.1:1883, each test on
topics of its own (a unique prefix): taken, duplicates ignored, unsigned, badly signed and
unknown devices' messages refused without holding back the others."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from tests.seals.conftest import OFF_ROUTE

from onewindow.kit.node import Node
from onewindow.seals import sign, track, trip
from onewindow.seals.tasks import Listener

BROKER = "mqtt://127.0.0.1:1883"
REF = "26TH000000000001A1"
WAIT = 60.0  # a bound on waiting for the broker, never a measured time


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}/onewindow/seals"


@pytest.fixture
def listener(node: Node, secrets_: dict[str, str], prefix: str) -> Iterator[Listener]:
    node.clock.advance(hours=12)
    found = Listener(node, BROKER, prefix=prefix)
    found.start()
    try:
        assert found.subscribed.wait(WAIT), "no subscription: is Mosquitto running on 1883?"
        yield found
    finally:
        found.stop()


@pytest.fixture
def publish(prefix: str) -> Iterator[Callable[[str, bytes], None]]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"device-{uuid.uuid4().hex}")
    client.connect("127.0.0.1", 1883)
    client.loop_start()

    def send(device: str, payload: bytes) -> None:
        client.publish(f"{prefix}/{device}/events", payload, qos=1).wait_for_publish(WAIT)

    yield send
    client.disconnect()
    client.loop_stop()


def signed(secret: str, event: dict[str, Any]) -> bytes:
    body = {k: v for k, v in event.items() if k != "device"}
    return sign(secret, orjson.dumps(body))


def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "the listener did not take the messages"
        time.sleep(0.05)


def test_signed_events_are_taken_with_their_rules_and_duplicates_ignored(
    node: Node, listener: Listener, publish: Callable, secrets_: dict[str, str], event: Callable
) -> None:
    key = secrets_["SEAL-1"]
    publish("SEAL-1", signed(key, event(1, 1)))
    publish("SEAL-1", signed(key, event(2, 2, at=OFF_ROUTE)))
    publish("SEAL-2", signed(secrets_["SEAL-2"], event(1, 3, "door_open", device="SEAL-2")))
    publish("SEAL-1", signed(key, event(2, 2, at=OFF_ROUTE)))  # sent twice
    until(lambda: listener.counts.taken + listener.counts.duplicates == 4)
    assert (listener.counts.taken, listener.counts.duplicates) == (3, 1)
    with node.transaction() as s:
        assert [a.kind for a in trip(s, REF).alerts] == ["off_route", "door_open"]
        assert [p.kind for p in track(s, REF).points] == ["position", "position", "door_open"]


def test_bad_messages_are_refused_and_the_good_ones_still_taken(
    node: Node, listener: Listener, publish: Callable, secrets_: dict[str, str], event: Callable
) -> None:
    key = secrets_["SEAL-1"]
    good = signed(key, event(1, 1))
    publish("SEAL-1", orjson.dumps(event(5, 5)))  # no signature
    publish("SEAL-1", good[:-64] + b"0" * 64)  # a signature, not the device's
    publish("SEAL-1", signed(secrets_["SEAL-2"], event(6, 6)))  # another device's secret
    publish("SEAL-404", signed(key, event(7, 7)))  # unknown device
    publish("SEAL-1", signed(key, event(8, 8) | {"lat": 95.0}))  # outside the world
    publish("SEAL-3", signed(secrets_["SEAL-3"], event(9, 9, device="SEAL-3")))  # on no trip
    publish("SEAL-1", good)
    until(lambda: listener.counts.taken + listener.counts.refused == 7)
    assert (listener.counts.taken, listener.counts.refused) == (1, 6)
    with node.transaction() as s:
        assert [p.at.minute for p in track(s, REF).points] == [1]
