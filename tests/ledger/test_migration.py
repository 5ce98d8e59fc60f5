"""Migration 0002 creates exactly the ledger tables the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from onewindow.kit.db import Base
from onewindow.ledger import models


def _table(diff: Any) -> str:
    while isinstance(diff, list):  # column changes come as a list of tuples
        diff = diff[0]
    for item in diff[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else item
        table = getattr(item, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(name, str) and name.startswith("ledger_"):
            return name
    return ""


def test_migration_matches_models(engine: Engine) -> None:
    tables = {t.__tablename__ for t in vars(models).values() if hasattr(t, "__tablename__")}
    assert {"ledger_entries", "ledger_nodes", "ledger_state"} <= tables
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    ours = [d for d in diffs if _table(d).startswith("ledger_")]
    assert ours == []
