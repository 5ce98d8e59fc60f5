"""Migration 0003 creates exactly the exchange tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from onewindow.exchange import models
from onewindow.kit.db import Base


def _names(diff: object) -> set[str]:
    """Every name a diff entry mentions (tables, indexes, columns' tables)."""
    found: set[str] = set()
    stack = [diff]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        if isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            found.add(item)
        else:
            for attr in ("name", "table"):
                value = getattr(item, attr, None)
                if value is not None:
                    found.add(str(getattr(value, "name", value)))
    return found


def test_migration_matches_models(engine: Engine) -> None:
    tables = {m.__tablename__ for m in vars(models).values() if hasattr(m, "__tablename__")}
    assert tables == {
        "exchange_outgoing",
        "exchange_incoming",
        "exchange_versions",
        "exchange_issuers",
        "exchange_partners",
    }
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    ours = [d for d in diffs if any(n.startswith("exchange_") for n in _names(d))]
    assert ours == []
