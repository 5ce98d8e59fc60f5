"""One document to several partners (`send_many`): built and validated once, one outgoing
message per receiver, and nothing queued unless every receiver can get it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow.exchange import documents, service
from onewindow.exchange.models import OutgoingMessage
from onewindow.kit import db
from onewindow.kit.config import PartnerConfig
from onewindow.kit.errors import InvalidInput, NotFound

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
Sample = Callable[[], dict[str, Any]]


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    factory = db.session_factory(engine)
    with db.transaction(factory) as s:
        partners = {c: PartnerConfig(endpoint=f"http://{c.lower()}") for c in ("MY", "SG", "VN")}
        service.sync_partners(s, partners, now=NOW)
    return factory


def _send(sessions: sessionmaker[Session], sample: Sample, receivers: list[str]) -> Any:
    with db.transaction(sessions) as s:
        return service.send_many(
            s, sender="TH", receivers=receivers, document_type="FORM_D",
            document_id="TH-2026-000123", version=2, payload=sample(), now=NOW,
        )  # fmt: skip


def test_one_document_built_once_and_a_message_for_each_receiver(
    sessions: sessionmaker[Session], sample_form_d: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    build = documents.build

    def counted(name: str, data: Any) -> Any:
        built.append(name)
        return build(name, data)

    monkeypatch.setattr(documents, "build", counted)
    queued = _send(sessions, sample_form_d, ["VN", "MY", "SG"])
    assert built == ["FORM_D"]
    assert len(set(queued.message_ids)) == 3
    assert documents.from_xml("FORM_D", queued.document) == sample_form_d()
    with db.transaction(sessions) as s:
        rows = {m.message_id: m for m in s.scalars(select(OutgoingMessage))}
    assert [rows[mid].receiver for mid in queued.message_ids] == ["VN", "MY", "SG"]
    for row in rows.values():  # each its own message, with its own status and retries
        assert (row.document, row.status, row.version, row.attempts) == (
            queued.document, "queued", 2, 0
        )  # fmt: skip


@pytest.mark.parametrize(
    ("receivers", "error"),
    [(["VN", "ID"], NotFound), (["VN", "TH"], InvalidInput), ([], InvalidInput)],
)
def test_nothing_is_queued_unless_every_receiver_can_get_it(
    sessions: sessionmaker[Session], sample_form_d: Sample, receivers: list[str], error: type
) -> None:
    with pytest.raises(error):
        _send(sessions, sample_form_d, receivers)
    with db.transaction(sessions) as s:
        assert s.scalars(select(OutgoingMessage)).all() == []
