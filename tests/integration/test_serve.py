"""A node as a real process on loopback: set up by CLI, used over HTTP."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import httpx

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
