"""Two real nodes on loopback, TH and VN, partners in one federation. VN witnesses TH's log and
verifies a document TH issued; then TH's log is forged (rewritten in its SQLite file into
another log of the same size, which TH's node signs with the same key) and VN's next witness
round raises the alarm."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, update
from tests.integration.conftest import NodeProcess, free_port

from onewindow.cli import main
from onewindow.kit import db, keys
from onewindow.kit.authority import create_authority, issue_node_certificate
from onewindow.kit.certificates import certificate_pem
from onewindow.ledger import service
from onewindow.ledger.encoding import LeafEntry
from onewindow.ledger.models import LedgerEntry, LedgerNode, LedgerState, SignedTreeHead

BIN = Path(sys.executable).parent / "onewindow"
VERIFY = "import typer; from onewindow.ledger.cli import verify_command; typer.run(verify_command)"
FORM = b"<FormD><Reference>TH-2026-000123</Reference><Exporter>Siam Devices</Exporter></FormD>"


def _verify_command() -> tuple[str, ...]:
    """`onewindow verify` once it is registered at the top level; the function itself before."""
    names = {c.name for c in main.app.registered_commands}
    return (str(BIN), "verify") if "verify" in names else (sys.executable, "-c", VERIFY)


@dataclass
class Node:
    country: str
    home: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    node: NodeProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), *args], env=self.env, cwd=self.home, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip

    def cli(self, *args: str) -> Any:
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    def verify(self, path: Path) -> subprocess.CompletedProcess[str]:
        command = [*_verify_command(), str(path), "--json"]
        return subprocess.run(
            command, env=self.env, cwd=self.home, capture_output=True, text=True, timeout=300
        )

    def start(self) -> None:
        args = [str(BIN), "serve", "--witness-every", "0"]
        self.node = NodeProcess(args, self.env, self.url, self.home / "serve.log",
                                cwd=self.home, country=self.country)  # fmt: skip
        self.node.launch()

    def wait_until_up(self) -> None:
        assert self.node is not None
        self.node.wait_ready()

    def stop(self) -> None:
        if self.node is not None:
            self.node.stop()


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    now = datetime.now(UTC)
    authority = create_authority(now=now)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(certificate_pem(authority.certificate))
    th = Node("TH", tmp_path / "th", free_port())
    vn = Node("VN", tmp_path / "vn", free_port())
    for node in (th, vn):
        node.home.mkdir()
        key = keys.load_or_create_key(node.home / "key.pem")
        cert = issue_node_certificate(authority, node.country, key.public_key, now=now)
        (node.home / "cert.pem").write_bytes(certificate_pem(cert))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")}
    for node, partner, currency in ((th, vn, "THB"), (vn, th, "VND")):
        certificates = [str(partner.home / "cert.pem")]
        node.env = clean | {
            "ONEWINDOW_COUNTRY": node.country,
            "ONEWINDOW_CURRENCY": currency,
            "ONEWINDOW_PORT": str(node.port),
            "ONEWINDOW_DATABASE_URL": f"sqlite:///{node.home / 'node.db'}",
            "ONEWINDOW_KEY_FILE": str(node.home / "key.pem"),
            "ONEWINDOW_CERT_FILE": str(node.home / "cert.pem"),
            "ONEWINDOW_CA_FILE": str(ca),
            "ONEWINDOW_PARTNERS": json.dumps(
                {partner.country: {"endpoint": partner.url, "certificates": certificates}}
            ),
        }
    try:
        th.start()
        vn.start()
        th.wait_until_up()
        vn.wait_until_up()
        yield th, vn
    finally:
        th.stop()
        vn.stop()


def forge(path: Path, size: int) -> None:
    engine = db.make_engine(f"sqlite:///{path}")
    with db.transaction(db.session_factory(engine)) as session:
        for model in (LedgerEntry, LedgerNode, SignedTreeHead):
            session.execute(delete(model))
        session.execute(update(LedgerState).values(tree_size=0))
        when = datetime.now(UTC)
        forged = [
            LeafEntry("FORM_D", f"TH-FORGED-{i}", 1, "TH", hashlib.sha256(b"%d" % i).hexdigest(),
                      when, "issued")
            for i in range(size)
        ]  # fmt: skip
        service.append_many(session, forged)
    engine.dispose()


def _checks(done: subprocess.CompletedProcess[str]) -> dict[str, bool]:
    return {c["check"]: c["ok"] for c in json.loads(done.stdout)}


def _failed(answer: dict[str, Any]) -> set[str]:
    return {c["check"] for c in answer["checks"] if not c["ok"]}


def test_witness_verify_and_a_forged_fork(federation: tuple[Node, Node]) -> None:
    th, vn = federation
    assert th.cli("ledger", "append-demo", "--count", "5")["tree_size"] == 5
    (th.home / "form.xml").write_bytes(FORM)
    issued = th.home / "form-d.json"
    done = th.run(
        "ledger", "issue", "form.xml", "--type", "FORM_D", "--id", "TH-2026-000123",
        "--media-type", "application/xml", "--endpoint", th.url, "--out", str(issued),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    (first,) = vn.cli("ledger", "witness", "--once")
    assert (first["partner"], first["status"], first["tree_size"]) == ("TH", "ok", 6)

    # VN checks TH's document with TH's public endpoint and the federation's certificates.
    verified = vn.verify(issued)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert all(_checks(verified).values()) and len(_checks(verified)) == 7
    document = json.loads(issued.read_text())
    with httpx.Client(base_url=vn.url, timeout=30) as client:
        answer = client.post("/api/v1/ledger/verify", json=document).json()
    assert answer["ok"], answer

    body = bytearray(base64.b64decode(document["document"]))
    body[10] ^= 0x01
    altered = dict(document, document=base64.b64encode(body).decode())
    assert th.cli("ledger", "revoke", "TH-2026-000123")["kind"] == "revoked"
    with httpx.Client(base_url=vn.url, timeout=30) as client:
        answers = [client.post("/api/v1/ledger/verify", json=d).json() for d in (altered, document)]
    assert _failed(answers[0]) == {"signature", "hash", "inclusion", "not_revoked"}
    assert _failed(answers[1]) == {"not_revoked"}
    (grown,) = vn.cli("ledger", "witness", "--once")
    assert grown["status"] == "ok" and grown["detail"] == "grew from 6 to 7"

    # Forge: TH's stored log rewritten in place, behind the running node's back, into another
    # log of the same size; TH's node then signs its heads with the same key as before.
    forge(th.home / "node.db", 7)

    done = vn.run("ledger", "witness", "--once", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    (alarm,) = json.loads(done.stdout)
    assert alarm["status"] == "alarm" and alarm["detail"].startswith("fork: two roots for size 7")
    assert "ledger.fork_detected partner=TH" in done.stderr

    (line,) = vn.cli("ledger", "witnesses")
    assert line["status"] == "ALARM" and line["tree_size"] == 7 and line["alarms"] == 1
    with httpx.Client(base_url=vn.url, timeout=30) as client:
        (shown,) = client.get("/api/v1/ledger/witnesses").json()
        cosigned = client.get("/api/v1/ledger/cosignatures", params={"country": "TH"}).json()
    assert shown["status"] == "ALARM"
    assert [c["tree_size"] for c in cosigned] == [7, 6]  # the forged heads were never cosigned
