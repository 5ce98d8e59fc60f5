"""Reference use cases: load an edition of a list, find the entries in force on a date.

An import is an edition of the whole list from a date: what the administration publishes. An
entry the file leaves out is closed the day before (an office that shut disappears from the
dropdowns, which an upsert would never do); an entry whose description or attributes changed
is closed and its new version opened; an entry as it was is kept, so re-importing a file
changes nothing. Nothing is deleted, so a past date still shows the list as it was then. The
exception is an edition replaced on its own date (a corrected file): its own versions give way.
Editions go forward: one dated before the list's last change is refused, since it would have
to rewrite the history that declarations already used.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Executable, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.errors import invalid
from onewindow.reference import lists
from onewindow.reference.models import ReferenceEntry as E
from onewindow.reference.schemas import EntryRead, ImportResult, ListRead

DAY = timedelta(days=1)


def _in_force(on: date) -> ColumnElement[bool]:
    return (E.valid_from <= on) & or_(E.valid_to.is_(None), E.valid_to >= on)


def _changes(session: Session, on: date | None = None) -> dict[str, date]:
    """The date each list last changed (on or before `on`): an entry opened, or one closed
    (from the day after its last day)."""
    opened = select(E.list_name, func.max(E.valid_from)).group_by(E.list_name)
    closed = select(E.list_name, func.max(E.valid_to)).group_by(E.list_name)
    if on is not None:
        opened = opened.where(E.valid_from <= on)
        closed = closed.where(E.valid_to < on)
    found: dict[str, date] = {}
    for name, day in session.execute(opened):
        found[name] = day
    for name, last in session.execute(closed):
        if last is not None:
            found[name] = max(found.get(name, last + DAY), last + DAY)
    return found


def import_list(
    session: Session, name: str, text: str, valid_from: date, *, actor: str, at: datetime
) -> ImportResult:
    """Load `text` (the list's CSV) as the edition of list `name` in force from `valid_from`."""
    kind = lists.code_list(name)
    incoming = {row["code"]: row for row in lists.parse(kind, text)}
    last = _changes(session).get(name)
    if last is not None and valid_from < last:
        raise invalid(
            "valid_from",
            "before_last_edition",
            f"the {name} list last changed on {last}; an edition starts on or after it",
        )
    counts = {"added": 0, "changed": 0, "closed": 0, "unchanged": 0}
    current = session.scalars(select(E).where(E.list_name == name, E.valid_to.is_(None)))
    replaced = False
    for entry in current:
        row = incoming.get(entry.code)
        if row is not None and (row["description"], row["attributes"]) == (
            entry.description,
            entry.attributes,
        ):
            del incoming[entry.code]
            counts["unchanged"] += 1
            continue
        counts["changed" if row is not None else "closed"] += 1
        if entry.valid_from == valid_from:  # the same edition, corrected
            session.delete(entry)
            replaced = True
        else:
            entry.valid_to = valid_from - DAY
    if replaced:  # the deletes go before inserts of the same (list, code, date)
        session.flush()
    counts["added"] = len(incoming) - counts["changed"]
    session.add_all(E(list_name=name, valid_from=valid_from, **row) for row in incoming.values())
    result = ImportResult(name=name, valid_from=valid_from, **counts)
    audit.record(
        session,
        at=at,
        actor=actor,
        action="reference.imported",
        entity_type="reference_list",
        entity_id=name,
        detail=result.model_dump(mode="json"),
    )
    return result


def entries(session: Session, name: str, on: date) -> list[E]:
    """The entries of list `name` in force on `on`, by code."""
    lists.code_list(name)
    stmt = select(E).where(E.list_name == name, _in_force(on)).order_by(E.code)
    return list(session.scalars(stmt))


@lru_cache(maxsize=16)
def _holding(key: str) -> Executable:
    """Built once per attribute: how many entries of a list are in force on a date, and
    whether one of them has the attribute `key` at a value (1 if so)."""
    on = bindparam("on", type_=E.valid_from.type)
    match = case((E.attributes[key].as_string() == bindparam("value"), 1), else_=0)
    return select(func.count(), func.max(match)).where(
        E.list_name == bindparam("name"),
        E.valid_from <= on,
        or_(E.valid_to.is_(None), E.valid_to >= on),
    )


def holds(session: Session, name: str, key: str, value: str, on: date) -> bool | None:
    """Whether an entry of list `name` in force on `on` has attribute `key` equal to `value`;
    None when the list has no entry in force then (a node that does not keep it). One row
    read, not the whole list."""
    lists.code_list(name)
    row = session.execute(_holding(key), {"name": name, "value": value, "on": on}).one()
    return bool(row[1]) if row[0] else None


def summaries(session: Session, on: date) -> list[ListRead]:
    """Every list the node knows, with how many entries are in force on `on`."""
    stmt = select(E.list_name, func.count()).where(_in_force(on)).group_by(E.list_name)
    counts: dict[str, int] = {name: n for name, n in session.execute(stmt)}
    changes = _changes(session, on)
    return [
        ListRead(
            name=kind.name,
            title=kind.title,
            columns=list(kind.header),
            entries=counts.get(kind.name, 0),
            last_change=changes.get(kind.name),
        )
        for kind in lists.LISTS.values()
    ]


def read(entry: E) -> EntryRead:
    attributes: dict[str, Any] = entry.attributes
    return EntryRead(
        code=entry.code,
        description=entry.description,
        attributes=attributes,
        valid_from=entry.valid_from,
        valid_to=entry.valid_to,
    )
