"""The seals branch starts from the node's chain: a node at 0011 upgrades to it and gets the
tables the models describe; downgrading the branch removes them and nothing else."""

from __future__ import annotations

from typing import Any

import orjson
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from onewindow.kit import db, migrate

BASE = "0011_ledger_checks"
TABLES = {"seal_platforms", "seal_devices", "seal_trips", "seal_trip_states", "seal_trip_seals",
          "seal_event_chunks", "seal_alerts"}  # fmt: skip


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
