"""Witnessing at the node's edges: partners and their certificates from the settings, the
background loop that must survive anything, GET /witnesses and /cosignatures, and the CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from onewindow.app import create_app
from onewindow.kit import keys
from onewindow.kit.authority import create_authority, issue_node_certificate
from onewindow.kit.certificates import certificate_pem
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import PartnerConfig, get_settings, settings_class
from onewindow.kit.node import Node
from onewindow.ledger.cli import app as ledger_app
from onewindow.ledger.encoding import LeafEntry
from onewindow.ledger.fakes import FakeFetcher, MemoryLog
from onewindow.ledger.models import WitnessedHead
from onewindow.ledger.remote import (
    HttpFetcher,
    PartnerAnswerMalformed,
    PartnerRefused,
    PartnerUnreachable,
)
from onewindow.ledger.tasks import run_witness, witness_round
from onewindow.ledger.witness import load_partners

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
URL = "http://th.test"
TH_KEY = keys.generate_key()
runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    authority = create_authority(now=NOW - timedelta(days=30))
    rogue = create_authority("Rogue", now=NOW - timedelta(days=30))
    out = {"ca": tmp_path / "ca.pem", "th": tmp_path / "th.pem", "bad": tmp_path / "bad.pem"}
    out["ca"].write_bytes(certificate_pem(authority.certificate))
    th = issue_node_certificate(authority, "TH", TH_KEY.public_key, now=NOW)
    wrong = [
        issue_node_certificate(authority, "VN", keys.generate_key().public_key, now=NOW),
        issue_node_certificate(rogue, "TH", keys.generate_key().public_key, now=NOW),
    ]
    out["th"].write_bytes(certificate_pem(th))
    out["bad"].write_bytes(b"".join(certificate_pem(c) for c in wrong))
    return out


@pytest.fixture
def node(database_url: str, files: dict[str, Path], tmp_path: Path) -> Iterator[Node]:
    certificates = [files["th"], files["bad"]]
    settings = settings_class()(
        country="VN",
        database_url=database_url,
        key_file=tmp_path / "vn-key.pem",
        ca_file=files["ca"],
        partners={"TH": PartnerConfig(endpoint=URL, certificates=certificates)},
    )
    node = Node.open(settings, FixedClock(NOW))
    yield node
    node.engine.dispose()


@pytest.fixture
def th(node: Node) -> MemoryLog:
    log = MemoryLog("TH", TH_KEY, node.clock)
    for i in range(3):
        digest = hashlib.sha256(b"%d" % i).hexdigest()
        log.append(LeafEntry("FORM_D", f"TH-{i}", 1, "TH", digest, NOW, "issued"))
    return log


def test_partners_from_settings(node: Node, files: dict[str, Path], tmp_path: Path) -> None:
    partners, problems = load_partners(node.settings, NOW)
    assert list(partners["TH"].keys) == [TH_KEY.key_id]
    assert partners["TH"].endpoint == URL
    assert len(problems) == 2
    assert any("is for VN, not TH" in p for p in problems)
    assert any("not issued by the federation CA" in p for p in problems)

    missing = node.settings.model_copy(
        update={"partners": {"TH": PartnerConfig(endpoint=URL, certificates=[tmp_path / "no"])}}
    )
    partners, problems = load_partners(missing, NOW)
    assert partners["TH"].keys == {} and "cannot read certificate" in problems[0]
    expired, _ = load_partners(node.settings, NOW + timedelta(days=3000))
    assert expired["TH"].keys == {}


def test_the_loop_survives_anything(
    node: Node, th: MemoryLog, caplog: pytest.LogCaptureFixture
) -> None:
    fetcher = FakeFetcher({URL: th})
    fetcher.answers[(URL, "head")] = RuntimeError("a bug, not a partner error")
    stop = threading.Event()
    thread = threading.Thread(
        target=run_witness, args=(node, 0.01), kwargs={"stop": stop, "fetcher": fetcher}
    )
    with caplog.at_level(logging.INFO, "onewindow.ledger"):
        thread.start()
        _wait(lambda: "ledger.witness_round_failed" in caplog.text)
        del fetcher.answers[(URL, "head")]
        _wait(lambda: _rows(node) > 0)
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert "ledger.head_witnessed partner=TH size=3" in caplog.text


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _rows(node: Node) -> int:
    with node.transaction() as session:
        return session.scalar(select(func.count()).select_from(WitnessedHead)) or 0


def test_api_shows_witnesses_and_cosignatures(node: Node, th: MemoryLog) -> None:
    fetcher = FakeFetcher({URL: th})
    key = keys.load_or_create_key(node.settings.key_file)
    assert witness_round(node, fetcher, key)[0].status == "ok"
    client = TestClient(create_app(node), raise_server_exceptions=False)

    (line,) = client.get("/api/v1/ledger/witnesses").json()
    assert line["partner"] == "TH" and line["status"] == "ok" and line["tree_size"] == 3
    assert line["endpoint"] == URL and line["alarms"] == 0

    (cosigned,) = client.get("/api/v1/ledger/cosignatures", params={"country": "TH"}).json()
    assert cosigned["witness_country"] == "VN" and cosigned["witness_key_id"] == key.key_id
    message = cosigned["signed_message"].encode()
    assert key.verify(base64.b64decode(cosigned["cosignature"]), message)
    assert TH_KEY.verify(base64.b64decode(cosigned["partner_signature"]), message)
    assert client.get("/api/v1/ledger/cosignatures", params={"country": "LA"}).json() == []
    bad = client.get("/api/v1/ledger/cosignatures", params={"country": "th"})
    assert bad.status_code == 422

    th.entries = th.entries[:1] + th.entries[2:] + th.entries[1:2]  # same size, reordered
    assert witness_round(node, fetcher, key)[0].status == "alarm"
    (line,) = client.get("/api/v1/ledger/witnesses").json()
    assert line["status"] == "ALARM" and line["detail"].startswith("fork: two roots for size 3")


@pytest.fixture
def cli_env(
    tmp_path: Path, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.delenv("ONEWINDOW_SIGNING_KEY", raising=False)
    monkeypatch.delenv("ONEWINDOW_CONFIG", raising=False)
    partners = {"TH": {"endpoint": "http://127.0.0.1:9", "certificates": [str(files["th"])]}}
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ONEWINDOW_KEY_FILE", str(tmp_path / "key.pem"))
    monkeypatch.setenv("ONEWINDOW_CA_FILE", str(files["ca"]))
    monkeypatch.setenv("ONEWINDOW_PARTNERS", json.dumps(partners))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_witness_round_and_listing(cli_env: Path) -> None:
    result = runner.invoke(ledger_app, ["witness", "--once", "--json"])
    assert result.exit_code == 0, result.output  # an unreachable partner is no alarm
    (outcome,) = json.loads(result.stdout)
    assert outcome["partner"] == "TH" and outcome["status"] == "error"
    assert "127.0.0.1:9" in outcome["detail"]
    table = runner.invoke(ledger_app, ["witness", "--once"])
    assert table.exit_code == 0 and "error" in table.stdout

    (line,) = json.loads(runner.invoke(ledger_app, ["witnesses", "--json"]).stdout)
    assert line["status"] == "never" and line["tree_size"] is None
    listing = runner.invoke(ledger_app, ["witnesses"])
    assert listing.exit_code == 0 and "never" in listing.stdout


def _transport(status: int, body: bytes, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=body, headers={"Location": "http://elsewhere"})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (500, b"oops", PartnerUnreachable, "answered 500"),
        (503, b"", PartnerUnreachable, "answered 503"),
        (404, b'{"detail": "document \'X\' is not in the ledger"}', PartnerRefused, "not in the"),
        (302, b"", PartnerRefused, "answered 302"),
        (200, b"<html>", PartnerAnswerMalformed, "did not answer JSON"),
        (200, b"[" + b"1," * 3_000_000 + b"1]", PartnerAnswerMalformed, "more than"),
    ],
)
def test_http_fetcher_errors(
    status: int, body: bytes, error: type[Exception], message: str
) -> None:
    seen: list[httpx.Request] = []
    fetcher = HttpFetcher(transport=_transport(status, body, seen))
    with fetcher, pytest.raises(error, match=message):
        fetcher.proofs("http://th.test/", "X/1 2", "FORM_D")
    url = "http://th.test/api/v1/ledger/proofs/X%2F1%202?document_type=FORM_D"
    assert str(seen[0].url) == url


def test_http_fetcher_answers_json() -> None:
    seen: list[httpx.Request] = []
    with HttpFetcher(transport=_transport(200, b'{"old_size": 1}', seen)) as fetcher:
        assert fetcher.consistency("http://th.test", 1, 4) == {"old_size": 1}
        assert fetcher.head("http://th.test") == {"old_size": 1}
    assert seen[0].url.params == httpx.QueryParams({"old": "1", "new": "4"})
    assert seen[1].url.path == "/api/v1/ledger/head"
    with HttpFetcher() as fetcher, pytest.raises(PartnerUnreachable):
        fetcher.head("not a url")


def test_api_lists_and_acknowledges_alarms(
    node: Node, th: MemoryLog, tokens: dict[str, str]
) -> None:
    fetcher = FakeFetcher({URL: th})
    key = keys.load_or_create_key(node.settings.key_file)
    witness_round(node, fetcher, key)
    th.entries = th.entries[:1] + th.entries[2:] + th.entries[1:2]  # same size, reordered
    assert witness_round(node, fetcher, key)[0].status == "alarm"
    client = TestClient(create_app(node), raise_server_exceptions=False)
    url = "/api/v1/ledger/witnesses/TH/acknowledgement"

    def ack(token: str | None, body: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post(url, json=body, headers=headers)

    (alarm,) = client.get("/api/v1/ledger/alarms", params={"open": "true"}).json()
    assert alarm["partner"] == "TH" and alarm["acknowledged_at"] is None
    assert ack(None, {"note": "x"}).status_code == 401
    assert ack(tokens["officer"], {"note": "x"}).status_code == 403
    missing = ack(tokens["supervisor"], {})
    assert missing.status_code == 422 and "note" in missing.text
    blank = ack(tokens["supervisor"], {"note": " "})
    assert blank.status_code == 422 and blank.json()["errors"][0]["path"] == "note"
    lower = "/api/v1/ledger/witnesses/th/acknowledgement"
    supervisor = {"Authorization": f"Bearer {tokens['supervisor']}"}
    assert client.post(lower, json={"note": "x"}, headers=supervisor).status_code == 422
    assert client.post(lower).status_code == 401  # authentication first (issue 10, item 12)
    assert client.get("/api/v1/ledger/alarms", params={"open": "true"}).json() == [alarm]

    (done,) = ack(tokens["supervisor"], {"note": "TH restored its log"}).json()
    assert done["id"] == alarm["id"] and done["acknowledged_by"] == "super1"
    assert client.get("/api/v1/ledger/alarms", params={"open": "true"}).json() == []
    (line,) = client.get("/api/v1/ledger/witnesses").json()
    assert (line["status"], line["alarms"], line["open_alarms"]) == ("ok", 1, 0)
    again = ack(tokens["supervisor"], {"note": "once more"})
    assert again.status_code == 404 and "no open alarm" in again.text


def test_cli_lists_and_acknowledges_alarms(cli_env: Path) -> None:
    node = Node.open()
    with node.transaction() as s:  # an alarm as witnessing records one (see test_witness)
        s.add(
            WitnessedHead(
                partner_country="TH",
                origin="onewindow/TH/ledger",
                tree_size=5,
                root_hash=bytes(32),
                signed_at=NOW,
                partner_key_id="k",
                partner_signature=b"s",
                received_at=NOW,
                alarm=True,
                alarm_detail="fork: two roots for size 5",
            )
        )
    node.engine.dispose()

    listing = runner.invoke(ledger_app, ["alarms", "--open"])
    assert listing.exit_code == 0 and "fork: two roots" in listing.stdout
    assert "open" in listing.stdout
    blank = runner.invoke(ledger_app, ["acknowledge", "TH", "--note", " "])
    assert blank.exit_code == 2 and "note" in blank.output

    done = runner.invoke(ledger_app, ["acknowledge", "TH", "--note", "checked", "--json"])
    assert done.exit_code == 0, done.output
    (row,) = json.loads(done.stdout)
    assert row["acknowledgement"] == "checked" and row["acknowledged_by"].startswith("cli:")
    assert json.loads(runner.invoke(ledger_app, ["alarms", "--open", "--json"]).stdout) == []
    again = runner.invoke(ledger_app, ["acknowledge", "TH", "--note", "checked"])
    assert again.exit_code != 0 and "no open alarm for partner TH" in again.output
