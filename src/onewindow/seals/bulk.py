"""Rows of a table updated by their primary key with one DB-API executemany: the statement compiled
once, the values converted a column at a time by their columns' own types, as a Core update
would convert them. A batch updates thousands of trips and seals; SQLAlchemy's per-row
parameter machinery cost more than the updates (the same reason as `kit.db.insert_values`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from onewindow.kit import db


@dataclass(frozen=True)
class _Statement:
    sql: str
    order: tuple[int, ...] | None  # positional drivers: where each parameter is in a row
    names: tuple[str, ...]  # named drivers: each value's name, in a row's order
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]


@lru_cache(maxsize=64)
def _statement(tbl: Table, columns: tuple[str, ...], dialect: Dialect) -> _Statement:
    names = ("b_id", *(f"b_{c}" for c in columns))
    (key,) = tbl.primary_key.columns
    statement = update(tbl).where(key == bindparam("b_id"))
    compiled = statement.values({c: bindparam(f"b_{c}") for c in columns}).compile(dialect=dialect)
    order = None
    if compiled.positional:
        order = tuple(names.index(name) for name in compiled.positiontup or ())
    converters = []
    for n, column in enumerate(columns, start=1):
        convert = tbl.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converters.append((n, convert))
    return _Statement(compiled.string, order, names, tuple(converters))


def update_many(
    session: Session, model: type[db.Base], columns: tuple[str, ...], rows: list[tuple]
) -> None:
    """Each row (key, *values of `columns`) written to the row of that primary key."""
    if not rows:
        return
    conn = session.connection()
    made = _statement(db.table(model), columns, conn.dialect)
    values: list[Any] = list(zip(*rows, strict=True))
    for n, convert in made.converters:
        values[n] = list(map(convert, values[n]))
    if made.order is not None:
        values = [values[n] for n in made.order]
        conn.exec_driver_sql(made.sql, list(zip(*values, strict=True)))
    else:
        conn.exec_driver_sql(
            made.sql, [dict(zip(made.names, row, strict=True)) for row in zip(*values, strict=True)]
        )
