"""A transit movement from Bangkok through Malaysia to Singapore across three `onewindow serve
--config` processes on loopback (mutual TLS, the domains' own handlers): MY and SG publish
their tariffs to TH with the CLI; TH registers a guarantee and declares a movement on it (the
amount reserved is MY's, computed at MY's published rates), releases it, MY records the
frontier crossed, SG the arrival and the unloading, TH writes it off. Every document is
checked at both ends: the sender's message processed with the receiver's signed receipt
naming the envelope sent, one ledger entry issued at the sender and one received at the
receiver with the same digest (that of the bytes sent). Then SG is down when a movement is
released: TH keeps retrying, SG comes back, and the record arrives once."""

from __future__ import annotations

import hashlib
import os
import ssl
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.conftest import NodeProcess, free_ports, wait_for
from tests.integration.test_tariff_exchange import DATA, FAST, Member

from onewindow.exchange import envelope, federation
from onewindow.exchange.trust import TrustStore
from onewindow.kit import auth
from onewindow.kit.certificates import load_certificate
from onewindow.kit.config import load
from onewindow.kit.node import Node
from onewindow.tariff import import_rates, import_schedule

# One federation of three nodes for the module (with `--dist loadgroup`, on one worker).
pytestmark = pytest.mark.xdist_group("transit-federation")
BIN = Path(sys.executable).parent / "onewindow"
ROAD = ("TH", "MY", "SG")
HEADER = "code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to\n"
# Each node's own schedule for smartphones and its official rates (home currency per unit).
TARIFFS = {
    "TH": ((DATA / "sample_tariff.csv").read_text(), "USD,36\nMYR,7.7\nSGD,26.5\n"),
    "MY": (HEADER + "85171300,Smartphones,PCE,20,0,10,2022-01-01,\n", "USD,4.4\n"),
    "SG": (HEADER + "85171300,Smartphones,PCE,0,0,9,2022-01-01,\n", "USD,1.35\n"),
}
GUARANTEE = {
    "kind": "comprehensive", "holder_id": "0105551234567", "holder_name": "Siam Logistics",
    "currency": "THB", "amount": "2000000", "valid_until": "2030-06-30",
}  # fmt: skip
# USD 100,000 of smartphones: in TH 3,600,000 THB + 10 % + VAT 10 % = 756,000; in MY
# 440,000 MYR + 20 % + VAT 10 % = 140,800 MYR = 1,084,160 THB; in SG 135,000 SGD + VAT 9 %
# = 12,150 SGD = 321,975 THB. The highest, MY's, is reserved.
EXPOSURE = {"TH": "756000.00", "MY": "1084160.00", "SG": "321975.00"}
RESERVED, FULL = "1084160.00", "2000000.00"


def movement(grn: str, *seals: str) -> dict[str, Any]:
    return {
        "holder_id": "0105551234567", "holder_name": "Siam Logistics", "grn": grn,
        "departure_office": "THLCH", "transit_offices": ["MYBKH"], "destination_office": "SGSIN",
        "seals": list(seals),
        "items": [{"hs_code": "85171300", "description": "Smartphones", "quantity": "500",
                   "unit": "PCE", "gross_mass_kg": "200", "customs_value": "100000",
                   "currency": "USD"}],
    }  # fmt: skip


@dataclass
class Station(Member):
    """A member node: its process, its CLI (Member's), and its API as its officer."""

    token: str = ""
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def ca(self) -> Path:
        return self.config.parent.parent / "ca.pem"

    @property
    def api(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.node.url, verify=self.node.verify, timeout=60,
                headers={"Authorization": f"Bearer {self.token}"},
            )  # fmt: skip
        return self._client

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.api.request(method, f"/api/v1/transit{path}", json=body)
        assert answer.status_code < 300, (method, path, answer.text)
        return answer.json()

    def status(self, mrn: str) -> tuple[str, str]:
        found = self.call("GET", f"/movements/{mrn}")
        return found["role"], found["status"]

    def kinds(self, mrn: str) -> list[str]:
        return [e["kind"] for e in self.call("GET", f"/movements/{mrn}/events")]

    def trust(self) -> TrustStore:
        mine = load_certificate((self.config.parent / "cert.pem").read_bytes())
        return TrustStore(load_certificate(self.ca.read_bytes()), [mine])

    def ledger(self, document_id: str, version: int) -> list[tuple[str, str]]:
        return [
            tuple(row)
            for row in self.query(
                "SELECT kind, document_sha256 FROM ledger_entries "
                f"WHERE document_id = '{document_id}' AND version = {version}"
            )
        ]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


Road = dict[str, Station]


def _prepare(config: Path, country: str) -> str:
    """Before it serves: the node's schedule and rates, and an officer (its API token)."""
    schedule, rates = TARIFFS[country]
    node = Node.open(load(config))
    try:
        with node.transaction() as s:
            import_schedule(s, schedule)
            import_rates(s, "currency,rate,valid_from\n" + rates.replace("\n", ",2020-01-01\n"))
            return auth.create_user(s, "officer1", auth.Role.OFFICER, None)
    finally:
        node.close()


@pytest.fixture(scope="module")
def road(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Road]:
    """TH, MY and SG serving, partners of each other; MY and SG have published their tariffs
    to TH with the CLI. The tests share it: each runs its own movement."""
    directory = tmp_path_factory.mktemp("transit") / "fed"
    created = federation.init(directory, list(ROAD), base_port=free_ports(1)[0])
    ports = dict(zip([m.country for m in created], free_ports(len(created)), strict=True))
    ca = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    stations: Road = {}
    for m in created:  # init's consecutive ports may be taken: free ones instead
        m.config["port"] = ports[m.country]
        for country, partner in m.config["partners"].items():
            partner["endpoint"] = f"https://127.0.0.1:{ports[country]}"
        federation._write_json(m.config_file, m.config)
        process = NodeProcess([str(BIN), "serve", "--config", str(m.config_file)],
                              os.environ | FAST, f"https://127.0.0.1:{ports[m.country]}",
                              m.directory / "serve.log", country=m.country,
                              verify=ca)  # fmt: skip
        token = _prepare(m.config_file, m.country)
        stations[m.country] = Station(m.country, m.config_file, process, token)
    try:
        for station in stations.values():
            station.node.launch()
        for station in stations.values():
            station.node.wait_ready()
        with ThreadPoolExecutor(2) as pool:
            published = list(pool.map(lambda c: stations[c].cli("tariff", "publish", "--to",
                                                                 "TH"), ("MY", "SG")))  # fmt: skip
        assert [p["receivers"] for p in published] == [["TH"], ["TH"]]
        for country in ("MY", "SG"):
            exchanged(stations, country, ["TH"], "TARIFF_SCHEDULE", f"{country}-TARIFF", 1)
        yield stations
    finally:  # asked to stop together, they wait out their grace together
        for station in stations.values():
            station.close()
            if station.node.running:
                station.node.process.terminate()  # type: ignore[union-attr]
        for station in stations.values():
            station.node.stop()


def exchanged(
    road: Road, sender: str, receivers: list[str], document_type: str, document_id: str,
    version: int,
) -> None:  # fmt: skip
    """`document_id` (`version`) went from `sender` to each of `receivers`: processed, with
    the receiver's signed receipt naming the envelope sent; logged once as issued at the
    sender and once as received at each receiver, with the digest of the document sent."""
    source = road[sender]
    query = (
        "SELECT receiver, status, receipt, sealed, document FROM exchange_outgoing "
        f"WHERE document_type = '{document_type}' AND document_id = '{document_id}' "
        f"AND version = {version} AND receiver IN ({', '.join(repr(r) for r in receivers)}) "
        "ORDER BY receiver"
    )
    wait_for(
        f"{sender}'s {document_id} v{version} processed by {receivers}",
        lambda: (
            [(r[0], r[1]) for r in source.query(query)]
            == [(c, "processed") for c in sorted(receivers)]
        ),
    )
    rows = source.query(query)
    digest = hashlib.sha256(rows[0][4]).hexdigest()
    assert source.ledger(document_id, version) == [("issued", digest)]
    for receiver, _, receipt, sealed, document in rows:
        assert hashlib.sha256(document).hexdigest() == digest  # one document for all
        opened = envelope.open_receipt(
            receipt, road[receiver].trust(), now=datetime.now(UTC), receiver=receiver
        )
        assert opened.receipt.status is envelope.ReceiptStatus.RECEIVED, opened.receipt.reasons
        assert opened.receipt.message_digest == envelope.digest_of(sealed)
        assert road[receiver].ledger(document_id, version) == [("received", digest)]


def test_a_movement_runs_from_bangkok_to_singapore_across_three_nodes(road: Road) -> None:
    th, my, sg = road["TH"], road["MY"], road["SG"]
    assert all(p.endpoint.startswith("https://") for p in load(th.config).partners.values())
    th.call("PUT", "/traders/0105551234567", {"name": "Siam Logistics"})  # for ACTS
    grn = th.call("POST", "/guarantees", GUARANTEE)["grn"]
    declared = th.call("POST", "/movements", movement(grn, "THSEAL-1001", "THSEAL-1002"))
    mrn = declared["mrn"]
    assert (declared["status"], declared["reserved"], declared["exposure"]) == (
        "accepted", RESERVED, EXPOSURE
    )  # fmt: skip
    assert th.call("GET", f"/guarantees/{grn}")["balance"] == "915840.00"

    released = th.call("POST", f"/movements/{mrn}/release", {"decision": "release"})
    assert released["status"] == "released" and released["time_limit"]
    exchanged(road, "TH", ["MY", "SG"], "TRANSIT_RECORD", mrn, 1)  # IE050 / IE001
    assert my.status(mrn) == ("transit", "expected")
    assert sg.status(mrn) == ("destination", "expected")

    assert my.call("POST", f"/movements/{mrn}/crossing", {"office": "MYBKH"})["status"] == (
        "crossed"
    )
    exchanged(road, "MY", ["TH"], "TRANSIT_EVENT", f"{mrn}-IE118-MYBKH", 1)
    assert th.status(mrn) == ("departure", "released")
    assert sg.call("POST", f"/movements/{mrn}/arrival", {"office": "SGSIN"})["status"] == (
        "arrived"
    )
    exchanged(road, "SG", ["TH"], "TRANSIT_EVENT", f"{mrn}-IE006-SGSIN", 1)
    assert th.status(mrn) == ("departure", "arrived")
    assert th.call("GET", f"/guarantees/{grn}")["balance"] == "915840.00"  # still held

    unloaded = sg.call("POST", f"/movements/{mrn}/unloading", {"seals_intact": True})
    assert unloaded["status"] == "unloaded"
    exchanged(road, "SG", ["TH"], "TRANSIT_EVENT", f"{mrn}-IE018-SGSIN", 1)
    # satisfactory control results: written off at TH (IE045), the others told
    exchanged(road, "TH", ["MY", "SG"], "TRANSIT_RECORD", mrn, 2)
    assert th.status(mrn) == ("departure", "discharged")
    assert th.call("GET", f"/guarantees/{grn}")["balance"] == FULL
    assert my.status(mrn) == ("transit", "discharged")
    assert sg.status(mrn) == ("destination", "discharged")
    assert th.kinds(mrn) == ["IE029", "IE118", "IE006", "IE018", "IE045"]
    assert my.kinds(mrn) == ["IE001", "IE118", "IE045"]
    assert sg.kinds(mrn) == ["IE001", "IE007", "IE044", "IE045"]


def test_destination_down_when_released_gets_the_record_once_when_back(road: Road) -> None:
    """SG stops as the movement is released (by TH's CLI); TH keeps retrying while MY gets
    the record and reports the crossing; SG comes back and the record arrives once. Then
    broken seals at SG, and an officer of TH writes the movement off."""
    th, my, sg = road["TH"], road["MY"], road["SG"]
    th.call("PUT", "/traders/0105551234567", {"name": "Siam Logistics"})  # for ACTS
    grn = th.call("POST", "/guarantees", GUARANTEE)["grn"]
    mrn = th.call("POST", "/movements", movement(grn, "THSEAL-2001"))["mrn"]
    sg.node.stop()
    assert th.cli("transit", "release", mrn)["status"] == "released"
    exchanged(road, "TH", ["MY"], "TRANSIT_RECORD", mrn, 1)  # not SG's yet
    my.call("POST", f"/movements/{mrn}/crossing", {"office": "MYBKH"})
    exchanged(road, "MY", ["TH"], "TRANSIT_EVENT", f"{mrn}-IE118-MYBKH", 1)

    to_sg = (
        "SELECT status, attempts, last_error FROM exchange_outgoing "
        f"WHERE document_id = '{mrn}' AND receiver = 'SG'"
    )
    wait_for("TH's retries to SG", lambda: th.query(to_sg)[0][1] >= 3)
    ((state, _, error),) = th.query(to_sg)
    assert state in ("queued", "sent") and error
    assert th.status(mrn) == ("departure", "released")

    sg.node.start()
    exchanged(road, "TH", ["MY", "SG"], "TRANSIT_RECORD", mrn, 1)
    once = f"WHERE document_id = '{mrn}'"
    assert sg.query(f"SELECT count(*) FROM exchange_incoming {once}") == [(1,)]
    assert sg.query(f"SELECT count(*) FROM transit_movements WHERE mrn = '{mrn}'") == [(1,)]
    assert sg.query(f"SELECT kind FROM ledger_entries {once}") == [("received",)]
    assert sg.status(mrn) == ("destination", "expected") and sg.kinds(mrn) == ["IE001"]

    sg.call("POST", f"/movements/{mrn}/arrival", {"office": "SGSIN"})
    exchanged(road, "SG", ["TH"], "TRANSIT_EVENT", f"{mrn}-IE006-SGSIN", 1)
    remarks = {"seals_intact": False, "discrepancies": "seal THSEAL-2001 cut"}
    sg.call("POST", f"/movements/{mrn}/unloading", remarks)
    exchanged(road, "SG", ["TH"], "TRANSIT_EVENT", f"{mrn}-IE018-SGSIN", 1)
    assert th.status(mrn) == ("departure", "discrepancies")
    assert th.call("GET", f"/guarantees/{grn}")["balance"] == "915840.00"
    note = {"note": "resealed at the frontier by MY customs; goods complete"}
    assert th.call("POST", f"/movements/{mrn}/discharge", note)["status"] == "discharged"
    exchanged(road, "TH", ["MY", "SG"], "TRANSIT_RECORD", mrn, 2)
    assert th.call("GET", f"/guarantees/{grn}")["balance"] == FULL
    assert [s.status(mrn)[1] for s in (th, my, sg)] == ["discharged"] * 3
    assert sg.query(f"SELECT count(*) FROM transit_movements WHERE mrn = '{mrn}'") == [(1,)]
    assert sg.query(f"SELECT version, kind FROM ledger_entries {once} ORDER BY version") == [
        (1, "received"), (2, "received")
    ]  # fmt: skip
    assert sg.kinds(mrn) == ["IE001", "IE007", "IE044", "IE045"]
    assert th.kinds(mrn) == ["IE029", "IE118", "IE006", "IE018", "IE045"]
