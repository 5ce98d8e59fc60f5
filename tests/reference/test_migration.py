"""The reference branch starts from the node's chain: a node at 0011 upgrades to it and gets the
table the model describes; downgrading the branch removes it and nothing else."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from onewindow.kit import db, migrate
from onewindow.reference import ReferenceEntry

BASE = "0011_ledger_checks"
TABLE = ReferenceEntry.__tablename__


def test_the_branch_upgrades_a_node_and_matches_the_model(empty_engine: Engine) -> None:
    cfg = migrate.alembic_config(empty_engine)
    command.upgrade(cfg, BASE)
    assert TABLE not in inspect(empty_engine).get_table_names()
    command.upgrade(cfg, "reference@head")
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, db.Base.metadata)
    assert [d for d in diffs if TABLE in str(d)] == []
    command.downgrade(cfg, BASE)
    names = inspect(empty_engine).get_table_names()
    assert TABLE not in names and "ledger_checks" in names
