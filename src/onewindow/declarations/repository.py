"""Queries for declarations and the allocation of their numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onewindow.declarations.models import Declaration, NumberSequence
from onewindow.kit.db import insert_many


def allocate_numbers(session: Session, office: str, year: int, count: int) -> list[str]:
    """Reserve `count` consecutive numbers `OFFICE-YYYY-NNNNNNN` in one upsert. The row lock
    it takes serialises concurrent lodgers on PostgreSQL; SQLite serialises writers anyway."""
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = make(NumberSequence).values(office=office, year=year, last=count)
    last = session.execute(
        stmt.on_conflict_do_update(
            index_elements=[NumberSequence.office, NumberSequence.year],
            set_={"last": NumberSequence.last + stmt.excluded.last},
        ).returning(NumberSequence.last)
    ).scalar_one()
    return [f"{office}-{year}-{n:07d}" for n in range(last - count + 1, last + 1)]


def insert_declarations(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many declarations and return their ids in the order given. (RETURNING in
    parameter order would make SQLite insert one row per statement; one look-up is cheaper.)"""
    if not rows:
        return []
    insert_many(session, Declaration, rows)
    numbers = [r["number"] for r in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(numbers), 900):
        chunk = numbers[start : start + 900]
        stmt = select(Declaration.number, Declaration.id).where(Declaration.number.in_(chunk))
        ids.update({number: id_ for number, id_ in session.execute(stmt)})
    return [ids[n] for n in numbers]


def by_number(session: Session, number: str, lock: bool = False) -> Declaration | None:
    stmt = select(Declaration).where(Declaration.number == number)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def by_numbers(session: Session, numbers: list[str]) -> list[Declaration]:
    found: list[Declaration] = []
    for start in range(0, len(numbers), 900):
        chunk = numbers[start : start + 900]
        found += session.scalars(select(Declaration).where(Declaration.number.in_(chunk)))
    return found


def search(
    session: Session,
    *,
    party_id: str | None,
    status: str | None = None,
    channel: str | None = None,
    type_: str | None = None,
    office: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Declaration]:
    stmt = select(Declaration).order_by(Declaration.id.desc()).limit(limit).offset(offset)
    if party_id is not None:
        stmt = stmt.where(
            (Declaration.declarant_id == party_id) | (Declaration.importer_id == party_id)
        )
    for column, value in (
        (Declaration.status, status),
        (Declaration.channel, channel),
        (Declaration.type, type_),
        (Declaration.office, office),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return list(session.scalars(stmt))


def count_by_status(session: Session, party_id: str | None) -> dict[str, int]:
    stmt = select(Declaration.status, func.count()).group_by(Declaration.status)
    if party_id is not None:
        stmt = stmt.where(
            (Declaration.declarant_id == party_id) | (Declaration.importer_id == party_id)
        )
    return {status: count for status, count in session.execute(stmt)}


def released_between(session: Session, start: datetime, end: datetime) -> list[Any]:
    stmt = select(Declaration.channel, Declaration.lodged_at, Declaration.released_at).where(
        Declaration.released_at.is_not(None), Declaration.released_at.between(start, end)
    )
    return list(session.execute(stmt))


def count_by(session: Session, column: Any) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).group_by(column))
    return {key: n for key, n in rows}


def recent_scores(session: Session, since: datetime, limit: int) -> list[float]:
    """The last `limit` risk scores given since `since`, oldest first."""
    stmt = (
        select(Declaration.risk_score)
        .where(Declaration.lodged_at >= since, Declaration.risk_score.is_not(None))
        .order_by(Declaration.lodged_at.desc(), Declaration.id.desc())
        .limit(limit)
    )
    return [float(s) for s in reversed(list(session.scalars(stmt))) if s is not None]
