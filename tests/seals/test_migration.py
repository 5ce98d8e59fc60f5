"""The seals branch starts from the node's chain: a node at 0011 upgrades to it and gets the
tables the models describe; downgrading the branch removes them and nothing else."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from onewindow.kit import db, migrate
from onewindow.seals import packing

BASE = "0011_ledger_checks"
TABLES = {"seal_platforms", "seal_devices", "seal_trips", "seal_trip_states", "seal_trip_seals",
          "seal_event_chunks", "seal_event_log", "seal_alerts"}  # fmt: skip


def test_the_branch_upgrades_a_node_and_matches_the_models(empty_engine: Engine) -> None:
    cfg = migrate.alembic_config(empty_engine)
    command.upgrade(cfg, BASE)
    assert not TABLES & set(inspect(empty_engine).get_table_names())
    command.upgrade(cfg, "seals@head")
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, db.Base.metadata)
    assert [d for d in diffs if any(t in str(d) for t in TABLES)] == []
    command.downgrade(cfg, BASE)
    names = set(inspect(empty_engine).get_table_names())
    assert not TABLES & names and "ledger_checks" in names


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value  # SQLite: text


def test_seals_0003_moves_the_running_state_and_back(empty_engine: Engine) -> None:
    """A trip's state, version and its seals' highest ids leave the trip's and seals' rows
    for `seal_trip_states`, and come back on downgrade."""
    cfg = migrate.alembic_config(empty_engine)
    command.upgrade(cfg, "seals_0002")
    state = {"last_ms": 1_764_000_000_000, "heard_ms": 1_764_000_000_000, "door": True}
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO seal_trips (id, reference, status, route, corridor_m, stops,"
                " max_stop_s, max_silence_s, destination_office, destination_lat,"
                " destination_lon, destination_radius_m, registered_at, state, version)"
                " VALUES (1, 'T1', 'active', '{}', 2000, '[]', 60, 60, 'TH0301', 1, 2, 3,"
                " '2026-11-20 08:00:00', :state, 77)"
            ),
            {"state": orjson.dumps(state).decode()},
        )
        conn.execute(
            text(
                "INSERT INTO seal_devices (id, secret, created_at) VALUES"
                " ('S1', 'x', '2026-11-20'), ('S2', 'x', '2026-11-20')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO seal_trip_seals (trip_id, device_id, active, last_seq) VALUES"
                " (1, 'S1', true, 41), (1, 'S2', true, -1)"
            )
        )
    command.upgrade(cfg, "seals@head")
    with empty_engine.connect() as conn:
        row = conn.execute(text("SELECT trip_id, state, seqs, version FROM seal_trip_states"))
        (trip_id, kept, seqs, version), *more = row.all()
    assert (trip_id, _json(kept), _json(seqs), version, more) == (
        1, state, {"S1": 41}, 77, []
    )  # fmt: skip
    command.downgrade(cfg, "seals_0002")
    with empty_engine.connect() as conn:
        back = conn.execute(text("SELECT state, version, last_at FROM seal_trips")).one()
        seats = dict(conn.execute(text("SELECT device_id, last_seq FROM seal_trip_seals")).all())
    assert (_json(back[0]), back[1], seats) == (state, 77, {"S1": 41, "S2": -1})
    assert str(back[2]).startswith("2025-11-24")


def test_seals_0004_gives_the_log_back_as_chunks_on_downgrade(empty_engine: Engine) -> None:
    """The log of batches comes with seals_0004; going back below it, the records in the log
    become chunks, a seal's in time order, as the older code reads them."""
    cfg = migrate.alembic_config(empty_engine)
    command.upgrade(cfg, "seals@head")
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO seal_trips (id, reference, status, route, corridor_m, stops,"
                " max_stop_s, max_silence_s, destination_office, destination_lat,"
                " destination_lon, destination_radius_m, registered_at)"
                " VALUES (1, 'T1', 'active', '{}', 2000, '[]', 60, 60, 'TH0301', 1, 2, 3,"
                " '2026-11-20 08:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO seal_devices (id, secret, created_at) VALUES"
                " ('S1', 'x', '2026-11-20'), ('S2', 'x', '2026-11-20')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO seal_trip_seals (id, trip_id, device_id, active) VALUES"
                " (7, 1, 'S1', true), (8, 1, 'S2', true)"
            )
        )
        base = 1_764_000_000_000
        # two batches: S1 three records (one of them a month before), S2 one
        for seats, times, seqs in (([7, 8, 7], [base + 60_000, base, base], [2, 1, 1]),
                                   ([7], [base - 30 * 86_400_000], [3])):  # fmt: skip
            logged = np.zeros(len(seats), dtype=packing.LOGGED)
            logged["seat"], logged["ms"], logged["record"]["seq"] = seats, times, seqs
            logged["record"]["lat"] = 137_500_000
            conn.execute(
                text("INSERT INTO seal_event_log (count, data) VALUES (:n, :data)"),
                {"n": len(seats), "data": logged.tobytes()},
            )
    command.downgrade(cfg, "seals_0003")
    with empty_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT device_id, base_ms, count, seq_from, seq_to, data FROM seal_event_chunks")
        ).all()
    found = sorted(
        (device, packing.times(base_ms, packing.unpack(bytes(data))).tolist(), lo, hi)
        for device, base_ms, _, lo, hi, data in rows
    )
    assert found == [
        ("S1", [base - 30 * 86_400_000], 3, 3),  # over 24 days from the others: its own
        ("S1", [base, base + 60_000], 1, 2),
        ("S2", [base], 1, 1),
    ]
    assert "seal_event_log" not in inspect(empty_engine).get_table_names()
    command.upgrade(cfg, "seals@head")
