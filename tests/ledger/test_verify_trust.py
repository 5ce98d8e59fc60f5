"""`onewindow verify` asks only the logs the federation trusts: a configured partner's, or this
node's own; never the `issuer_endpoint` a document names, and nobody at all when the issuer's
certificate fails. The attacker's endpoint is a real socket that records every connection."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from onewindow.kit import keys
from onewindow.kit.authority import create_authority, issue_node_certificate
from onewindow.kit.certificates import certificate_pem
from onewindow.ledger.cli import verify_command
from onewindow.ledger.verify import make_verifiable

from . import test_verify_edges as edges

BODY, CLOSED, NOW = edges.BODY, edges.CLOSED, edges.NOW
pki_files, cli_env = edges.pki_files, edges.cli_env  # the same fixtures
runner = CliRunner()


class Listener:
    """A TCP socket on loopback that accepts, remembers who came, and hangs up."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.contacts = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.contacts += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def attacker() -> Iterator[Listener]:
    listener = Listener()
    try:
        yield listener
    finally:
        listener.close()


def forged(tmp_path: Path, country: str, certificate: bytes, key: keys.NodeKey, url: str) -> Path:
    doc = make_verifiable(
        BODY,
        document_type="FORM_D",
        document_id=f"{country}-2026-000666",
        version=1,
        issuer_country=country,
        issuer_endpoint=url,
        key=key,
        certificate_pem=certificate,
    )
    path = tmp_path / f"forged-{country}.json"
    path.write_text(doc.model_dump_json())
    return path


def verify(path: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    verifier = typer.Typer()
    verifier.command()(verify_command)
    result = runner.invoke(verifier, [str(path), "--json"])
    return result.exit_code, {c["check"]: c for c in json.loads(result.stdout)}


def test_a_forged_certificate_sends_nobody_to_its_endpoint(
    cli_env: Path, attacker: Listener
) -> None:
    """The forger made its own CA and a certificate for TH, a configured partner, and names
    its own server as TH's log."""
    rogue = create_authority(now=NOW - timedelta(days=30))
    key = keys.generate_key()
    certificate = certificate_pem(issue_node_certificate(rogue, "TH", key.public_key, now=NOW))
    code, checks = verify(forged(cli_env, "TH", certificate, key, attacker.url))
    assert code == 1
    assert not checks["certificate"]["ok"]
    assert checks["log_head"]["detail"] == "not asked: the issuer's certificate is not trusted"
    assert attacker.contacts == 0


def test_a_stranger_is_not_asked(
    cli_env: Path, attacker: Listener, pki_files: dict[str, Path]
) -> None:
    """LA's certificate is the federation's, but LA is no partner of this node: its document's
    endpoint is not asked either."""
    key = keys.load_key(pki_files["key"].with_name("la-key.pem"))
    path = forged(cli_env, "LA", pki_files["LA"].read_bytes(), key, attacker.url)
    code, checks = verify(path)
    assert code == 1 and checks["certificate"]["ok"]
    assert checks["log_head"]["detail"] == "no public endpoint is known for issuer LA"
    assert attacker.contacts == 0


def test_a_partner_is_asked_at_its_configured_endpoint(
    cli_env: Path, attacker: Listener, pki_files: dict[str, Path]
) -> None:
    key = keys.load_key(pki_files["key"].with_name("th-key.pem"))
    path = forged(cli_env, "TH", pki_files["TH"].read_bytes(), key, attacker.url)
    code, checks = verify(path)
    assert code == 1 and checks["certificate"]["ok"] and checks["signature"]["ok"]
    assert CLOSED in checks["log_head"]["detail"]  # TH's configured endpoint, down
    assert attacker.contacts == 0
