"""A partner's envelope arriving at a node whose ledger is damaged: the node cannot log the
document, so it refuses with a coded 503 (the sender retries) and keeps nothing; once the
ledger is put right, the same envelope is taken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select
from tests.samples import form_d

from onewindow.app import create_app
from onewindow.exchange import federation
from onewindow.exchange.models import IncomingMessage
from onewindow.kit.node import Node
from onewindow.ledger import service
from onewindow.ledger.models import LedgerEntry

from ..exchange.test_service_api import PATH, XML, Fed
from .test_selfcheck import entry


def test_inbound_traffic_is_refused_with_a_code(database_url: str, tmp_path: Path) -> None:
    federation.init(tmp_path / "fed", ["TH", "VN"])
    fed = Fed(tmp_path / "fed")
    node = Node.open(fed.vn.model_copy(update={"database_url": database_url}))
    try:
        with node.transaction() as session:
            service.append_many(session, [entry(i) for i in range(7)])
            last = session.execute(
                select(LedgerEntry.__table__).where(LedgerEntry.leaf_index == 6)
            ).one()
            session.execute(delete(LedgerEntry).where(LedgerEntry.leaf_index == 6))
        data = fed.envelope(form_d())
        with TestClient(create_app(node), raise_server_exceptions=False) as client:
            refused = client.post(PATH, content=data, headers=XML)
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "try_again"
            with node.transaction() as session:
                assert session.scalar(select(func.count()).select_from(IncomingMessage)) == 0
            health: dict[str, Any] = client.get("/api/v1/health").json()
            assert health["ledger"]["status"] == "failed"  # the start-up check found it

            with node.transaction() as session:  # restored from a backup
                session.execute(insert(LedgerEntry.__table__).values(**last._mapping))
            taken = client.post(PATH, content=data, headers=XML)
            assert taken.status_code == 200, taken.text
    finally:
        node.engine.dispose()
