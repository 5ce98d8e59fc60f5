"""Federation files on disk, and running gateways that follow them without a restart:
a member joining, a key rotated, an old key retired, a bad edit ignored."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from onewindow.cli.main import app
from onewindow.exchange import documents, envelope, federation, repository
from onewindow.exchange.gateway import Gateway
from onewindow.kit import db, keys, tls
from onewindow.kit.certificates import (
    certificate_country,
    load_certificate,
    verify_node_certificate,
)
from onewindow.kit.config import load, settings_class
from onewindow.kit.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
def fed_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "fed"
    federation.init(directory, ["TH", "VN", "SG"], base_port=9101)
    return directory


def touch_later(path: Path) -> None:
    """Make sure a rewrite shows as a change even on a coarse clock."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def test_init_writes_what_a_node_needs(fed_dir: Path) -> None:
    now = datetime.now(UTC)  # after the fixture made the federation's certificates
    settings = load(fed_dir / "VN" / "node.json")
    assert (settings.country, settings.currency, settings.port) == ("VN", "VND", 9102)
    assert settings.database_url == f"sqlite:///{(fed_dir / 'VN' / 'node.db').resolve()}"
    assert settings.partners["TH"].endpoint == "https://127.0.0.1:9101"
    assert settings.partners["SG"].certificates == [(fed_dir / "SG" / "cert.pem").resolve()]
    ca = load_certificate((fed_dir / "ca.pem").read_bytes())
    assert settings.cert_file is not None
    cert = load_certificate(settings.cert_file.read_bytes())
    assert verify_node_certificate(cert, ca, country="VN", now=now) == "VN"
    key = keys.load_private_key(settings.key_file.read_bytes())
    assert envelope.Signer(key, cert).country == "VN"
    assert oct(settings.key_file.stat().st_mode & 0o777) == "0o600"


def test_init_writes_a_tls_key_and_certificate_apart_from_the_signing_key(fed_dir: Path) -> None:
    now = datetime.now(UTC)  # after the fixture made the federation's certificates
    settings = load(fed_dir / "VN" / "node.json")
    assert settings.tls_cert_file is not None and settings.tls_key_file is not None
    assert oct(settings.tls_key_file.stat().st_mode & 0o777) == "0o600"
    certificate = x509.load_pem_x509_certificate(settings.tls_cert_file.read_bytes())
    ca = load_certificate((fed_dir / "ca.pem").read_bytes())
    certificate.verify_directly_issued_by(ca)
    der = certificate.public_bytes(Encoding.DER)
    assert certificate_country(certificate) == "VN" == tls.check_peer(der, tls.CLIENT_AUTH, None)
    purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(purposes) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    signing = load(fed_dir / "VN" / "node.json").cert_file
    assert signing is not None
    assert keys.key_id(certificate) != keys.key_id(load_certificate(signing.read_bytes()))
    # A TLS certificate never signs messages, even though the CA issued it for VN.
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(certificate, ca, country="VN", now=now)
    assert [e.code for e in exc.value.errors] == ["not_for_signing"]


def test_renew_tls_replaces_the_tls_pair_and_upgrades_an_old_federation(fed_dir: Path) -> None:
    old = (fed_dir / "VN" / "tls-cert.pem").read_bytes()
    federation.renew_tls(fed_dir, "vn")
    assert (fed_dir / "VN" / "tls-cert.pem").read_bytes() != old
    tls.ClientSecurity.of(load(fed_dir / "VN" / "node.json"))  # key and certificate match
    for member in federation.members(fed_dir):  # a federation from before TLS
        for name in ("tls_key_file", "tls_cert_file"):
            member.config.pop(name)
        for partner in member.config["partners"].values():
            partner["endpoint"] = partner["endpoint"].replace("https:", "http:")
        (member.config_file).write_text(json.dumps(member.config))
    assert load(fed_dir / "TH" / "node.json").partners["VN"].endpoint.startswith("http:")
    for country in ("TH", "VN", "SG"):
        federation.renew_tls(fed_dir, country)
    for country in ("TH", "VN", "SG"):
        settings = load(fed_dir / country / "node.json")
        assert tls.server_options(settings)["ssl_certfile"] == str(settings.tls_cert_file)
        assert all(p.endpoint.startswith("https://") for p in settings.partners.values())


def test_init_refuses_a_second_federation_and_unknown_members(fed_dir: Path) -> None:
    with pytest.raises(Conflict):
        federation.init(fed_dir, ["TH"])
    with pytest.raises(InvalidInput):
        federation.init(fed_dir.parent / "other", ["TH", "FR"])
    with pytest.raises(InvalidInput):
        federation.init(fed_dir.parent / "other", ["TH", "th"])


def test_a_new_member_becomes_everyones_partner(fed_dir: Path) -> None:
    member = federation.add_node(fed_dir, "my")
    assert (member.country, member.config["port"], member.config["currency"]) == ("MY", 9104, "MYR")
    assert sorted(load(member.config_file).partners) == ["SG", "TH", "VN"]
    for country in ("TH", "VN", "SG"):
        partners = load(fed_dir / country / "node.json").partners
        assert partners["MY"].endpoint == "https://127.0.0.1:9104"
    assert load(member.config_file).tls_cert_file == (fed_dir / "MY" / "tls-cert.pem").resolve()
    with pytest.raises(Conflict):
        federation.add_node(fed_dir, "MY")
    with pytest.raises(NotFound):
        federation.add_node(fed_dir.parent / "nowhere", "ID")


def test_running_gateways_follow_the_files(fed_dir: Path, engine: Engine) -> None:
    sessions = db.session_factory(engine)
    th = Gateway(load(fed_dir / "TH" / "node.json"), sessions)
    first = th.current()
    assert first.ready and sorted(first.partners) == ["SG", "VN"]
    assert th.current() is first  # nothing changed: nothing reloaded
    federation.add_node(fed_dir, "MY")
    touch_later(fed_dir / "TH" / "node.json")
    view = th.current()
    assert sorted(view.partners) == ["MY", "SG", "VN"] and view.generation == 2
    with db.transaction(sessions) as s:
        assert [p.country for p in repository.partners(s)] == ["MY", "SG", "VN"]
    (fed_dir / "TH" / "node.json").write_text("{ half written")
    assert th.current() is view  # a bad edit leaves the last good view in place


def test_a_rotated_key_is_trusted_before_it_is_used(fed_dir: Path) -> None:
    now = datetime.now(UTC)  # after the fixture made the federation's certificates
    th = Gateway(load(fed_dir / "TH" / "node.json"))
    vn = Gateway(load(fed_dir / "VN" / "node.json"))
    old_signer = vn.current().signer
    assert old_signer is not None
    doc = documents.build(
        "ACDD_CANCELLATION",
        {
            "declaration_id": "VN-EX-1",
            "export_country": "VN",
            "issued_at": now,
            "reasons": [{"code": "cancelled"}],
        },
    )
    header = envelope.new_header("VN", "TH", "ACDD_CANCELLATION", "VN-EX-1", 1, now)
    sealed_before = envelope.seal(header, doc, old_signer)
    new_kid = federation.rotate_key(fed_dir, "VN")
    for country in ("TH", "VN"):
        touch_later(fed_dir / country / "node.json")
    new_signer = vn.current().signer
    assert new_signer is not None and new_signer.key_id == new_kid != old_signer.key_id
    trust = th.current().trust
    assert trust is not None
    assert sorted(th.current().key_ids["VN"]) == sorted([old_signer.key_id, new_kid])
    sealed_after = envelope.seal(
        envelope.new_header("VN", "TH", "ACDD_CANCELLATION", "VN-EX-1", 2, now), doc, new_signer
    )
    for data in (sealed_before, sealed_after):  # retries of old messages still verify
        assert envelope.open_envelope(data, trust, now=now, receiver="TH").header.sender == "VN"
    with pytest.raises(Conflict):
        federation.retire_key(fed_dir, "VN", new_kid)
    assert federation.retire_key(fed_dir, "VN", old_signer.key_id) == 2
    touch_later(fed_dir / "TH" / "node.json")
    with pytest.raises(InvalidInput) as exc:
        envelope.open_envelope(sealed_before, th.current().trust, now=now, receiver="TH")  # type: ignore[arg-type]
    assert [e.code for e in exc.value.errors] == ["unknown_key"]


def test_a_node_without_certificates_has_no_exchange(tmp_path: Path) -> None:
    view = Gateway(settings_class()(country="VN", database_url="sqlite://")).current()
    assert not view.ready and "not configured" in (view.problem or "")
    broken = json.loads((_init(tmp_path) / "VN" / "node.json").read_text())
    broken["cert_file"] = "../TH/cert.pem"  # someone else's certificate
    path = tmp_path / "fed" / "VN" / "node.json"
    path.write_text(json.dumps(broken))
    view = Gateway(load(path)).current()
    assert not view.ready and "does not match" in (view.problem or "")


def _init(tmp_path: Path) -> Path:
    directory = tmp_path / "fed"
    federation.init(directory, ["TH", "VN"])
    return directory


def test_the_cli_sets_up_a_federation(tmp_path: Path) -> None:
    runner = CliRunner()
    directory = tmp_path / "cli-fed"
    result = runner.invoke(
        app,
        [
            "federation",
            "init",
            "--countries",
            "TH,VN,SG",
            "--dir",
            str(directory),
            "--base-port",
            "9201",
        ],
    )
    assert result.exit_code == 0, result.output
    assert load(directory / "SG" / "node.json").port == 9203
    result = runner.invoke(
        app, ["federation", "add-node", "--dir", str(directory), "--country", "ID"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["federation", "rotate-key", "--dir", str(directory), "--country", "VN"]
    )
    assert result.exit_code == 0 and "now signs with key" in result.output
    renewed = runner.invoke(
        app, ["federation", "renew-tls", "--dir", str(directory), "--country", "SG"]
    )
    assert renewed.exit_code == 0 and "new TLS certificate" in renewed.output
    listed = runner.invoke(app, ["federation", "list", "--dir", str(directory)])
    assert all(c in listed.output for c in ("TH", "VN", "SG", "ID"))
    again = runner.invoke(app, ["federation", "init", "--countries", "TH", "--dir", str(directory)])
    assert again.exit_code == 2 and "holds a federation" in " ".join(again.output.split())
