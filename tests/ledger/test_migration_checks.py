"""Migration 0011 (the self-checks on record) on a database that already holds a ledger: the
entries, subtrees and heads are kept, and the log checks sound afterwards."""

from __future__ import annotations

import os

from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from onewindow.kit import db, migrate
from onewindow.ledger import selfcheck, service
from onewindow.ledger.encoding import tree_head_message
from onewindow.ledger.models import LedgerEntry, LedgerNode, SignedTreeHead

from .test_selfcheck import KEY, SIGNER, entry

BEFORE = "0007_witness_acks"
PG_URL = os.environ.get("ONEWINDOW_TEST_POSTGRES_URL")


def test_a_ledger_is_kept_through_0011(empty_engine: Engine) -> None:
    command.upgrade(migrate.alembic_config(empty_engine), BEFORE)
    assert "ledger_checks" not in inspect(empty_engine).get_table_names()
    sessions = db.session_factory(empty_engine)
    with db.transaction(sessions) as session:
        service.append_many(session, [entry(i) for i in range(21)])
        # A head signed as the code before 0011 did (sign_head now asks the checks table).
        session.add(SignedTreeHead(**_head(session)))
    before = _counts(empty_engine)

    migrate.upgrade(empty_engine)
    assert "ledger_checks" in inspect(empty_engine).get_table_names()
    assert _counts(empty_engine) == before
    with db.transaction(sessions) as session:
        found = selfcheck.check(session, public_key=KEY.public_key)
        assert found.ok and (found.entries, found.heads) == (21, 1)
        assert selfcheck.latest(session) is None  # nothing on record yet: "unchecked"
        assert service.current_signed_head(session, SIGNER).tree_size == 21


def _head(session: Session) -> dict[str, object]:
    current = service.head(session)
    signed_at = SIGNER.clock.now()
    message = tree_head_message(SIGNER.origin, 21, current.root_hash, signed_at)
    return {
        "tree_size": 21,
        "root_hash": current.root_hash,
        "signed_at": signed_at,
        "origin": SIGNER.origin,
        "key_id": KEY.key_id,
        "signature": KEY.sign(message),
    }


def _counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (LedgerEntry, LedgerNode, SignedTreeHead)
        )
