"""Verification at the node's edges: POST /api/v1/ledger/verify, GET .../proofs, and the
`verify`, `issue` and `revoke` commands; the node's own documents are checked from its database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onewindow.app import create_app
from onewindow.kit import keys
from onewindow.kit.authority import create_authority, issue_node_certificate
from onewindow.kit.certificates import certificate_pem
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import PartnerConfig, get_settings, settings_class
from onewindow.kit.node import Node
from onewindow.ledger import service
from onewindow.ledger.cli import app as ledger_app
from onewindow.ledger.cli import verify_command
from onewindow.ledger.verify import make_verifiable

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
BODY = b"<FormD><Reference>VN-2026-000007</Reference></FormD>"
CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port: refused at once
runner = CliRunner()


@pytest.fixture
def pki_files(tmp_path: Path) -> dict[str, Path]:
    authority = create_authority(now=NOW - timedelta(days=30))
    files = {"ca": tmp_path / "ca.pem", "key": tmp_path / "vn-key.pem"}
    files["ca"].write_bytes(certificate_pem(authority.certificate))
    for country in ("VN", "TH", "LA"):
        key = keys.load_or_create_key(tmp_path / f"{country.lower()}-key.pem")
        cert = issue_node_certificate(authority, country, key.public_key, now=NOW)
        files[country] = tmp_path / f"{country.lower()}.pem"
        files[country].write_bytes(certificate_pem(cert))
    return files


@pytest.fixture
def vn(database_url: str, pki_files: dict[str, Path]) -> Iterator[Node]:
    settings = settings_class()(
        country="VN",
        database_url=database_url,
        key_file=pki_files["key"],
        cert_file=pki_files["VN"],
        ca_file=pki_files["ca"],
        partners={"TH": PartnerConfig(endpoint=CLOSED, certificates=[pki_files["TH"]])},
    )
    node = Node.open(settings, FixedClock(NOW + timedelta(hours=1)))
    yield node
    node.engine.dispose()


def issue(node: Node, files: dict[str, Path], country: str = "VN", **kw: Any) -> dict[str, Any]:
    key = keys.load_key(files["key"].with_name(f"{country.lower()}-key.pem"))
    with node.transaction() as session:
        doc = make_verifiable(
            kw.get("body", BODY),
            document_type="FORM_D",
            document_id=kw.get("document_id", f"{country}-2026-000007"),
            version=1,
            issuer_country=country,
            issuer_endpoint=kw.get("endpoint", CLOSED),
            key=key,
            certificate_pem=files[country].read_bytes(),
            session=session if country == "VN" else None,
            logged_at=NOW,
        )
    return doc.model_dump(mode="json")


def results(body: dict[str, Any]) -> dict[str, bool]:
    return {c["check"]: c["ok"] for c in body["checks"]}


def test_api_verifies_own_documents_from_the_database(vn: Node, pki_files: dict[str, Path]) -> None:
    client = TestClient(create_app(vn), raise_server_exceptions=False)
    doc = issue(vn, pki_files)
    r = client.post("/api/v1/ledger/verify", json=doc)
    assert r.status_code == 200 and r.json()["ok"], r.json()
    assert len(r.json()["checks"]) == 7

    proofs = client.get("/api/v1/ledger/proofs/VN-2026-000007").json()
    assert [e["entry"]["kind"] for e in proofs["entries"]] == ["issued"]
    assert proofs["signed_head"]["tree_size"] == 1

    with vn.transaction() as session:
        service.revoke(session, "VN-2026-000007", "FORM_D", "VN", NOW)
    body = client.post("/api/v1/ledger/verify", json=doc).json()
    assert not body["ok"] and results(body)["not_revoked"] is False
    assert client.get("/api/v1/ledger/proofs/NOPE").status_code == 404


def test_api_asks_configured_partners_only(vn: Node, pki_files: dict[str, Path]) -> None:
    client = TestClient(create_app(vn), raise_server_exceptions=False)
    partner = client.post("/api/v1/ledger/verify", json=issue(vn, pki_files, "TH")).json()
    checks = {c["check"]: c for c in partner["checks"]}
    assert checks["certificate"]["ok"] and checks["signature"]["ok"]
    assert not checks["log_head"]["ok"] and "127.0.0.1:9" in checks["log_head"]["detail"]

    stranger = issue(vn, pki_files, "LA", endpoint="http://169.254.169.254")
    body = client.post("/api/v1/ledger/verify", json=stranger).json()
    detail = {c["check"]: c["detail"] for c in body["checks"]}["log_head"]
    assert detail == "no public endpoint is known for issuer LA"  # the server fetched nothing


@pytest.mark.parametrize("body", [{"x": 1}, {"format": "onewindow.verifiable/1"}])
def test_api_bad_documents_are_failed_checks(vn: Node, body: Any) -> None:
    client = TestClient(create_app(vn), raise_server_exceptions=False)
    r = client.post("/api/v1/ledger/verify", json=body)
    assert r.status_code == 200
    assert r.json() == {"ok": False, "document_id": None, "checks": [r.json()["checks"][0]]}
    assert r.json()["checks"][0]["check"] == "format"
    broken = client.post(
        "/api/v1/ledger/verify", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.headers["content-type"] == "application/problem+json"


@pytest.fixture
def cli_env(
    tmp_path: Path, pki_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.delenv("ONEWINDOW_SIGNING_KEY", raising=False)
    monkeypatch.delenv("ONEWINDOW_CONFIG", raising=False)
    for name, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "COUNTRY": "VN",
        "KEY_FILE": str(pki_files["key"]),
        "CERT_FILE": str(pki_files["VN"]),
        "CA_FILE": str(pki_files["ca"]),
        "PARTNERS": json.dumps(
            {"TH": {"endpoint": CLOSED, "certificates": [str(pki_files["TH"])]}}
        ),
    }.items():
        monkeypatch.setenv(f"ONEWINDOW_{name}", value)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_issue_verify_revoke(cli_env: Path) -> None:
    source = cli_env / "form.xml"
    source.write_bytes(BODY)
    out = cli_env / "form.json"
    args = ["issue", str(source), "--type", "FORM_D", "--id", "VN-1", "--endpoint", CLOSED]
    result = runner.invoke(ledger_app, [*args, "--media-type", "application/xml", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["document_sha256"]

    verifier = typer.Typer()
    verifier.command()(verify_command)
    result = runner.invoke(verifier, [str(out), "--json"])
    assert result.exit_code == 1  # the issuer's endpoint is down: the log checks fail
    checks = {c["check"]: c["ok"] for c in json.loads(result.stdout)}
    assert checks == {
        "format": True,
        "certificate": True,
        "signature": True,
        "hash": True,
        "log_head": False,
        "inclusion": False,
        "not_revoked": False,
    }
    table = runner.invoke(verifier, [str(out)])
    assert table.exit_code == 1 and "FAILED" in table.stdout and "not altered" in table.stdout

    garbage = cli_env / "garbage.json"
    garbage.write_bytes(b"\x00\x01 not json")
    result = runner.invoke(verifier, [str(garbage), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)[0]["check"] == "format"
    assert runner.invoke(verifier, [str(cli_env / "missing.json")]).exit_code == 2
    result = runner.invoke(verifier, [str(out), "--ca", str(cli_env / "nope.pem"), "--json"])
    assert result.exit_code == 1 and "cannot read" in result.stdout

    revoked = runner.invoke(ledger_app, ["revoke", "VN-1", "--json"])
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["kind"] == "revoked"
    assert runner.invoke(ledger_app, ["revoke", "NOPE"]).exit_code == 2


def test_cli_issue_needs_a_certificate(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONEWINDOW_CERT_FILE")
    get_settings.cache_clear()
    source = cli_env / "form.xml"
    source.write_bytes(BODY)
    result = runner.invoke(ledger_app, ["issue", str(source), "--type", "FORM_D", "--id", "X"])
    assert result.exit_code == 1 and "cert_file" in result.output
