"""Migration 0010 on a database with messages in it, SQLite and PostgreSQL: every Form D
reference received so far is bound to the first country whose Form D under it was applied,
and no message is lost."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from tests.samples import form_d

from onewindow.exchange import documents, envelope
from onewindow.exchange.envelope import Signer
from onewindow.exchange.models import DocumentIssuer, IncomingMessage
from onewindow.kit import db, migrate

from .conftest import NOW, Federation

BEFORE = "0007_witness_acks"
PG_URL = os.environ.get("ONEWINDOW_TEST_POSTGRES_URL")


@pytest.fixture
def old_database(empty_engine: Engine) -> Engine:
    """A database migrated up to the revision before this one."""
    command.upgrade(migrate.alembic_config(empty_engine), BEFORE)
    return empty_engine


def _row(signer: Signer, reference: str, status: str, minutes: int) -> dict[str, object]:
    data = form_d() | {"reference": reference}
    data["exporter"] = data["exporter"] | {"country": signer.country}
    at = NOW + timedelta(minutes=minutes)
    header = envelope.new_header(signer.country, "VN", "FORM_D", reference, 1, at)
    sealed = envelope.seal(header, documents.build("FORM_D", data), signer)
    return {"message_id": header.message_id, "sender": signer.country, "receiver": "VN",
            "document_type": "FORM_D", "document_id": reference, "version": 1,
            "created_at": at, "received_at": at, "status": status, "key_id": signer.key_id,
            "envelope": sealed, "receipt": b"<Receipt/>", "reasons": None}  # fmt: skip


def test_upgrade_binds_each_reference_to_its_first_issuer(
    old_database: Engine, federation: Federation
) -> None:
    sg, th = federation.signer("SG"), federation.th
    rows = [
        _row(th, "SG-1", "processed", 2),  # the attack, done before the upgrade: TH came 2nd
        _row(sg, "SG-1", "processed", 1),
        _row(th, "TH-9", "rejected", 3),  # refused: binds nothing
        _row(sg, "SG-2", "received", 4),  # stored for want of a handler: binds
        _row(sg, "SG-2", "superseded", 0),  # not applied
    ]
    with old_database.begin() as conn:
        conn.execute(IncomingMessage.__table__.insert(), rows)
    assert migrate.upgrade(old_database)[0] == (BEFORE,)
    with db.transaction(db.session_factory(old_database)) as s:
        bound = s.execute(select(DocumentIssuer.reference, DocumentIssuer.issuer)).all()
        assert sorted(tuple(r) for r in bound) == [("SG-1", "SG"), ("SG-2", "SG")]
        first = s.scalar(
            select(DocumentIssuer.message_id).where(DocumentIssuer.reference == "SG-1")
        )
        assert first == rows[1]["message_id"]
        assert s.scalar(select(func.count()).select_from(IncomingMessage)) == len(rows)
