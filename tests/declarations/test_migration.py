"""Migration 0008 adds the amendment requests: a node with declarations upgrades and keeps
them, and the table is the one the model describes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from onewindow import db
from onewindow.declarations.models import AmendmentRequest

BEFORE = "0007_witness_acks"
TABLE = "declaration_amendment_requests"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (not the shared, already migrated one)."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    url = os.environ.get("ONEWINDOW_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set ONEWINDOW_TEST_POSTGRES_URL to run the PostgreSQL variant")
    base = "postgresql+psycopg://" + url.split("://", 1)[1]
    schema = f"ow_mig_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = db.make_engine(f"{base}?options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_upgrade_keeps_declarations_and_adds_requests(empty: Engine) -> None:
    command.upgrade(db.alembic_config(empty), BEFORE)
    at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    with empty.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO declarations (id, number, version, type, status, channel, office,"
                " declarant_id, importer_id, importer_name, exporter_name, country_of_export,"
                " goods_date, currency, exchange_rate, national_currency, total_value,"
                " total_duty, total_vat, total_due, risk_reasons, random_pick, document,"
                " lodged_at) VALUES (1, 'VNHPH-2026-0000001', 1, 'IM', 'inspection', 'red',"
                " 'VNHPH', '0101234567', '0101234567', 'Saigon', 'Siam', 'TH', '2026-11-20',"
                " 'USD', 26350, 'VND', 527000000, 0, 52700000, 52700000, '[]', false, '{}',"
                " :at)"
            ),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO declaration_controls (declaration_id, kind, officer, result, at)"
                " VALUES (1, 'opened', 'officer1', 'inspection', :at)"
            ),
            {"at": at},
        )
    db.upgrade(empty)
    assert db.current_revision(empty) == db.head_revision(empty)
    with empty.begin() as conn:
        kept = conn.execute(text("SELECT number, status FROM declarations")).all()
        assert [tuple(r) for r in kept] == [("VNHPH-2026-0000001", "inspection")]
        assert conn.execute(text("SELECT count(*) FROM declaration_controls")).scalar() == 1
        conn.execute(
            text(
                "INSERT INTO declaration_amendment_requests (declaration_id, version, document,"
                " reason, status, requested_by, requested_at) VALUES (1, 1, '{}', 'typo',"
                " 'pending', 'saigon', :at)"
            ),
            {"at": at},
        )
        assert conn.execute(text(f"SELECT status FROM {TABLE}")).scalar() == "pending"
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, db.Base.metadata)
    assert AmendmentRequest.__tablename__ == TABLE
    assert [d for d in diffs if TABLE in str(d)] == []
