"""The seals over HTTPS: a platform's batch with its key, hostile batches refused with a 4xx
naming the field and reason and nothing stored, officials reading and acknowledging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.seals.conftest import OFF_ROUTE

from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.node import Node
from onewindow.seals import EventChunk, EventLog, SealAlert

EVENTS = "/api/v1/seals/events"
TRIP = "/api/v1/seals/trips/26TH000000000001A1"
Make = Callable[..., dict[str, Any]]


@pytest.fixture
def client(node: Node, secrets_: dict[str, str]) -> TestClient:
    node.clock.advance(hours=12)
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def acme(platform_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform_key}"}


def stored(node: Node) -> tuple[int, int]:
    with node.transaction() as s:
        chunks = s.scalar(select(func.count()).select_from(EventChunk)) or 0
        chunks += s.scalar(select(func.count()).select_from(EventLog)) or 0
        alerts = s.scalar(select(func.count()).select_from(SealAlert))
    return chunks or 0, alerts or 0


def test_a_platform_posts_a_batch_and_officials_read_the_trip(
    node: Node, client: TestClient, acme: dict[str, str], event: Make, tokens: dict[str, str]
) -> None:
    batch = [event(1, 1), event(2, 2, at=OFF_ROUTE), event(3, 3, "door_open", at=None)]
    r = client.post(EVENTS, json={"events": batch}, headers=acme)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 3 and [a["kind"] for a in r.json()["alerts"]] == [
        "off_route",
        "door_open",
    ]
    again = client.post(EVENTS, json={"events": batch}, headers=acme).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    officer = {"Authorization": f"Bearer {tokens['officer']}"}
    trip = client.get(TRIP, headers=officer).json()
    assert trip["status"] == "active" and [trip["lat"], trip["lon"]] == list(OFF_ROUTE)
    track = client.get(f"{TRIP}/track", headers=officer).json()
    assert [p["kind"] for p in track["points"]] == ["position", "position"]
    alert = trip["alerts"][0]["id"]
    url = f"{TRIP}/alerts/{alert}/acknowledgement"
    done = client.post(url, json={"note": "driver called: road works"}, headers=officer)
    assert done.status_code == 200 and done.json()["acknowledged_by"] == "officer1"
    assert client.post(url, json={"note": "again"}, headers=officer).status_code == 409
    open_ones = client.get("/api/v1/seals/alerts?open=true", headers=officer).json()
    assert [a["kind"] for a in open_ones] == ["door_open"]
    trader = {"Authorization": f"Bearer {tokens['trader']}"}
    assert client.get(TRIP, headers=trader).status_code == 403
    assert client.post(url, json={"note": "x"}, headers=trader).status_code == 403


def test_keys_users_and_other_platforms(
    node: Node, client: TestClient, acme: dict[str, str], event: Make, tokens: dict[str, str]
) -> None:
    body = {"events": [event(1, 1)]}
    assert client.post(EVENTS, json=body).status_code == 401
    wrong = client.post(EVENTS, json=body, headers={"Authorization": "Bearer owp_guess"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "not_authenticated"
    user = client.post(EVENTS, json=body, headers={"Authorization": f"Bearer {tokens['officer']}"})
    assert user.status_code == 403 and user.json()["code"] == "forbidden"
    # SEAL-3 belongs to no platform: ACME may not report for it
    other = client.post(EVENTS, json={"events": [event(1, 1, device="SEAL-3")]}, headers=acme)
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "not_your_device"
    assert stored(node) == (0, 0)


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        ({"lat": 91.0}, "events.1.lat", "less_than_equal"),
        ({"lon": -180.5}, "events.1.lon", "greater_than_equal"),
        ({"kind": "teleported"}, "events.1.kind", "literal_error"),
        ({"device": "SEAL-404"}, "events.1.device", "unknown_device"),
        ({"id": -1}, "events.1.id", "greater_than_equal"),
        ({"at": "2026-11-20T08:02:00"}, "events.1.at", "timezone_aware"),
        ({"speed": "fast"}, "events.1.speed", "float_parsing"),
    ],
)
def test_a_bad_event_is_named_and_nothing_of_the_batch_is_stored(
    node: Node, client: TestClient, acme: dict[str, str], event: Make, change: dict, path: str,
    code: str,
) -> None:  # fmt: skip
    batch = [event(1, 1, "door_open"), event(2, 2) | change, event(3, 3, at=OFF_ROUTE)]
    r = client.post(EVENTS, json={"events": batch}, headers=acme)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [(e["path"], e["code"]) for e in r.json()["errors"]] == [(path, code)]
    assert stored(node) == (0, 0)


def test_not_json_and_too_many_events(
    node: Node, client: TestClient, acme: dict[str, str], event: Make
) -> None:
    r = client.post(EVENTS, content=b'{"events": [', headers=acme)
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "json_invalid"
    many = {"events": [event(n, 1) for n in range(20_001)]}
    r = client.post(EVENTS, content=orjson.dumps(many), headers=acme)
    assert r.status_code == 413 and "at most 20000 events" in r.json()["detail"]
    assert stored(node) == (0, 0)


def test_a_100_mb_batch_by_its_length_is_refused_with_413(
    node: Node, client: TestClient, acme: dict[str, str]
) -> None:
    """By its Content-Length, before any of it is read (sent chunked, without a length, it is
    refused while being read: tests/integration/test_seals_node.py, over a real socket)."""
    declared = client.post(EVENTS, content=b"{}", headers=acme | {"Content-Length": str(100 << 20)})
    assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"
    assert stored(node) == (0, 0)


def test_a_user_token_is_refused_before_the_body_is_read(client: TestClient, node: Node) -> None:
    with node.transaction() as s:
        token = auth.create_user(s, "adm", auth.Role.ADMINISTRATOR, None)
    r = client.post(EVENTS, content=b"not even json", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
