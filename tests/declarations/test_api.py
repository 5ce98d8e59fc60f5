from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onewindow.app import create_app
from onewindow.declarations import Declaration
from onewindow.kit.node import Node

Doc = Callable[..., dict[str, Any]]


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored(node: Node) -> int:
    with node.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(Declaration)) or 0)


def test_lodge_returns_201_with_the_assessed_declaration(
    client: TestClient, tokens: dict[str, str], doc: Doc, certificate: str
) -> None:
    r = client.post("/api/v1/declarations", json=doc(), headers=bearer(tokens["trader"]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/declarations/{body['number']}"
    assert body["items"][0]["taxes"][0]["rate_kind"] == "ATIGA"
    assert body["totals"]["total_due"] == "52700000"
    # The answer to lodging is built from what was written, without reading it back: it must
    # be exactly what a later read from the database shows.
    got = client.get(f"/api/v1/declarations/{body['number']}", headers=bearer(tokens["trader"]))
    assert got.json() == body
    assert (
        body["items"][0]["net_mass_kg"] == "25" and body["items"][0]["customs_value"] == "20000.00"
    )


def test_problem_json_lists_every_field_error(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc
) -> None:
    data = doc()
    data["items"][0]["quantity"] = "-1"
    data["invoice"]["currency"] = 12
    r = client.post("/api/v1/declarations", json=data, headers=bearer(tokens["trader"]))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    paths = {e["path"] for e in r.json()["errors"]}
    assert paths == {"items.0.quantity", "invoice.currency"}
    assert stored(node) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 422), (b"[]", 422), (b"", 422), (b'{"type": "IM"', 422)],
)
def test_malformed_bodies_get_4xx(
    client: TestClient, tokens: dict[str, str], body: bytes, status: int
) -> None:
    headers = bearer(tokens["trader"]) | {"Content-Type": "application/json"}
    r = client.post("/api/v1/declarations", content=body, headers=headers)
    assert r.status_code == status
    assert r.json()["code"] == "invalid_input"


def test_a_50_mb_body_is_refused_with_413(
    client: TestClient, node: Node, tokens: dict[str, str]
) -> None:
    big = b'{"type": "IM", "pad": "' + b"x" * 50_000_000 + b'"}'
    r = client.post(
        "/api/v1/declarations",
        content=big,
        headers=bearer(tokens["trader"]) | {"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert stored(node) == 0


def test_ten_thousand_items_get_422(client: TestClient, tokens: dict[str, str], doc: Doc) -> None:
    data = doc()
    data["items"] = data["items"] * 10_000
    r = client.post(
        "/api/v1/declarations",
        content=orjson.dumps(data),
        headers=bearer(tokens["trader"]) | {"Content-Type": "application/json"},
    )
    assert r.status_code in (413, 422)


def test_authentication_and_access_rules(
    client: TestClient, tokens: dict[str, str], doc: Doc
) -> None:
    assert client.post("/api/v1/declarations", json=doc()).status_code == 401
    assert client.get("/api/v1/declarations", headers=bearer("ow_forged")).status_code == 401
    number = client.post(
        "/api/v1/declarations", json=doc(), headers=bearer(tokens["trader"])
    ).json()["number"]
    assert (
        client.get(f"/api/v1/declarations/{number}", headers=bearer(tokens["other"])).status_code
        == 404
    )
    assert client.get("/api/v1/declarations", headers=bearer(tokens["other"])).json() == []
    # Another trader may not lodge in this trader's name.
    assert (
        client.post("/api/v1/declarations", json=doc(), headers=bearer(tokens["other"])).status_code
        == 403
    )
    # Traders do not release (refused by the route's rule, whatever the status); officers
    # release only paid declarations.
    assert (
        client.post(
            f"/api/v1/declarations/{number}/release", headers=bearer(tokens["trader"])
        ).status_code
        == 403
    )
    r = client.post(f"/api/v1/declarations/{number}/release", headers=bearer(tokens["officer"]))
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


def test_pay_then_history_and_clearance_report(
    client: TestClient, tokens: dict[str, str], doc: Doc
) -> None:
    trader = bearer(tokens["trader"])
    d = client.post("/api/v1/declarations", json=doc(), headers=trader).json()
    payment = {"method": "paid", "reference": "BANK-1", "amount": d["totals"]["total_due"]}
    paid = client.post(f"/api/v1/declarations/{d['number']}/payment", json=payment, headers=trader)
    assert paid.status_code == 200 and paid.json()["status"] == "released"
    history = client.get(f"/api/v1/declarations/{d['number']}/history", headers=trader).json()
    assert [h["to_status"] for h in history] == [
        "registered",
        "awaiting_payment",
        "paid",
        "released",
    ]
    assert client.get("/api/v1/reports/clearance", headers=trader).status_code == 403
    report = client.get("/api/v1/reports/clearance", headers=bearer(tokens["officer"])).json()
    assert report["channels"]["green"]["released"] == 1


def test_tariff_and_rate_lookups(client: TestClient, tokens: dict[str, str]) -> None:
    h = bearer(tokens["trader"])
    line = client.get("/api/v1/tariff/lines/22030010?on=2027-06-01", headers=h).json()
    assert line["line"]["mfn_rate"] == "40.0000"
    assert [e["code"] for e in line["hs"]] == ["22", "2203", "220300"]
    assert client.get("/api/v1/tariff/lines/00000000", headers=h).status_code == 404
    assert client.get("/api/v1/rates/USD?on=2026-11-20", headers=h).json()["rate"] == "26350.000000"
    assert client.get("/api/v1/rates/USD?on=yesterday", headers=h).status_code == 422


def test_openapi_documents_the_lodging_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "post" in spec["paths"]["/api/v1/declarations"]
