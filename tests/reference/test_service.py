"""Editions of a list on SQLite and PostgreSQL: what a new edition closes, changes and keeps,
the list as it was on a past date, and nothing written by a refused import."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.errors import InvalidInput, NotFound
from onewindow.reference import ReferenceEntry, entries, holds, import_list, summaries

AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
HEADER = "code,description,kind,locode\n"
FIRST = HEADER + (
    "HP01,Hai Phong port 1,port,VNHPH\n"
    "HP02,Hai Phong port 2,port,VNHPH\n"
    "HN01,Noi Bai airport,airport,VNHAN\n"
)
# HP02 closes, HN01 moves to another place, LS01 opens, HP01 stays as it was.
SECOND = HEADER + (
    "HP01,Hai Phong port 1,port,VNHPH\n"
    "HN01,Noi Bai airport,airport,VNNBA\n"
    "LS01,Huu Nghi border gate,border,VNHUN\n"
)
JAN, JUL = date(2026, 1, 1), date(2026, 7, 1)


def load(session: Session, text: str, day: date) -> dict[str, int]:
    result = import_list(session, "offices", text, day, actor="cli:ops", at=AT)
    return result.model_dump(include={"added", "changed", "closed", "unchanged"})


def listed(session: Session, day: date) -> dict[str, str | None]:
    return {e.code: e.attributes["locode"] for e in entries(session, "offices", day)}


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ReferenceEntry)) or 0


def test_an_edition_closes_changes_adds_and_keeps(session: Session) -> None:
    assert load(session, FIRST, JAN) == {"added": 3, "changed": 0, "closed": 0, "unchanged": 0}
    assert load(session, SECOND, JUL) == {"added": 1, "changed": 1, "closed": 1, "unchanged": 1}
    assert listed(session, JUL) == {"HN01": "VNNBA", "HP01": "VNHPH", "LS01": "VNHUN"}
    # The list as it was, for a declaration lodged in June.
    assert listed(session, date(2026, 6, 30)) == {
        "HN01": "VNHAN", "HP01": "VNHPH", "HP02": "VNHPH",
    }  # fmt: skip
    assert listed(session, date(2025, 12, 31)) == {}
    (hp02,) = session.scalars(select(ReferenceEntry).where(ReferenceEntry.code == "HP02"))
    assert hp02.valid_to == date(2026, 6, 30)  # closed, not deleted
    assert count(session) == 5  # HP01 kept one version


def test_holds_looks_up_one_attribute_on_a_date(session: Session) -> None:
    assert holds(session, "offices", "locode", "VNHPH", JAN) is None  # no list kept
    load(session, FIRST, JAN)
    load(session, SECOND, JUL)
    assert holds(session, "offices", "locode", "VNHAN", date(2026, 6, 30)) is True
    assert holds(session, "offices", "locode", "VNHAN", JUL) is False  # HN01 moved
    assert holds(session, "offices", "locode", "VNHUN", JUL) is True
    assert holds(session, "offices", "locode", "VNHPH", date(2025, 12, 31)) is None
    assert holds(session, "offices", "locode", "VNHP", JUL) is False
    with pytest.raises(NotFound):
        holds(session, "ports", "locode", "VNHPH", JUL)


def test_importing_the_same_file_again_changes_nothing(session: Session) -> None:
    load(session, FIRST, JAN)
    assert load(session, FIRST, JUL) == {"added": 0, "changed": 0, "closed": 0, "unchanged": 3}
    assert count(session) == 3


def test_a_corrected_edition_on_its_own_date_replaces_it(session: Session) -> None:
    load(session, FIRST, JAN)
    load(session, SECOND, JUL)
    fixed = SECOND.replace("VNNBA", "VNHAN")
    assert load(session, fixed, JUL) == {"added": 0, "changed": 1, "closed": 0, "unchanged": 2}
    assert listed(session, JUL)["HN01"] == "VNHAN"
    versions = session.scalars(select(ReferenceEntry).where(ReferenceEntry.code == "HN01"))
    assert sorted((v.valid_from, v.valid_to) for v in versions) == [
        (JAN, date(2026, 6, 30)), (JUL, None),
    ]  # fmt: skip


def test_an_edition_before_the_last_change_is_refused_and_writes_nothing(
    session: Session,
) -> None:
    load(session, FIRST, JAN)
    load(session, SECOND, JUL)
    before = count(session)
    with pytest.raises(InvalidInput) as caught:
        load(session, FIRST, date(2026, 3, 1))
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("valid_from", "before_last_edition")
    ]
    assert count(session) == before


def test_a_bad_file_writes_nothing(session: Session) -> None:
    with pytest.raises(InvalidInput):
        load(session, FIRST + "XX01,Nowhere,harbour,VNHPH\n", JAN)
    assert count(session) == 0


def test_summaries_count_what_is_in_force_and_the_last_change(session: Session) -> None:
    load(session, FIRST, JAN)
    load(session, SECOND.replace("LS01,Huu Nghi border gate,border,VNHUN\n", ""), JUL)
    found = {s.name: s for s in summaries(session, date(2026, 8, 1))}
    assert list(found) == ["offices", "packages", "documents"]
    assert (found["offices"].entries, found["offices"].last_change) == (2, JUL)
    assert found["offices"].columns == ["code", "description", "kind", "locode"]
    assert (found["packages"].entries, found["packages"].last_change) == (0, None)
    earlier = {s.name: s for s in summaries(session, date(2026, 2, 1))}
    assert (earlier["offices"].entries, earlier["offices"].last_change) == (3, JAN)


def test_an_edition_that_only_closes_entries_counts_as_a_change(session: Session) -> None:
    load(session, FIRST, JAN)
    load(session, HEADER + "HP01,Hai Phong port 1,port,VNHPH\n", JUL)
    (offices,) = [s for s in summaries(session, JUL) if s.name == "offices"]
    assert offices.last_change == JUL
    with pytest.raises(InvalidInput):
        load(session, FIRST, date(2026, 6, 30))


def test_each_import_is_in_the_audit_trail(session: Session) -> None:
    load(session, FIRST, JAN)
    (event,) = audit.trail(session, "reference_list", "offices")
    assert (event.action, event.actor) == ("reference.imported", "cli:ops")
    assert event.detail is not None and event.detail["added"] == 3


def test_an_unknown_list_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        entries(session, "ports", JAN)
    with pytest.raises(NotFound):
        import_list(session, "ports", FIRST, JAN, actor="cli:ops", at=AT)
