"""Queries for declarations and the allocation of their numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onewindow.declarations.models import Control, Declaration, NumberSequence
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


QUEUE_COLUMNS = (
    Declaration.id,
    Declaration.number,
    Declaration.type,
    Declaration.status,
    Declaration.channel,
    Declaration.office,
    Declaration.declarant_id,
    Declaration.importer_name,
    Declaration.lodged_at,
)


def queue(
    session: Session, statuses: tuple[str, ...], office: str | None, limit: int, offset: int
) -> list[Row[Any]]:
    """Declarations in `statuses` (of one office, or all), oldest first.

    The page's ids come from the queue's indexes alone: each status is read in index order
    (status[, office], lodged_at, id), stopping after `offset + limit` entries, and the
    statuses merged; then only those rows are read. No sort of the whole queue, and no
    walk through the older declarations long released (which a plan reading the table in
    `lodged_at` order and filtering by status would do)."""
    parts = []
    for status in statuses:
        part = select(Declaration.id, Declaration.lodged_at).where(Declaration.status == status)
        if office is not None:
            part = part.where(Declaration.office == office)
        ordered = part.order_by(Declaration.lodged_at, Declaration.id).limit(offset + limit)
        parts.append(select(ordered.subquery()))
    merged = union_all(*parts).subquery()
    page = select(merged.c.id).order_by(merged.c.lodged_at, merged.c.id)
    ids = list(session.scalars(page.limit(limit).offset(offset)))
    if not ids:
        return []
    found: dict[int, Any] = {
        r.id: r for r in session.execute(select(*QUEUE_COLUMNS).where(Declaration.id.in_(ids)))
    }
    return [found[i] for i in ids]


def offices(session: Session) -> list[str]:
    """The offices that lodge declarations, from their number sequences (a row per office
    and year): a few rows to read, not the declarations."""
    stmt = select(NumberSequence.office).distinct().order_by(NumberSequence.office)
    return list(session.scalars(stmt))


def openings(session: Session, ids: list[int]) -> list[Control]:
    """Who took each of these declarations in hand, and for which status."""
    if not ids:
        return []
    stmt = (
        select(Control)
        .where(Control.declaration_id.in_(ids), Control.kind == "opened")
        .order_by(Control.id)
    )
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
