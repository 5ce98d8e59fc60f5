"""Events through the service, on SQLite and PostgreSQL: alerts per episode, duplicates and
late events, a refused batch leaving nothing behind, positions packed and read back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.seals.conftest import OFF_ROUTE, trip_body

from onewindow.kit.errors import Conflict, InvalidInput
from onewindow.kit.node import Node
from onewindow.seals import (
    EventChunk,
    EventIn,
    EventLog,
    SealAlert,
    Source,
    TripCreate,
    acknowledge,
    chunks,
    end_trip,
    ingest,
    register_trip,
    sweep,
    track,
    trip,
)
from onewindow.seals.models import SealTrip, SealTripState
from onewindow.seals.packing import CHUNK

REF = "26TH000000000001A1"
ACME = Source(platform="ACME")
Make = Callable[..., dict[str, Any]]


def take(node: Node, events: list[dict[str, Any]], source: Source = ACME) -> Any:
    with node.transaction() as s:
        return ingest(
            s, [EventIn.model_validate(e) for e in events], source=source, now=node.clock.now()
        )


def count(s: Session, model: type) -> int:
    return s.scalar(select(func.count()).select_from(model)) or 0


def kinds(node: Node) -> list[str]:
    with node.transaction() as s:
        return [a.kind for a in trip(s, REF).alerts]


@pytest.fixture(autouse=True)
def _later(node: Node, secrets_: dict[str, str]) -> None:
    node.clock.advance(hours=12)  # the trip registered, its events are in the clock's past


def test_a_detour_and_an_opened_door_raise_one_alert_each(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    on = [event(n, n) for n in range(1, 6)]
    off = [event(n, n, at=OFF_ROUTE) for n in range(6, 12)]
    doors = [event(n, n, "door_open") for n in range(12, 15)]
    done = take(node, on + off + doors)
    assert (done.accepted, done.duplicates, done.late) == (14, 0, 0)
    assert [a.kind for a in done.alerts] == ["off_route", "door_open"]
    off_alert = done.alerts[0]
    assert (off_alert.lat, off_alert.lon) == OFF_ROUTE and "from the route" in off_alert.detail
    assert kinds(node) == ["off_route", "door_open"]
    # still off the route in the next batch: the same episode, no new alert
    assert take(node, [event(20, 20, at=OFF_ROUTE)]).alerts == []


def test_duplicates_are_ignored_and_late_events_stored_without_moving_back(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    take(node, [event(1, 1), event(3, 15, at=OFF_ROUTE)])
    again = take(node, [event(1, 1), event(3, 15, at=OFF_ROUTE), event(3, 15)])
    assert (again.accepted, again.duplicates) == (0, 3)
    late = take(node, [event(2, 10)])  # on the route, but older than the detour
    assert (late.accepted, late.late, late.alerts) == (1, 1, [])
    with node.transaction() as s:
        found = trip(s, REF)
        assert (found.lat, found.lon) == OFF_ROUTE  # the newest position stays the trip's
        points = track(s, REF).points
    assert [p.at.minute for p in points] == [1, 10, 15]  # stored, and read back in time order
    # coming back onto the route later ends the episode; a new detour is a new alert
    take(node, [event(4, 18), event(5, 20, at=OFF_ROUTE)])
    assert kinds(node) == ["off_route", "off_route"]


def test_positions_are_packed_a_chunk_per_several_hundred(
    node: Node, secrets_: dict[str, str], event: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "LOG_ROWS", 4)  # the fourth batch moves the log to chunks
    total = CHUNK * 2 + 10
    for start in range(0, total, 300):  # batches that straddle chunk boundaries
        take(node, [event(n, n / 60) for n in range(start, min(start + 300, total))])
    with node.transaction() as s:
        assert count(s, EventChunk) == 3
        points = track(s, REF).points
    assert len(points) == total
    assert [round(p.lat, 7) for p in points[:2]] == [13.75, 13.75]
    assert points[-1].at > points[0].at and points[0].speed == 60.0


@pytest.mark.parametrize(
    ("change", "path", "code"),
    [
        ({"device": "SEAL-404"}, "events.1.device", "unknown_device"),
        ({"device": "SEAL-3"}, "events.1.device", "not_your_device"),
        ({"lat": None}, "events.1.lat", "missing"),
        ({"kind": "position", "lat": 1.0, "lon": None}, "events.1.lon", "missing"),
    ],
)
def test_a_bad_event_refuses_the_batch_and_nothing_is_stored(
    node: Node, secrets_: dict[str, str], event: Make, change: dict, path: str, code: str
) -> None:
    bad = {k: v for k, v in (event(2, 2) | change).items() if v is not None}
    with pytest.raises(InvalidInput) as refused:
        take(node, [event(1, 1), bad, event(3, 3, "door_open")])
    assert [(e.path, e.code) for e in refused.value.errors] == [(path, code)]
    with node.transaction() as s:
        assert (count(s, EventChunk), count(s, EventLog), count(s, SealAlert)) == (0, 0, 0)
        kept = s.scalars(select(SealTripState)).one()
        assert (kept.state["last_ms"], kept.seqs) == (None, {})


def test_events_ahead_of_the_clock_and_from_a_seal_on_no_trip(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    with pytest.raises(InvalidInput) as refused:
        take(node, [event(1, 13 * 60)], ACME)
    assert refused.value.errors[0].code == "in_future"
    with pytest.raises(InvalidInput) as refused:
        take(node, [event(1, 1, device="SEAL-3")], Source())
    assert refused.value.errors[0].code == "not_on_trip"


def test_silence_on_the_next_event_and_by_the_sweep_once_per_episode(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    # registered at 08:00 with a 20-minute limit; the clock is at 20:00: the sweep raises it
    with node.transaction() as s:
        assert [a.kind for a in sweep(s, now=node.clock.now())] == ["silence"]
        assert sweep(s, now=node.clock.now()) == []
    take(node, [event(1, 60)])  # heard again: this event raises nothing more
    take(node, [event(2, 100)])  # 40 minutes without an event: a second episode
    assert kinds(node) == ["silence", "silence"]


def test_a_long_stop_and_a_release_away_from_the_destination(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    take(node, [event(n, n * 10, speed=0) for n in range(1, 6)])
    take(node, [event(6, 55, "released", at=None)])
    assert kinds(node) == ["long_stop", "wrong_arrival"]


def test_ending_at_another_office_raises_wrong_arrival_and_frees_the_seals(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    take(node, [event(1, 1)])
    with node.transaction() as s:
        ended = end_trip(s, REF, office="TH9999", now=node.clock.now(), actor="officer1")
        assert ended.status == "ended" and [a.kind for a in ended.alerts] == ["wrong_arrival"]
        with pytest.raises(Conflict):
            end_trip(s, REF, office="TH0301", now=node.clock.now(), actor="officer1")
        # the seal is free for the next trip
        again = TripCreate.model_validate(trip_body("26TH000000000002A1", ["SEAL-1"]))
        register_trip(s, again, now=node.clock.now(), actor="t")
    # a late event of the ended trip still finds it; a new one goes to the new trip
    late = take(node, [event(2, 2)])
    assert late.accepted == 1
    with node.transaction() as s:
        assert len(track(s, REF).points) == 2


def test_a_seal_in_use_unknown_or_twice_is_refused_by_field(
    node: Node, secrets_: dict[str, str]
) -> None:
    body = trip_body("26TH000000000003A1", ["SEAL-2", "SEAL-404", "SEAL-3", "SEAL-3"])
    with node.transaction() as s, pytest.raises(InvalidInput) as refused:
        register_trip(s, TripCreate.model_validate(body), now=node.clock.now(), actor="t")
    assert [(e.path, e.code) for e in refused.value.errors] == [
        ("seals.0", "seal_in_use"),
        ("seals.1", "unknown_device"),
        ("seals.3", "duplicate"),
    ]
    with node.transaction() as s:
        assert count(s, SealTrip) == 1


def test_an_alert_is_acknowledged_once_with_a_note(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    alert = take(node, [event(1, 1, "tamper")]).alerts[0]
    with node.transaction() as s:
        done = acknowledge(
            s,
            REF,
            alert.id,
            note="seal checked at MY border",
            actor="officer1",
            now=node.clock.now(),
        )
        assert (done.acknowledged_by, done.note) == ("officer1", "seal checked at MY border")
        with pytest.raises(Conflict):
            acknowledge(s, REF, alert.id, note="again", actor="o2", now=node.clock.now())
