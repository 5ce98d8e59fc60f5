"""Tariffs published between two nodes run as real `onewindow serve --config` processes on
loopback (mutual TLS, the domains' own handlers): TH loads its schedule and rates and
publishes them with the CLI; VN gets them with a signed receipt, logs them in its ledger and
computes the import taxes due in Thailand at Thai rates; a second version replaces the first
from its effective date, and the first still answers for the days before."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.integration.conftest import NodeProcess, free_ports, wait_for

from onewindow.exchange import envelope, federation
from onewindow.exchange.trust import TrustStore
from onewindow.kit import db
from onewindow.kit.certificates import load_certificate
from onewindow.kit.config import load
from onewindow.tariff import Goods, Home, import_taxes

pytestmark = pytest.mark.xdist_group("tariff-federation")
BIN = Path(sys.executable).parent / "onewindow"
DATA = Path(__file__).resolve().parents[2] / "src" / "onewindow" / "data"
FAST = {
    "ONEWINDOW_EXCHANGE_RETRY_BASE": "0.1",
    "ONEWINDOW_EXCHANGE_RETRY_CAP": "0.5",
    "ONEWINDOW_EXCHANGE_POLL_INTERVAL": "0.02",
    "ONEWINDOW_EXCHANGE_TIMEOUT": "5",
}


@dataclass
class Member:
    country: str
    config: Path
    node: NodeProcess

    def cli(self, *args: str) -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")}
        env["ONEWINDOW_CONFIG"] = str(self.config)
        out = subprocess.run([str(BIN), *args, "--json"], env=env, capture_output=True,
                             text=True, timeout=240, check=False)  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout)

    def query(self, sql: str) -> list[Any]:
        engine = db.make_engine(load(self.config).database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql)).all())
        finally:
            engine.dispose()

    def taxes(self, country: str, items: list[Goods], on: date) -> tuple[str, Decimal]:
        engine = db.make_engine(load(self.config).database_url)
        try:
            with db.transaction(db.session_factory(engine)) as s:
                return import_taxes(s, country, items, on, home=Home(self.country, "VND"))
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Member]]:
    directory = tmp_path_factory.mktemp("tariff") / "fed"
    created = federation.init(directory, ["TH", "VN"], base_port=free_ports(1)[0])
    ports = dict(zip([m.country for m in created], free_ports(len(created)), strict=True))
    for m in created:  # init's consecutive ports may be taken: free ones instead
        m.config["port"] = ports[m.country]
        for country, partner in m.config["partners"].items():
            partner["endpoint"] = f"https://127.0.0.1:{ports[country]}"
        federation._write_json(m.config_file, m.config)
    members = {}
    verify = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    for m in created:
        url = f"https://127.0.0.1:{ports[m.country]}"
        process = NodeProcess([str(BIN), "serve", "--config", str(m.config_file)],
                              os.environ | FAST, url, m.config_file.parent / "serve.log",
                              country=m.country, verify=verify)  # fmt: skip
        members[m.country] = Member(m.country, m.config_file, process)
    try:
        for member in members.values():
            member.node.launch()
        for member in members.values():
            member.node.wait_ready()
        yield members
    finally:
        for member in members.values():
            member.node.stop()


def test_publish_receipt_and_taxes_at_the_partners_rates(
    pair: dict[str, Member], tmp_path: Path
) -> None:
    th, vn = pair["TH"], pair["VN"]
    today = datetime.now(UTC).date()
    later = today + timedelta(days=10)
    rates = tmp_path / "th-rates.csv"
    rates.write_text(f"currency,rate,valid_from\nUSD,35.50,2026-01-01\nUSD,36.00,{later}\n")
    th.cli("tariff", "import", str(DATA / "sample_tariff.csv"))
    th.cli("rates", "import", str(rates))

    first = th.cli("tariff", "publish", "--to", "VN")
    assert (first["version"], first["receivers"]) == (1, ["VN"])

    def settled(version: int) -> bool:
        rows = th.query(f"SELECT status FROM exchange_outgoing WHERE version = {version} "
                        "AND document_type = 'TARIFF_SCHEDULE'")  # fmt: skip
        return [r[0] for r in rows] == ["processed"]

    wait_for("VN's receipt for version 1", lambda: settled(1))
    # the receipt is VN's, signed, naming the envelope TH sent
    ((receipt, sealed),) = th.query(
        "SELECT receipt, sealed FROM exchange_outgoing WHERE document_type = 'TARIFF_SCHEDULE'"
    )
    ca = load_certificate((th.config.parent.parent / "ca.pem").read_bytes())
    vn_cert = load_certificate((vn.config.parent / "cert.pem").read_bytes())
    signed = envelope.open_receipt(receipt, TrustStore(ca, [vn_cert]), now=datetime.now(UTC),
                                   receiver="VN")  # fmt: skip
    assert signed.receipt.status is envelope.ReceiptStatus.RECEIVED
    assert signed.receipt.message_digest == envelope.digest_of(sealed)

    versions = vn.cli("tariff", "partners")
    seen = [(v["country"], v["version"], v["line_count"], v["in_force_today"]) for v in versions]
    assert seen == [("TH", 1, first["line_count"], True)]
    # logged on both sides with the same digest: issued at TH, received at VN
    issued = th.query("SELECT kind, document_sha256 FROM ledger_entries "
                      "WHERE document_type = 'TARIFF_SCHEDULE'")  # fmt: skip
    received = vn.query("SELECT kind, document_sha256 FROM ledger_entries "
                        "WHERE document_type = 'TARIFF_SCHEDULE'")  # fmt: skip
    assert issued == [("issued", first["document_sha256"])]
    assert received == [("received", first["document_sha256"])]

    # VN computes what smartphones would owe in Thailand, at Thai rates: USD 1000 = 35,500
    # THB; MFN 10 % = 3,550; VAT 10 % of 39,050 = 3,905
    phones = [Goods("85171300", Decimal(1000), "USD")]
    assert vn.taxes("TH", phones, today) == ("THB", Decimal("7455.00"))

    second = th.cli("tariff", "publish", "--effective", later.isoformat())
    assert (second["version"], second["receivers"]) == (2, ["VN"])
    wait_for("VN's receipt for version 2", lambda: settled(2))
    # from its effective date, version 2's rate (36 THB): 36,000 + 3,600 + 3,960
    assert vn.taxes("TH", phones, later) == ("THB", Decimal("7560.00"))
    assert vn.taxes("TH", phones, today) == ("THB", Decimal("7455.00"))  # still version 1
    versions = vn.cli("tariff", "partners", "--country", "TH")
    assert [(v["version"], v["effective_date"], v["in_force_today"]) for v in versions] == [
        (2, later.isoformat(), False), (1, today.isoformat(), True)
    ]  # fmt: skip
