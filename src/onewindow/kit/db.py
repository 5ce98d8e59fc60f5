"""Database engine and sessions (migrations: `kit.migrate`).

One request, task or CLI command is one transaction: `transaction()` commits at the edge and
rolls back on any error, so a failed command leaves no partial data. `write_transaction()`
is the same for threads writing often and briefly (the exchange gateway's), which on SQLite
take turns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import DateTime, MetaData, Table, TypeDecorator, create_engine, event, insert
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Times are UTC. SQLite forgets the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: OneWindow stores UTC times only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table(model: type[Base]) -> Table:
    """A model's Core table, for bulk inserts that skip the ORM's per-row work."""
    return cast(Table, model.__table__)


@lru_cache(maxsize=256)
def _insert_statement(
    tbl: Table, columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[str, ...] | None]:
    """The INSERT for these columns, compiled once, and the order its positional parameters
    take (None when the driver takes named ones)."""
    compiled = insert(tbl).compile(dialect=dialect, column_keys=list(columns))
    return compiled.string, tuple(compiled.positiontup or ()) if compiled.positional else None


def insert_values(
    session: Session, tbl: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One DB-API executemany of rows whose values are in `columns` order and already in the
    driver's types: SQLAlchemy's per-row parameter machinery costs more than the inserts."""
    if not rows:
        return
    conn = session.connection()
    sql, order = _insert_statement(tbl, columns, conn.dialect)
    params: list[Any] = rows
    if order is None:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    elif order != columns:
        index = [columns.index(name) for name in order]
        params = [tuple(row[i] for i in index) for row in rows]
    conn.exec_driver_sql(sql, params)


@dataclass(frozen=True)
class _Conversions:
    columns: tuple[str, ...]  # in the table's order, which is the statement's
    fill: dict[str, Any]  # scalar defaults of the columns the rows leave out
    converters: list[tuple[int, Callable[[Any], Any]]]  # the columns whose type converts values


@lru_cache(maxsize=256)
def _conversions(tbl: Table, keys: frozenset[str], dialect: Dialect) -> _Conversions:
    fill: dict[str, Any] = {}
    for column in tbl.columns:
        if column.key in keys or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{tbl.name}.{column.key}: a computed default must be given")
        fill[column.key] = column.default.arg  # type: ignore[attr-defined]
    columns = tuple(c.key for c in tbl.columns if c.key in keys or c.key in fill)
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for n, key in enumerate(columns):
        convert = tbl.c[key].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converters.append((n, convert))
    return _Conversions(columns, fill, converters)


def insert_many(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert rows that share one set of keys with `insert_values`, each value converted by its
    column's own type exactly as a Core insert would. Columns left out get their scalar
    default."""
    if not rows:
        return
    tbl = table(model)
    plan = _conversions(tbl, frozenset(rows[0]), session.connection().dialect)
    if plan.fill:
        rows = [plan.fill | row for row in rows]
    # Column by column, so that the loops run in C: pick the values, convert those whose type
    # needs it, and zip the columns back into rows.
    names = plan.columns
    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    columns: list[Any] = list(zip(*map(pick, rows), strict=True))
    for n, convert in plan.converters:
        columns[n] = map(convert, columns[n])
    insert_values(session, tbl, names, list(zip(*columns, strict=True)))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _postgresql_utc(dbapi_connection: Any, _record: Any) -> None:
    """The database's days are UTC days, as OneWindow's are (`date(lodged_at)` groups by
    them), whatever zone its server or the client's PGTZ says."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def jsonable(value: Any) -> Any:
    """A document as a JSON column keeps it: dates in ISO form, Decimals as strings."""
    return orjson.loads(orjson.dumps(value, default=str))


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_serializer", _json)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "connect", _postgresql_utc)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_SQLITE_WRITERS: dict[str, threading.Lock] = {}


@contextmanager
def write_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction for threads that write often and briefly. On SQLite they take turns
    within the process: SQLite has one writer at a time anyway, and a writer waiting on
    SQLite's own lock sleeps in steps of up to 100 ms, which is most of the time at a few
    hundred documents a second."""
    bind = sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        with transaction(sessions) as session:
            yield session
        return
    lock = _SQLITE_WRITERS.setdefault(str(bind.url), threading.Lock())
    with lock, transaction(sessions) as session:
        yield session
