"""What a process keeps of trips between batches (`seals.memory`), on SQLite and PostgreSQL:
reused while the trip's version is unchanged; read again after another process's write (a
real second process), another engine's, or this process's own write rolled back. And the
log of batches: it is moved into a chunk per seal when full, every event read back from both."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from tests.seals.conftest import trip_body
from tests.seals.test_ingest import ACME, REF, kinds, take

import onewindow
from onewindow.kit import db
from onewindow.kit.node import Node
from onewindow.seals import (
    EventChunk,
    EventIn,
    TripCreate,
    chunks,
    end_trip,
    ingest,
    memory,
    packing,
    register_trip,
    track,
)
from onewindow.seals.models import EventLog, SealTripState
from onewindow.seals.seats import take_turns

Make = Callable[..., dict[str, Any]]
SRC = Path(onewindow.__file__).parents[1]
CLI = (sys.executable, "-c", "from onewindow.cli.main import main; main()")


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def _later(node: Node, secrets_: dict[str, str]) -> None:
    node.clock.advance(hours=12)  # the trip registered, its events are in the clock's past


def reads(node: Node) -> int:
    with node.transaction() as s:
        return memory.of(s).reads


def sweep_in_another_process(node: Node) -> list[dict[str, Any]]:
    """`onewindow seals sweep` run by a process of its own on the same database; its clock
    is the machine's, days after the test node's, so every active trip is silent."""
    env = os.environ | {
        "ONEWINDOW_DATABASE_URL": node.settings.database_url,
        "PYTHONPATH": str(SRC),
    }
    done = subprocess.run(
        [*CLI, "seals", "sweep", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


def test_the_trip_is_reused_until_another_process_writes_it(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    before = reads(node)
    take(node, [event(1, 1)])
    take(node, [event(2, 2)])
    assert reads(node) == before + 1  # read once, then reused
    assert sweep_in_another_process(node) == {"alerts": 1}
    assert kinds(node) == ["silence"]
    # heard again an hour later: the other process's sweep marked the trip silent already,
    # so no second alert; a stale copy (not silent, heard at minute 2) would raise one
    done = take(node, [event(3, 62)])
    assert done.alerts == [] and kinds(node) == ["silence"]
    assert reads(node) == before + 2


def test_another_engine_ending_the_trip_is_noticed(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    take(node, [event(1, 1)])
    other = db.make_engine(node.settings.database_url)
    try:
        with db.transaction(db.session_factory(other)) as s:
            end_trip(s, REF, office="TH9999", now=node.clock.now(), actor="officer1")
    finally:
        other.dispose()
    # the end raised wrong_arrival once; a release away from the destination, late, finds
    # the ended trip with the flag set and raises nothing more
    done = take(node, [event(2, 2, "released", at=None)])
    assert (done.accepted, done.alerts) == (1, [])
    assert kinds(node) == ["wrong_arrival"]


def test_a_batch_rolled_back_is_not_reused(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    take(node, [event(1, 1)])
    with pytest.raises(Boom), node.transaction() as s:
        done = ingest(
            s, [EventIn.model_validate(event(2, 2, "door_open"))], source=ACME, now=node.clock.now()
        )
        assert [a.kind for a in done.alerts] == ["door_open"]
        raise Boom  # the caller fails after the batch: nothing of it is kept
    # the door event again (it was never stored): its alert again, as the rows say
    done = take(node, [event(2, 2, "door_open")])
    assert [a.kind for a in done.alerts] == ["door_open"]
    assert kinds(node) == ["door_open"]


def logged(node: Node) -> int:
    with node.transaction() as s:
        return s.scalar(select(func.count()).select_from(EventLog)) or 0


def test_small_batches_fill_the_log_then_a_chunk_per_seal(
    node: Node, secrets_: dict[str, str], event: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "LOG_ROWS", 8)
    total = 8 * 3 + 5
    for n in range(1, total + 1):  # one event a batch, as a device over MQTT
        take(node, [event(n, n / 60)])
        assert logged(node) == n % 8  # the eighth batch moves the log into a chunk
    with node.transaction() as s:
        rows = s.execute(select(EventChunk.count, EventChunk.seq_from, EventChunk.seq_to)).all()
        points = track(s, REF).points
    assert sorted(rows) == [(8, 1, 8), (8, 9, 16), (8, 17, 24)]
    assert len(points) == total  # the chunks' and the log's
    assert [p.at for p in points] == sorted(p.at for p in points)
    # ids below the highest are found in chunks and in the log: all duplicates
    again = take(node, [event(n, n / 60) for n in (1, 8, 26, total)])
    assert (again.accepted, again.duplicates) == (0, 4)


def test_the_log_moves_each_seal_into_its_own_chunks_in_time_order(
    node: Node, secrets_: dict[str, str], event: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "LOG_RECORDS", 30)
    # two seals, their events in turn, each seal's a little out of order; a late event a
    # month back (more than a chunk's ±24 days from the others): a chunk of its own
    batch = [
        event(n, 60 + (n % 3) * 0.1, device=d) for n in range(1, 16) for d in ("SEAL-1", "SEAL-2")
    ]
    take(node, batch[:20])
    assert logged(node) == 1
    take(node, [*batch[20:], event(16, -40 * 24 * 60, "door_open", at=None), event(17, 61)])
    assert logged(node) == 0
    with node.transaction() as s:
        rows = s.execute(
            select(EventChunk.device_id, EventChunk.count, EventChunk.base_ms, EventChunk.data)
        ).all()
        points = track(s, REF).points
    assert sorted((d, n) for d, n, _, _ in rows) == [("SEAL-1", 1), ("SEAL-1", 16), ("SEAL-2", 15)]
    for _, _, base, data in rows:
        times = packing.times(base, packing.unpack(data)).tolist()
        assert times == sorted(times)
    assert len(points) == 31  # the door event has no position


def test_on_sqlite_a_batch_takes_the_write_lock_before_reading(node: Node) -> None:
    if not node.settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks the trips' rows instead (FOR UPDATE)")
    other = sqlite3.connect(node.settings.database_url.split("///", 1)[1], timeout=0.1)
    try:
        with node.transaction() as s:
            take_turns(s)  # what a batch does first, before reading a trip
            # until the batch commits, another process cannot write a trip in between
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("UPDATE seal_trip_states SET version = 1")
        other.execute("UPDATE seal_trip_states SET version = 1")  # free once committed
        other.commit()
    finally:
        other.close()
    with node.transaction() as s:
        assert set(s.scalars(select(SealTripState.version))) == {1}


def test_a_seal_moved_to_another_trip_by_another_engine_is_noticed(
    node: Node, secrets_: dict[str, str], event: Make
) -> None:
    take(node, [event(1, 1), event(1, 1, device="SEAL-2")])
    with node.transaction() as s:
        mind = memory.of(s)
    before = mind.device_reads
    take(node, [event(2, 2), event(2, 2, device="SEAL-2")])
    assert mind.device_reads == before  # the seats kept: their trip's version held
    other = db.make_engine(node.settings.database_url)
    try:
        with db.transaction(db.session_factory(other)) as s:
            end_trip(s, REF, office="TH0301", now=node.clock.now(), actor="officer1")
            body = trip_body("26TH000000000002A1", ["SEAL-1"])
            register_trip(s, TripCreate.model_validate(body), now=node.clock.now(), actor="t")
    finally:
        other.dispose()
    # events after the end go to the seal's new trip; the old one keeps its two
    take(node, [event(3, 12 * 60 + 2)])
    assert mind.device_reads == before + 1
    with node.transaction() as s:
        assert len(track(s, REF).points) == 4
        assert len(track(s, "26TH000000000002A1").points) == 1
