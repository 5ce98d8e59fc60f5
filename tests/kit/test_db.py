"""Storage helpers that lodging relies on (bulk inserts, numbering), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from onewindow.declarations.models import Declaration
from onewindow.declarations.repository import allocate_numbers
from onewindow.kit import db
from onewindow.kit.audit import AuditEvent
from onewindow.kit.db import Base, insert_many, session_factory, transaction, write_transaction


def _declaration(number: str) -> dict[str, object]:
    return {
        "number": number,
        "type": "IM",
        "status": "registered",
        "channel": "green",
        "office": "VNHPH",
        "declarant_id": "0101234567",
        "importer_id": None,
        "importer_name": "Importer ünï 中文",
        "exporter_name": "Exporter",
        "country_of_export": "TH",
        "country_of_destination": None,
        "goods_date": date(2026, 11, 20),
        "currency": "USD",
        "exchange_rate": Decimal("25000.5"),
        "national_currency": "VND",
        "total_value": Decimal("1234.56"),
        "total_duty": Decimal("0"),
        "total_vat": Decimal("12.34"),
        "total_due": Decimal("12.34"),
        "risk_score": None,
        "risk_reasons": ["rule: HS 85"],
        "document": {"nested": {"list": [1, "two"]}},
        "lodged_at": datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
        "released_at": None,
    }


def test_values_come_back_as_written_and_scalar_defaults_fill_in(session: Session) -> None:
    insert_many(session, Declaration, [_declaration("A-1"), _declaration("A-2")])
    session.flush()
    rows = session.scalars(select(Declaration).order_by(Declaration.number)).all()
    assert [r.number for r in rows] == ["A-1", "A-2"]
    row = rows[0]
    assert row.version == 1 and row.random_pick is False  # defaults of the model
    assert row.goods_date == date(2026, 11, 20)
    assert row.exchange_rate == Decimal("25000.5")
    assert row.total_value == Decimal("1234.56")
    assert row.lodged_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert row.released_at is None and row.importer_id is None
    assert row.importer_name == "Importer ünï 中文"
    assert row.risk_reasons == ["rule: HS 85"]
    assert row.document == {"nested": {"list": [1, "two"]}}


def test_naive_times_are_refused(session: Session) -> None:
    event = {
        "at": datetime(2026, 11, 20, 8, 30),
        "actor": "x",
        "action": "a",
        "entity_type": "t",
        "entity_id": "1",
        "from_status": None,
        "to_status": None,
        "detail": None,
    }
    with pytest.raises(ValueError, match="naive datetime"):
        insert_many(session, AuditEvent, [event])


def test_nothing_to_insert_is_no_statement(session: Session) -> None:
    insert_many(session, Declaration, [])
    assert session.scalars(select(Declaration)).all() == []


def test_numbers_are_consecutive_per_office_and_year(session: Session) -> None:
    assert allocate_numbers(session, "VNHPH", 2026, 2) == [
        "VNHPH-2026-0000001",
        "VNHPH-2026-0000002",
    ]
    assert allocate_numbers(session, "VNSGN", 2026, 1) == ["VNSGN-2026-0000001"]
    assert allocate_numbers(session, "VNHPH", 2026, 3)[-1] == "VNHPH-2026-0000005"
    assert allocate_numbers(session, "VNHPH", 2027, 1) == ["VNHPH-2027-0000001"]


def test_the_migrations_build_exactly_the_schema_the_models_describe(engine: Engine) -> None:
    """Every table, column and index (0006 dropped two indexes that served no query)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        indexes = {i["name"] for i in inspect(conn).get_indexes("declaration_items")}
    assert "ix_declaration_items_declaration_id" not in indexes
    assert "ix_declaration_items_hs_code" in indexes


def test_a_write_transaction_commits_or_leaves_nothing_and_sqlite_writers_take_turns(
    engine: Engine,
) -> None:
    sessions = session_factory(engine)
    with write_transaction(sessions) as s:
        insert_many(s, Declaration, [_declaration("VNHPH-2026-0000001")])
    with pytest.raises(RuntimeError), write_transaction(sessions) as s:
        insert_many(s, Declaration, [_declaration("VNHPH-2026-0000002")])
        raise RuntimeError("the task failed")
    with transaction(sessions) as s:
        assert list(s.scalars(select(Declaration.number))) == ["VNHPH-2026-0000001"]

    inside, most = [0], [0]

    def write(n: int) -> None:
        with write_transaction(sessions) as s:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.01)  # long enough for another thread to come in, if it may
            insert_many(s, Declaration, [_declaration(f"VNHPH-2026-{n:07d}")])
            inside[0] -= 1

    threads = [threading.Thread(target=write, args=(n,)) for n in range(10, 14)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if engine.dialect.name == "sqlite":  # one writer at a time, in this process too
        assert most[0] == 1
    with transaction(sessions) as s:
        assert len(list(s.scalars(select(Declaration.number)))) == 5


def test_the_database_counts_days_in_utc_whatever_its_servers_zone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGTZ", "Asia/Ho_Chi_Minh")  # a server (or a client) set to local time
    engine = db.make_engine(database_url)
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # 06:30 on the 21st in Hanoi
    try:
        with db.transaction(db.session_factory(engine)) as s:
            insert_many(s, Declaration, [_declaration("LATE-1") | {"lodged_at": late}])
            day = s.scalar(select(func.date(Declaration.lodged_at)))
        assert str(day)[:10] == "2026-11-20"
    finally:
        engine.dispose()
