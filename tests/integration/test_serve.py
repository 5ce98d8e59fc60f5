"""A node as a real process on loopback: set up by CLI, used over HTTP; stopped."""

from __future__ import annotations

import json
import os
import signal
import ssl
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from tests.integration.conftest import BIN, NodeProcess, free_ports

from onewindow.cli.serve import GRACE_SECONDS
from onewindow.exchange import federation

DATA = resources.files("onewindow") / "data"


def test_lodge_pay_release_over_http(node_process: Any) -> None:
    n = node_process
    for args in (
        ("tariff", "import", str(DATA / "sample_tariff.csv")),
        ("rates", "import", str(DATA / "sample_rates.csv")),
        ("origin", "record", str(DATA / "sample_certificate.json")),
    ):
        assert n.cli(*args).returncode == 0
    created = n.cli("user", "add", "saigon", "--role", "trader", "--party", "0101234567", "--json")
    token = json.loads(created.stdout)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    document = json.loads((DATA / "sample_declaration.json").read_text())

    with httpx.Client(base_url=n.url, headers=headers, timeout=30) as client:
        r = client.post("/api/v1/declarations", json=document)
        assert r.status_code == 201, r.text
        d = r.json()
        assert d["items"][0]["taxes"][0]["rate_kind"] == "ATIGA"
        bad = client.post(
            "/api/v1/declarations", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert bad.status_code == 422
        pay = {"method": "paid", "reference": "B-1", "amount": d["totals"]["total_due"]}
        r = client.post(f"/api/v1/declarations/{d['number']}/payment", json=pay)
        assert r.json()["status"] == "released", r.text

    shown = n.cli("declaration", "show", d["number"], "--json")
    assert json.loads(shown.stdout)["status"] == "released"


def test_stops_by_itself_while_a_partner_holds_an_idle_tls_connection(tmp_path: Path) -> None:
    """A partner's delivery worker keeps its TLS connection open between messages. Asked to
    stop, the node exits by itself within its grace (`serve.GRACE_SECONDS`): closing such a
    connection waits for the client's close_notify, which an idle pool never sends, and
    without the grace it waited asyncio's 30 s for it (and was killed by whoever stopped it
    before that, its workers never shut down)."""
    member = federation.init(tmp_path / "fed", ["TH"], base_port=free_ports(1)[0])[0]
    ca = ssl.create_default_context(cafile=str(tmp_path / "fed" / "ca.pem"))
    node = NodeProcess([str(BIN), "serve", "--config", str(member.config_file)],
                       dict(os.environ), member.endpoint, tmp_path / "serve.log",
                       country="TH", verify=ca)  # fmt: skip
    node.start()
    try:
        with httpx.Client(verify=ca) as partner:
            assert partner.get(member.endpoint + "/api/v1/health").status_code == 200
            assert node.process is not None
            node.process.terminate()  # the connection open and idle
            code = node.process.wait(GRACE_SECONDS + 15)
    finally:
        node.stop()
    assert code in (0, -signal.SIGTERM), node.tail()  # uvicorn raises the signal it caught
