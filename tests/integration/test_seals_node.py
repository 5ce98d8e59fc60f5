"""`onewindow serve` with the e-seals: its MQTT listener takes a device's signed events from
the real Mosquitto broker, and a 100 MB batch sent chunked to the platforms' endpoint gets
413 while it is still being sent. Raw sockets for the body: a client library would not send
100 MB on purpose."""

from __future__ import annotations

import os
import select
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from tests.integration.conftest import BIN, NodeProcess, free_port
from tests.seals.conftest import trip_body

from onewindow.kit.config import settings_class
from onewindow.kit.node import Node
from onewindow.seals import TripCreate, add_device, add_platform, register_trip, sign, trip

WAIT = 120.0


@pytest.fixture
def seals_node(tmp_path: Path) -> Iterator[tuple[NodeProcess, str, str]]:
    """A node serving with a listener on topics of its own; SEAL-1 on a trip, ACME's key."""
    url = f"sqlite:///{tmp_path / 'node.db'}"
    node = Node.open(settings_class()(country="TH", currency="THB", database_url=url))
    now = datetime.now(UTC)
    with node.transaction() as s:
        key = add_platform(s, "ACME", now=now, actor="t").secret
        secret = add_device(s, "SEAL-1", platform="ACME", now=now, actor="t").secret
        register_trip(s, TripCreate.model_validate(trip_body()), now=now, actor="t")
    node.close()
    prefix = f"test-{uuid.uuid4().hex}/onewindow/seals"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")} | {
        "ONEWINDOW_DATABASE_URL": url,
        "ONEWINDOW_COUNTRY": "TH",
        "ONEWINDOW_PORT": str(port),
        "ONEWINDOW_SEALS_MQTT_URL": "mqtt://127.0.0.1:1883",
        "ONEWINDOW_SEALS_MQTT_PREFIX": prefix,
    }
    process = NodeProcess(
        [str(BIN), "serve"], env, f"http://127.0.0.1:{port}", tmp_path / "serve.log",
        cwd=tmp_path, country="TH",
    )  # fmt: skip
    try:
        yield process.start(), prefix, secret + " " + key
    finally:
        process.stop()


def test_serve_listens_to_the_broker_and_refuses_a_100_mb_batch(
    seals_node: tuple[NodeProcess, str, str], tmp_path: Path
) -> None:
    process, prefix, credentials = seals_node
    secret, key = credentials.split()
    assert f"listening on mqtt://127.0.0.1:1883 to {prefix}/+/events" in process.tail()
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"seal-{uuid.uuid4().hex}")
    device.connect("127.0.0.1", 1883)
    device.loop_start()
    event = {"id": 1, "kind": "door_open", "at": datetime.now(UTC).isoformat()}
    device.publish(f"{prefix}/SEAL-1/events", sign(secret, orjson.dumps(event)), qos=1)
    device.disconnect()
    device.loop_stop()
    url = f"sqlite:///{tmp_path / 'node.db'}"
    node = Node.open(settings_class()(country="TH", currency="THB", database_url=url))
    deadline = time.monotonic() + WAIT
    while True:
        with node.transaction() as s:
            alerts = [a.kind for a in trip(s, "26TH000000000001A1").alerts]
        if alerts or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    node.close()
    assert alerts == ["door_open"], process.tail()

    parts = urlsplit(process.url)
    chunk = b" " * 65536
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/v1/seals/events HTTP/1.1\r\nHost: node\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        while sent < 100_000_000 and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        answer = sock.recv(65536)
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 413"), head
    assert sent < 100_000_000
    assert "Traceback" not in process.tail()
