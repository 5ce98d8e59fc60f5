"""Migration 0008 adds the amendment requests: a node with declarations upgrades and keeps
them, and the table is the one the model describes."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from onewindow.declarations.models import AmendmentRequest
from onewindow.kit import db, migrate

BEFORE = "0007_witness_acks"
TABLE = "declaration_amendment_requests"


def test_upgrade_keeps_declarations_and_adds_requests(empty_engine: Engine) -> None:
    command.upgrade(migrate.alembic_config(empty_engine), BEFORE)
    at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    with empty_engine.begin() as conn:
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
    migrate.upgrade(empty_engine)
    assert migrate.current_heads(empty_engine) == migrate.script_heads()
    with empty_engine.begin() as conn:
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
