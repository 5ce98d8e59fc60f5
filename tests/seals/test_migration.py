"""The seals branch starts from the node's chain: a node at 0011 upgrades to it and gets the
tables the models describe; downgrading the branch removes them and nothing else."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
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
