"""Nodes of a federation as real `onewindow serve --config` processes on loopback: documents
with signed receipts, a partner down and back, nodes killed mid-run, the same message twice,
hostile envelopes, a new member and a rotated key, all without stopping anyone.

The nodes run the real CLI with one change: instead of the domains' handlers, every document
type is applied by a handler that writes a row per application into `test_applied`, in the
receiving transaction. A message applied twice would show as two rows."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import NodeProcess, free_ports, wait_for

from onewindow.exchange import documents, envelope, federation, service
from onewindow.exchange.trust import TrustStore
from onewindow.kit import db, keys
from onewindow.kit.authority import issue_tls_certificate
from onewindow.kit.certificates import certificate_pem, load_certificate
from onewindow.kit.config import load

# One pair of nodes for the whole module (with `--dist loadgroup`, on one worker).
pytestmark = pytest.mark.xdist_group("exchange-federation")
LAUNCHER = """
import sys
from dataclasses import replace
from sqlalchemy import text
from onewindow import domains
from onewindow.kit import db
from onewindow.kit.config import get_settings
from onewindow.exchange import document_types, register_handler

def record(session, message):
    session.execute(text("INSERT INTO test_applied VALUES (:m, :d, :v)"),
                    {"m": message.message_id, "d": message.document_id, "v": message.version})

def test_handlers():
    engine = db.make_engine(get_settings().database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS test_applied "
                          "(message_id TEXT, document_id TEXT, version INTEGER)"))
    engine.dispose()
    for name in document_types():
        if name != "RECEIPT":
            register_handler(name, record)

# Every document applied by test_handlers instead of the domains' own handlers.
domains.DOMAINS = tuple(
    replace(d, handlers="__main__:test_handlers" if d.name == "exchange" else None)
    for d in domains.DOMAINS
)
from onewindow.cli.main import main
sys.argv[0] = "onewindow"
main()
"""
E = "{urn:onewindow:xsd:envelope:1}"
FORM_D = {
    "reference": "TH-2026-000123",
    "transport": {"departure_date": "2026-11-06", "discharge_port": "VNSGN"},
    "exporter": {"id": "0105551234567", "name": "Siam Devices Co.", "address": "Bangkok",
                 "country": "TH"},
    "consignee": {"id": "0101234567", "name": "Saigon Logistics JSC", "address": "HCMC",
                  "country": "VN"},
    "items": [{"item_number": 1, "packages": {"count": 30, "kind": "CT"},
               "description": "Smartphones", "hs_code": "851713", "origin_criterion": "40%",
               "quantity": "300", "unit": "PCE", "fob_value": "45000.00", "fob_currency": "USD",
               "invoice": {"number": "INV-7781", "date": "2026-11-02"}}],
    "declaration": {"producing_country": "TH", "importing_country": "VN", "place": "Bangkok",
                    "date": "2026-11-05"},
    "certification": {"authority": "Department of Foreign Trade", "issue_date": "2026-11-08",
                      "place": "Bangkok"},
    "flags": {},
}  # fmt: skip
FAST_RETRIES = {
    "ONEWINDOW_EXCHANGE_RETRY_BASE": "0.1",
    "ONEWINDOW_EXCHANGE_RETRY_CAP": "0.5",
    "ONEWINDOW_EXCHANGE_POLL_INTERVAL": "0.02",
    "ONEWINDOW_EXCHANGE_TIMEOUT": "2",
    "ONEWINDOW_EXCHANGE_LEASE": "3",
}


@dataclass
class Member:
    country: str
    config: Path
    node: NodeProcess | None = None
    _sessions: sessionmaker[Session] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{load(self.config).port}"

    def tls(self, cert: Path | None = None) -> ssl.SSLContext:
        """A client's TLS: the federation CA, and the TLS certificate in `cert`'s directory."""
        context = ssl.create_default_context(cafile=str(self.config.parent.parent / "ca.pem"))
        if cert is not None:
            context.load_cert_chain(cert / "tls-cert.pem", cert / "tls-key.pem")
        return context

    def start(self) -> None:
        """Launch the node; `wait_up()` waits for it (several nodes start side by side)."""
        args = [sys.executable, "-c", LAUNCHER, "serve", "--config", str(self.config)]
        log = self.config.parent / "serve.log"
        self.node = NodeProcess(args, os.environ | FAST_RETRIES, self.url, log,
                                country=self.country, verify=self.tls())  # fmt: skip
        self.node.launch()

    def wait_up(self) -> None:
        """Ready, or stopped and an error: a node that fails to start is not left behind."""
        assert self.node is not None
        try:
            self.node.wait_ready()
        except BaseException:
            self.node.stop()
            raise

    def kill(self) -> None:
        assert self.node is not None
        self.node.kill()

    def stop(self) -> None:
        if self.node is not None:
            self.node.stop()

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = db.session_factory(db.make_engine(load(self.config).database_url))
        return self._sessions

    def query(self, sql: str) -> list[Any]:
        with db.transaction(self.sessions) as s:
            return list(s.execute(text(sql)).all())

    def statuses(self, prefix: str) -> dict[str, int]:
        """Outgoing messages of the documents whose id starts with `prefix`, by status."""
        rows = self.query(
            "SELECT status, count(*) FROM exchange_outgoing "
            f"WHERE document_id LIKE '{prefix}%' GROUP BY status"
        )
        return {status: n for status, n in rows}

    def applied(self, prefix: str) -> tuple[int, int]:
        """(applications, distinct messages applied) of documents starting with `prefix`."""
        (row,) = self.query(
            "SELECT count(*), count(DISTINCT message_id) FROM test_applied "
            f"WHERE document_id LIKE '{prefix}%'"
        )
        return int(row[0]), int(row[1])

    def queue(self, to: str, n: int, prefix: str) -> list[str]:
        with db.transaction(self.sessions) as s:
            return [
                service.send(
                    s,
                    sender=self.country,
                    receiver=to,
                    document_type="FORM_D",
                    document_id=f"{prefix}-{i:05d}",
                    version=1,
                    # from its own exporter: a Form D naming another issuer is refused
                    payload=FORM_D | {"exporter": FORM_D["exporter"] | {"country": self.country}},
                    now=datetime.now(UTC),
                )
                for i in range(n)
            ]

    def signer(self) -> envelope.Signer:
        config = load(self.config)
        assert config.cert_file is not None
        key = keys.load_private_key(config.key_file.read_bytes())
        return envelope.Signer(key, load_certificate(config.cert_file.read_bytes()))


@dataclass
class Net:
    directory: Path
    members: dict[str, Member]

    def add(self, country: str) -> Member:
        federation.add_node(self.directory, country, port=free_ports(1)[0])
        member = Member(country, self.directory / country / "node.json")
        self.members[country] = member
        return member


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    """TH and VN serving, shared by the tests of this module: each counts only its own
    documents (by document id prefix), so they hold in any order."""
    directory = tmp_path_factory.mktemp("exchange") / "fed"
    created = federation.init(directory, ["TH", "VN"], base_port=free_ports(1)[0])
    # init's consecutive ports may be taken: free ones instead
    ports = dict(zip([m.country for m in created], free_ports(len(created)), strict=True))
    for m in created:
        m.config["port"] = ports[m.country]
        for country, partner in m.config["partners"].items():
            partner["endpoint"] = f"https://127.0.0.1:{ports[country]}"
        federation._write_json(m.config_file, m.config)
    found = Net(directory, {m.country: Member(m.country, m.config_file) for m in created})
    try:
        for member in found.members.values():
            member.start()
        for member in found.members.values():
            member.wait_up()
        yield found
    finally:  # SG too, added by a test
        for member in found.members.values():
            member.stop()


def test_a_form_d_flows_with_a_signed_receipt(net: Net) -> None:
    th, vn = net.members["TH"], net.members["VN"]
    th.queue("VN", 1, "FLOW")
    wait_for("the receipt", lambda: th.statuses("FLOW") == {"processed": 1})
    ((receipt, sealed),) = th.query(
        "SELECT receipt, sealed FROM exchange_outgoing WHERE document_id LIKE 'FLOW%'"
    )
    trust = TrustStore(
        load_certificate((net.directory / "ca.pem").read_bytes()), [vn.signer().certificate]
    )
    opened = envelope.open_receipt(receipt, trust, now=datetime.now(UTC), receiver="VN")
    assert opened.receipt.status is envelope.ReceiptStatus.RECEIVED
    assert vn.applied("FLOW") == (1, 1)
    again = _post(vn, sealed)  # the same envelope once more: the same receipt, no effect
    assert again.status_code == 200 and again.content == receipt
    assert vn.applied("FLOW") == (1, 1)


def test_partner_down_then_nodes_killed_mid_run(net: Net) -> None:
    """Zero lost and zero applied twice through: the receiver down while documents queue,
    back, killed in the middle of the backlog, back again; then the sender killed with
    messages claimed and in flight."""
    th, vn = net.members["TH"], net.members["VN"]
    vn.stop()
    th.queue("VN", 300, "RUN-A")
    wait_for(
        "failed attempts",
        lambda: bool(
            th.query(
                "SELECT 1 FROM exchange_outgoing WHERE document_id LIKE 'RUN%' AND attempts >= 2"
            )
        ),
    )
    assert "processed" not in th.statuses("RUN")
    vn.start()
    vn.wait_up()
    wait_for("a first delivery", lambda: vn.applied("RUN")[0] > 0)
    vn.kill()
    assert th.statuses("RUN").get("processed", 0) < 300
    vn.start()
    vn.wait_up()
    th.queue("VN", 200, "RUN-B")
    wait_for("more deliveries", lambda: th.statuses("RUN").get("processed", 0) > 330)
    th.kill()
    th.start()
    th.wait_up()
    wait_for("all receipts", lambda: th.statuses("RUN") == {"processed": 500}, timeout=300)
    assert vn.applied("RUN") == (500, 500)
    count = vn.query("SELECT count(*) FROM exchange_incoming WHERE document_id LIKE 'RUN%'")
    assert count[0][0] == 500


def _post(to: Member, data: bytes, cert: Path | None = None) -> httpx.Response:
    """`data` posted to `to`'s gateway as TH (mutual TLS with TH's certificate)."""
    return httpx.post(
        to.url + "/exchange/v1/messages",
        content=data,
        headers={"Content-Type": "application/xml"},
        timeout=10,
        verify=to.tls(cert or to.config.parent.parent / "TH"),
    )


def _resigned(data: bytes, signer: envelope.Signer, path: str, value: str) -> bytes:
    """The envelope with one header field changed, and signed again properly."""
    root = etree.fromstring(data)
    root.find("/".join(f"{E}{tag}" for tag in path.split("/"))).text = value
    root.remove(root.find(f"{E}Signature"))
    algorithm, signature = keys.sign_bytes(signer.private_key, envelope.canonical(root))
    element = etree.SubElement(root, f"{E}Signature")
    for tag, text_value in (
        ("Algorithm", algorithm),
        ("KeyID", signer.key_id),
        ("Value", base64.b64encode(signature).decode()),
    ):
        etree.SubElement(element, f"{E}{tag}").text = text_value
    return etree.tostring(root)


def test_hostile_envelopes_are_refused_and_nothing_is_applied(net: Net, tmp_path: Path) -> None:
    th, vn = net.members["TH"], net.members["VN"]
    signer, now = th.signer(), datetime.now(UTC)
    outsider = federation.init(tmp_path / "outsiders", ["TH"])[0]
    stranger = Member("TH", outsider.config_file).signer()

    def sealed(who: envelope.Signer = signer, at: datetime = now) -> bytes:
        header = envelope.new_header("TH", "VN", "FORM_D", "EVIL-1", 1, at)
        return envelope.seal(header, documents.build("FORM_D", FORM_D), who)

    cases: dict[str, tuple[bytes, int, str | None]] = {
        "altered content": (
            sealed().replace(b"Smartphones", b"Smartwatches"),
            403,
            "signature_invalid",
        ),
        "altered signature": (
            sealed().replace(b"<Value>", b"<Value>AAAA"),
            403,
            "signature_invalid",
        ),
        "another federation": (sealed(stranger), 403, "unknown_key"),
        "replayed old message": (sealed(at=now - timedelta(days=3)), 422, "message_too_old"),
        "unknown document type": (
            _resigned(sealed(), signer, "Header/DocumentType", "FORM_Z"),
            422,
            "unknown_document_type",
        ),
        "malformed": (sealed()[:-30], 400, None),
        "oversized": (sealed() + b" " * 5_000_000, 413, None),
        "entity attack": (
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "x">]><e>&a;</e>',
            400,
            None,
        ),
    }
    trust = TrustStore(
        load_certificate((net.directory / "ca.pem").read_bytes()), [vn.signer().certificate]
    )
    for case, (data, status, code) in cases.items():
        r = _post(vn, data)
        assert r.status_code == status, (case, r.text)
        if code is None or status == 403:  # refused before its signature verified: no receipt
            assert r.headers["content-type"] == "application/problem+json", case
            assert code is None or code in [e["code"] for e in r.json()["errors"]], case
            continue
        receipt = envelope.open_receipt(r.content, trust, now=datetime.now(UTC), receiver="VN")
        assert receipt.receipt.status is envelope.ReceiptStatus.REJECTED, case
        assert code in [x.code for x in receipt.receipt.reasons], case
    assert vn.applied("EVIL") == (0, 0)
    assert (
        vn.query("SELECT count(*) FROM exchange_incoming WHERE document_id = 'EVIL-1'")[0][0] == 0
    )
    assert httpx.get(vn.url + "/api/v1/health", verify=vn.tls()).status_code == 200


def test_a_new_member_and_a_rotated_key_without_a_restart(net: Net) -> None:
    th, vn = net.members["TH"], net.members["VN"]
    sg = net.add("SG")
    sg.start()
    sg.wait_up()
    wait_for(
        "TH to know SG",
        lambda: bool(th.query("SELECT 1 FROM exchange_partners WHERE country = 'SG' AND active")),
    )
    th.queue("SG", 3, "JOIN")
    wait_for("SG's receipts", lambda: th.statuses("JOIN") == {"processed": 3})
    assert sg.applied("JOIN") == (3, 3)
    old = vn.signer().key_id
    new = federation.rotate_key(net.directory, "VN")
    assert new != old and vn.signer().key_id == new
    vn.queue("TH", 2, "ROTATED")
    wait_for("TH's receipts", lambda: vn.statuses("ROTATED") == {"processed": 2})
    key_ids = th.query("SELECT key_id FROM exchange_incoming WHERE document_id LIKE 'ROTATED%'")
    assert [k[0] for k in key_ids] == [new, new]  # signed with the new key, trusted at once


def test_nodes_talk_mutual_tls_and_refuse_strangers(net: Net, tmp_path: Path) -> None:
    """The flows above ran over mutual TLS; here the real node refuses who is not a partner,
    still serves its API to clients without a certificate, and witnesses over mutual TLS."""
    th, vn = net.members["TH"], net.members["VN"]
    assert load(th.config).partners["VN"].endpoint == vn.url.replace("http:", "https:")
    header = envelope.new_header("TH", "VN", "FORM_D", "MTLS-1", 1, datetime.now(UTC))
    sealed = envelope.seal(header, documents.build("FORM_D", FORM_D), th.signer())
    authority = federation.load_authority(net.directory)
    stranger = tmp_path / "MY"  # a member of the federation, but not VN's partner
    key = keys.generate_private_key()
    cert = issue_tls_certificate(authority, "MY", key.public_key(), ["127.0.0.1"])
    federation.write_pem(stranger / "tls-key.pem", keys.private_key_pem(key), private=True)
    federation.write_pem(stranger / "tls-cert.pem", certificate_pem(cert))
    outsider = federation.init(tmp_path / "outsiders", ["TH"])[0].directory
    no_certificate = httpx.post(
        vn.url + "/exchange/v1/messages", content=sealed, verify=vn.tls(), timeout=10
    )
    for answer in (no_certificate, _post(vn, sealed, stranger)):
        assert answer.status_code == 403
        assert answer.json()["code"] == "partner_certificate_required"
    with pytest.raises(httpx.TransportError):  # TH's name, another CA: no handshake
        _post(vn, sealed, outsider)
    assert vn.applied("MTLS") == (0, 0)
    assert _post(vn, sealed).status_code == 200  # TH itself
    assert vn.applied("MTLS") == (1, 1)
    # VN's ledger witness (the CLI, with VN's node.json) reaches TH over mutual TLS.
    env = os.environ | {"ONEWINDOW_CONFIG": str(vn.config)}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "onewindow"), "ledger", "witness", "--once", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    rows = {row["partner"]: row for row in json.loads(done.stdout)}
    assert rows["TH"]["status"] == "ok", done.stdout + done.stderr
