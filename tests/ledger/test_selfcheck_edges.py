"""The self-check at the node's edges: coded 503s instead of 500s over a damaged ledger,
/health, the start-up check, POST /api/v1/ledger/check, `onewindow ledger check`, and what a
partner witnessing the damaged log sees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from onewindow.app import create_app
from onewindow.kit import keys
from onewindow.kit.config import get_settings
from onewindow.kit.errors import OneWindowError, PartnerUnreachable
from onewindow.kit.node import Node
from onewindow.ledger import api, service
from onewindow.ledger.cli import app as ledger_app
from onewindow.ledger.encoding import ledger_origin
from onewindow.ledger.models import LedgerCheck, LedgerEntry, SignedTreeHead
from onewindow.ledger.remote import LocalFetcher
from onewindow.ledger.witness import Partner, witness_once

from .test_selfcheck import T0, entry, rewrite

KEY = keys.generate_key()
PROBLEM = "application/problem+json"
runner = CliRunner()


@pytest.fixture
def client(node: Node) -> TestClient:
    app = create_app(node)
    signer = service.HeadSigner(KEY, ledger_origin("VN"), node.clock)
    app.dependency_overrides[api.get_signer] = lambda: signer
    with node.transaction() as session:
        service.append_many(session, [entry(i) for i in range(7)])
    return TestClient(app, raise_server_exceptions=False)


def damage(node: Node, **values: Any) -> None:
    with node.transaction() as session:
        if values:
            session.execute(update(LedgerEntry).where(LedgerEntry.leaf_index == 5).values(values))
        else:
            session.execute(delete(LedgerEntry).where(LedgerEntry.leaf_index == 6))


def is_damaged(response: Any, first: int) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == "ledger_damaged" and body["first_bad_entry"] == first
    return body


def test_a_deleted_last_row_gives_coded_answers(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    assert client.get("/api/v1/ledger/head").json()["tree_size"] == 7
    damage(node)
    is_damaged(client.get("/api/v1/ledger/proof/VN-3"), 6)
    is_damaged(client.get("/api/v1/ledger/proofs/VN-3"), 6)
    is_damaged(client.get("/api/v1/ledger/proof/VN-3", params={"tree_size": 7}), 6)
    is_damaged(client.get("/api/v1/ledger/consistency", params={"old": 3}), 6)

    health = client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    ledger = health.json()["ledger"]
    assert ledger["status"] == "failed" and ledger["first_bad_entry"] == 6
    assert ledger["scope"] == "serving" and "missing" in ledger["problem"]
    with node.transaction() as session:  # on record once, however often it was met
        assert len(session.scalars(select(LedgerCheck)).all()) == 1

    supervisor = {"Authorization": f"Bearer {tokens['supervisor']}"}
    checked = client.post("/api/v1/ledger/check", headers=supervisor)
    assert checked.status_code == 200
    assert checked.json()["status"] == "failed" and checked.json()["first_bad_entry"] == 6
    assert checked.json()["problem"] == "entry 6 is missing (the log's size is 7)"


def test_a_tampered_hash_is_found_and_no_head_is_signed(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    first = client.get("/api/v1/ledger/head").json()
    damage(node, document_sha256="0" * 64)
    is_damaged(client.get("/api/v1/ledger/proof/VN-5", params={"tree_size": 7}), 5)

    supervisor = {"Authorization": f"Bearer {tokens['supervisor']}"}
    checked = client.post("/api/v1/ledger/check", headers=supervisor).json()
    assert checked["status"] == "failed" and checked["scope"] == "full"
    assert checked["first_bad_entry"] == 5 and checked["problem"].startswith("entry 5 ")
    assert (
        client.post("/api/v1/ledger/check", params={"tail": 1}, headers=supervisor).json()["status"]
        == "ok"
    )
    ledger = client.get("/api/v1/health").json()["ledger"]
    assert (
        ledger["status"] == "failed" and ledger["first_bad_entry"] == 5
    )  # the tail does not clear it

    with node.transaction() as session:
        service.append(session, entry(7))
    refused = is_damaged(client.get("/api/v1/ledger/head"), 5)
    assert "no head is signed" in refused["detail"]
    is_damaged(client.get("/api/v1/ledger/proof/VN-1"), 5)
    with node.transaction() as session:
        heads = session.scalars(select(SignedTreeHead.tree_size)).all()
    assert heads == [first["tree_size"]]


def test_running_the_check_is_for_supervisors_and_administrators(
    client: TestClient, tokens: dict[str, str]
) -> None:
    assert client.post("/api/v1/ledger/check").status_code == 401
    for who in ("trader", "officer"):
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        answer = client.post("/api/v1/ledger/check", headers=headers)
        assert answer.status_code == 403 and answer.headers["content-type"] == PROBLEM
    headers = {"Authorization": f"Bearer {tokens['supervisor']}"}
    assert (
        client.post("/api/v1/ledger/check", params={"tail": -1}, headers=headers).status_code == 422
    )
    ok = client.post("/api/v1/ledger/check", headers=headers).json()
    assert ok["status"] == "ok" and ok["entries"] == 7 and ok["tree_size"] == 7


def test_the_start_up_check_runs_on_the_tail_and_shows_in_health(node: Node) -> None:
    with node.transaction() as session:
        service.append_many(session, [entry(i) for i in range(1500)])
    app = create_app(node)
    before = TestClient(app).get("/api/v1/health").json()
    assert before["status"] == "ok" and before["ledger"] == {
        "status": "unchecked", "checked_at": None, "scope": None,
        "first_bad_entry": None, "problem": None,
    }  # fmt: skip
    with TestClient(app) as started:  # the app's start-up, as `onewindow serve` runs it
        ledger = started.get("/api/v1/health").json()["ledger"]
    assert ledger["status"] == "ok" and ledger["scope"] == "tail"
    with node.transaction() as session:
        row = session.scalars(select(LedgerCheck)).one()
    assert (row.from_index, row.tree_size, row.actor) == (500, 1500, "start-up")

    with node.transaction() as session:
        session.execute(update(LedgerEntry).where(LedgerEntry.leaf_index == 1400).values(version=2))
    with TestClient(create_app(node)) as started:
        body = started.get("/api/v1/health").json()
    assert body["status"] == "degraded"
    assert body["ledger"]["status"] == "failed" and body["ledger"]["first_bad_entry"] == 1400


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", database_url)
    monkeypatch.setenv("ONEWINDOW_SIGNING_KEY", str(tmp_path / "node.pem"))
    monkeypatch.delenv("ONEWINDOW_CONFIG", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_check_command(cli: None) -> None:
    assert runner.invoke(ledger_app, ["append-demo", "--count", "20"]).exit_code == 0
    assert runner.invoke(ledger_app, ["head"]).exit_code == 0
    ok = runner.invoke(ledger_app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert "ledger ok: all 20 entries recomputed, 1 signed head(s) compared" in ok.stdout
    tail = runner.invoke(ledger_app, ["check", "--tail", "5"]).stdout
    assert "ledger ok: the last 5 entries (15-19) recomputed, 1 signed head(s) compared" in tail
    tail = json.loads(runner.invoke(ledger_app, ["check", "--tail", "5", "--json"]).stdout)
    assert tail["status"] == "ok" and tail["from_index"] == 15 and tail["entries"] == 5

    node = Node.open()
    with node.transaction() as session:
        session.execute(
            update(LedgerEntry).where(LedgerEntry.leaf_index == 12).values(document_sha256="f" * 64)
        )
    node.engine.dispose()
    failed = runner.invoke(ledger_app, ["check"])
    assert failed.exit_code == 1
    assert "ledger FAILED at entry 12" in failed.stdout and "DEMO-00000012" in failed.stdout
    body = json.loads(runner.invoke(ledger_app, ["check", "--json"]).stdout)
    assert body["status"] == "failed" and body["first_bad_entry"] == 12
    assert runner.invoke(ledger_app, ["append-demo", "--count", "1"]).exit_code == 0
    refused = runner.invoke(ledger_app, ["head"])
    assert refused.exit_code == 1 and "ledger_damaged" in refused.output
    assert runner.invoke(ledger_app, ["check", "--tail", "-1"]).exit_code == 2


# ---- what a partner witnessing this node's log sees ----


class OverHttp:
    """This node's log as a partner fetches it: an error of ours is an HTTP status there."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.signer = service.HeadSigner(KEY, ledger_origin("VN"), node.clock)

    def _call(self, what: str, *args: Any) -> Any:
        try:
            with self.node.transaction() as session:
                return getattr(LocalFetcher(session, self.signer), what)("", *args)
        except OneWindowError as exc:
            if exc.status >= 500:
                raise PartnerUnreachable(f"answered {exc.status}: {exc.detail}") from None
            raise

    def head(self, endpoint: str) -> Any:
        return self._call("head")

    def consistency(self, endpoint: str, old: int, new: int) -> Any:
        return self._call("consistency", old, new)

    def proofs(self, endpoint: str, document_id: str, document_type: str | None) -> Any:
        return self._call("proofs", document_id, document_type)


def witness(node: Node, th: Node) -> tuple[str, str]:
    partners = {"VN": Partner("VN", "vn", {KEY.key_id: KEY.public_key})}
    th_signer = service.HeadSigner(keys.generate_key(), ledger_origin("TH"), th.clock)
    with th.transaction() as session:
        (outcome,) = witness_once(session, partners, OverHttp(node), th_signer, T0)
    return outcome.status, outcome.detail


def test_what_a_witness_sees(node: Node, client: TestClient, tmp_path: Path) -> None:
    """The witness (TH) keeps its own database; VN's log is the damaged one."""
    th = Node.open(node.settings.model_copy(update={
        "country": "TH", "database_url": f"sqlite:///{tmp_path / 'th.db'}"}))  # fmt: skip
    assert witness(node, th) == ("ok", "first head witnessed")

    # A document hash edited alone: the tree's hashes are unchanged, so the witness sees
    # nothing; VN's own check is what finds it.
    damage(node, document_sha256="0" * 64)
    assert witness(node, th) == ("ok", "unchanged")
    damage(node, document_sha256=entry(5).document_sha256)

    # Rewritten with its hashes, and nothing new: VN serves the head it signed before, and
    # the witness sees nothing; VN's own check finds it (the signed root differs).
    with node.transaction() as session:
        rewrite(session, 2)
    assert witness(node, th) == ("ok", "unchanged")
    # Once the log grows, VN refuses to sign over it, so the witness gets no head: an error of
    # the round, not evidence.
    with node.transaction() as session:
        service.append(session, entry(7))
    status, detail = witness(node, th)
    assert status == "error" and "answered 503" in detail and "rewritten" in detail

    # The forger also deletes the signed heads and the checks on record, so that VN signs
    # afresh: the witness asks for a proof from the root it cosigned and raises the alarm.
    with node.transaction() as session:
        session.execute(delete(SignedTreeHead))
        session.execute(delete(LedgerCheck))
    status, detail = witness(node, th)
    assert status == "alarm" and "does not extend the log of size 7" in detail, detail
    th.engine.dispose()


def test_the_start_up_check_verifies_the_last_head_with_the_node_key(
    node: Node, tmp_path: Path
) -> None:
    key_file = tmp_path / "node.pem"
    settings = node.settings.model_copy(update={"key_file": key_file})
    started = Node(settings, node.engine, node.sessions, node.clock)
    keys.load_or_create_key(key_file)
    signer = service.HeadSigner(keys.load_key(key_file), ledger_origin("VN"), node.clock)
    with node.transaction() as session:
        service.append_many(session, [entry(i) for i in range(3)])
        service.sign_head(session, signer)
        session.execute(update(SignedTreeHead).values(tree_size=2))  # the row altered
    with TestClient(create_app(started)) as client:
        ledger = client.get("/api/v1/health").json()["ledger"]
    assert ledger["status"] == "failed"
    assert "does not verify with this node's key" in ledger["problem"]
