"""The gateway over HTTP in-process: envelopes one by one and in batches, signed receipts,
hostile bodies answered with 4xx (never a 500), and the officials' views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onewindow.app import create_app
from onewindow.exchange import documents, envelope, federation, handlers, transport
from onewindow.exchange.envelope import ReceiptStatus, Signer
from onewindow.exchange.models import IncomingMessage
from onewindow.exchange.trust import TrustStore
from onewindow.kit import auth, keys
from onewindow.kit.certificates import load_certificate
from onewindow.kit.config import load, settings_class
from onewindow.kit.node import Node

PATH = "/exchange/v1/messages"
XML = {"Content-Type": "application/xml"}


class Fed:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.th = self.signer("TH")
        self.vn = load(directory / "VN" / "node.json")
        ca = load_certificate((directory / "ca.pem").read_bytes())
        vn_cert = load_certificate((directory / "VN" / "cert.pem").read_bytes())
        self.trust = TrustStore(ca, [vn_cert])

    def signer(self, country: str) -> Signer:
        folder = self.directory / country
        key = keys.load_private_key((folder / "key.pem").read_bytes())
        return Signer(key, load_certificate((folder / "cert.pem").read_bytes()))

    def envelope(self, sample: dict[str, Any], document_id: str = "TH-2026-000123") -> bytes:
        now = datetime.now(UTC)
        header = envelope.new_header("TH", "VN", "FORM_D", document_id, 1, now)
        return envelope.seal(header, documents.build("FORM_D", sample), self.th)

    def receipt(self, data: bytes) -> envelope.Receipt:
        now = datetime.now(UTC)
        return envelope.open_receipt(data, self.trust, now=now, receiver="VN").receipt


@pytest.fixture
def fed(tmp_path: Path) -> Fed:
    federation.init(tmp_path / "fed", ["TH", "VN"])
    return Fed(tmp_path / "fed")


@pytest.fixture
def client(
    fed: Fed, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Node]]:
    monkeypatch.setattr(handlers, "_handlers", {})
    node = Node.open(fed.vn.model_copy(update={"database_url": database_url}))
    handlers._handlers.clear()  # the domains' handlers: these tests watch the gateway alone
    with TestClient(create_app(node), raise_server_exceptions=False) as c:
        yield c, node
    node.engine.dispose()


def test_one_envelope_gets_its_signed_receipt_once(
    client: tuple[TestClient, Node], fed: Fed, sample_form_d: Any
) -> None:
    c, _ = client
    data = fed.envelope(sample_form_d())
    first = c.post(PATH, content=data, headers=XML)
    assert first.status_code == 200 and first.headers["content-type"] == "application/xml"
    receipt = fed.receipt(first.content)
    assert receipt.status is ReceiptStatus.RECEIVED_WITH_WARNINGS  # stored; no handler here
    again = c.post(PATH, content=data, headers=XML)
    assert again.status_code == 200 and again.content == first.content


def test_a_batch_gets_one_answer_per_envelope(
    client: tuple[TestClient, Node], fed: Fed, sample_form_d: Any
) -> None:
    c, _ = client
    good = fed.envelope(sample_form_d())
    altered = fed.envelope(sample_form_d(), "TH-2").replace(b"Smartphones", b"Smartwatches")
    body, content_type = transport.encode(
        [(transport.XML, good), (transport.XML, altered), (transport.XML, b"<nope")]
    )
    r = c.post(PATH, content=body, headers={"Content-Type": content_type})
    assert r.status_code == 200
    parts = transport.decode(r.content, r.headers["content-type"])
    receipts = transport.receipts_from(parts)
    assert fed.receipt(receipts[0] or b"").status is ReceiptStatus.RECEIVED_WITH_WARNINGS
    # Refused before their signature verified: a problem each, no signed receipt.
    assert receipts[1:] == [None, None]
    assert [p[0] for p in parts[1:]] == ["application/problem+json"] * 2
    altered_problem = json.loads(parts[1][1])
    assert altered_problem["status"] == 403
    assert [e["code"] for e in altered_problem["errors"]] == ["signature_invalid"]


BOMB = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"<Envelope", XML, 400),
        (BOMB, XML, 400),
        (b"\x00\xff garbage", XML, 400),
        (b"", XML, 400),
        (b"x" * 5_000_001, XML, 413),
        (b"{}", {"Content-Type": "application/json"}, 415),
        (b"--b\r\nno end", {"Content-Type": "multipart/mixed; boundary=b"}, 400),
        (b"data", {"Content-Type": "multipart/mixed"}, 400),
    ],
)
def test_hostile_bodies_are_refused_with_a_4xx(
    client: tuple[TestClient, Node], body: bytes, headers: dict[str, str], status: int
) -> None:
    c, _ = client
    r = c.post(PATH, content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_an_unverified_envelope_gets_a_problem_not_a_signed_receipt(
    client: tuple[TestClient, Node], fed: Fed, sample_form_d: Any
) -> None:
    """An envelope from outside the federation, whose message id is readable: the node does
    not sign "rejected" for an id anyone could have chosen (it used to)."""
    c, node = client
    stranger = federation.init(fed.directory.parent / "other", ["TH"])[0].directory
    foreign = Signer(  # a TH key, certified by another federation's root
        keys.load_private_key((stranger / "key.pem").read_bytes()),
        load_certificate((stranger / "cert.pem").read_bytes()),
    )
    fed.th = foreign
    r = c.post(PATH, content=fed.envelope(sample_form_d()), headers=XML)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["code"] for e in r.json()["errors"]] == ["unknown_key"]
    with node.transaction() as s:
        assert s.scalar(select(func.count()).select_from(IncomingMessage)) == 0


def test_junk_with_a_chosen_message_id_gets_no_signed_receipt(
    client: tuple[TestClient, Node], fed: Fed, sample_form_d: Any
) -> None:
    """Unsigned junk naming someone's message id, alone and in a batch: 4xx problems only."""
    c, _ = client
    chosen = "11111111-2222-4333-8444-555555555555"
    junk = (
        b'<Envelope xmlns="urn:onewindow:xsd:envelope:1"><Header><MessageID>'
        + chosen.encode()
        + b"</MessageID></Header></Envelope>"
    )
    signed_badly = fed.envelope(sample_form_d()).replace(b"Smartphones", b"Smartwatches")
    for body in (junk, signed_badly):
        r = c.post(PATH, content=body, headers=XML)
        assert 400 <= r.status_code < 500, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert b"<Receipt" not in r.content
    batch, content_type = transport.encode([(transport.XML, junk), (transport.XML, signed_badly)])
    r = c.post(PATH, content=batch, headers={"Content-Type": content_type})
    parts = transport.decode(r.content, r.headers["content-type"])
    assert [p[0] for p in parts] == ["application/problem+json"] * 2
    assert transport.receipts_from(parts) == [None, None]


def test_a_node_without_federation_files_answers_503(database_url: str) -> None:
    node = Node.open(settings_class()(country="VN", database_url=database_url))
    with TestClient(create_app(node)) as c:
        r = c.post(PATH, content=b"<x/>", headers=XML)
    assert r.status_code == 503 and r.json()["code"] == "exchange_unavailable"
    node.engine.dispose()


def test_officials_see_messages_stats_and_partners(
    client: tuple[TestClient, Node], fed: Fed, sample_form_d: Any
) -> None:
    c, node = client
    c.post(PATH, content=fed.envelope(sample_form_d()), headers=XML)
    with node.transaction() as s:
        officer = auth.create_user(s, "officer1", auth.Role.OFFICER, None)
        trader = auth.create_user(s, "trader1", auth.Role.TRADER, "0101234567")
    assert c.get("/api/v1/exchange/messages").status_code == 401
    as_trader = {"Authorization": f"Bearer {trader}"}
    assert c.get("/api/v1/exchange/stats", headers=as_trader).status_code == 403
    headers = {"Authorization": f"Bearer {officer}"}
    (message,) = c.get("/api/v1/exchange/messages", headers=headers).json()
    assert (message["direction"], message["partner"], message["status"]) == ("in", "TH", "received")
    assert message["reasons"][0]["code"] == "no_handler"
    none = c.get("/api/v1/exchange/messages?direction=out", headers=headers).json()
    assert none == []
    stats = c.get("/api/v1/exchange/stats", headers=headers).json()
    assert stats["totals"] == {"out": 0, "in": 1}
    assert stats["counts"] == [
        {
            "partner": "TH",
            "document_type": "FORM_D",
            "direction": "in",
            "status": "received",
            "count": 1,
        }
    ]
    (partner,) = c.get("/api/v1/exchange/partners", headers=headers).json()
    assert partner["country"] == "TH" and partner["active"] and len(partner["key_ids"]) == 1
