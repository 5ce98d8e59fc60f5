"""The HTTP edge (issue 10, items 10 to 15): hostile numbers, bodies and characters get a
problem+json 4xx naming the problem, strangers get 401 before any word on their input, and the
API's documentation needs no host but the node."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onewindow.app import create_app
from onewindow.declarations import Declaration
from onewindow.kit import auth
from onewindow.kit.node import Node

PROBLEM = "application/problem+json"
DATA = resources.files("onewindow") / "data"
HUGE = "9223372036854775808"  # 2**63: one more than a 64-bit integer holds


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def declaration() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "sample_declaration.json").read_text())
    return data


def stored(node: Node) -> int:
    with node.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(Declaration)) or 0)


def assert_problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["code"] == code, body
    return body


# ---- item 10: integers in query strings ----


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (f"/api/v1/declarations?offset={HUGE}", "offset"),
        (f"/api/v1/exchange/messages?offset={HUGE}", "offset"),
        (f"/api/v1/ledger/consistency?old={HUGE}", "old"),
        (f"/api/v1/ledger/consistency?old=0&new={HUGE}", "new"),
        (f"/api/v1/ledger/proof/TH-2026-000123?tree_size={HUGE}", "tree_size"),
        (f"/api/v1/reports/clearance?days={HUGE}", "days"),
        (f"/api/v1/tariff/lines?limit={HUGE}", "limit"),
        (f"/api/v1/ledger/cosignatures?country=TH&limit={HUGE}", "limit"),
    ],
)
def test_a_huge_integer_in_a_query_is_refused_naming_it(
    client: TestClient, tokens: dict[str, str], url: str, name: str
) -> None:
    r = client.get(url, headers=bearer(tokens["supervisor"]))
    body = assert_problem(r, 422, "invalid_input")
    assert [e["path"] for e in body["errors"]] == [f"query.{name}"]


# ---- item 11: bodies ----


def _chunks(total: int, size: int = 1 << 16) -> Iterator[bytes]:
    yield b'{"type": "IM", "pad": "'
    for _ in range(total // size):
        yield b"x" * size


def test_a_50_mb_chunked_body_gets_413_problem(
    client: TestClient, node: Node, tokens: dict[str, str]
) -> None:
    # A generator body goes out chunked, without Content-Length: the limit holds while reading.
    headers = bearer(tokens["trader"]) | {"Content-Type": "application/json"}
    r = client.post("/api/v1/declarations", content=_chunks(50_000_000), headers=headers)
    assert "content-length" not in r.request.headers
    body = assert_problem(r, 413, "payload_too_large")
    assert "5000000" in body["detail"]
    assert stored(node) == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "too_deep"),
        (b'{"type": "IM", "n": ' + b"9" * 5000 + b"}", "number_too_long"),
        (b'{"type": "\xff\xfe IM"}', "invalid_encoding"),
    ],
    ids=["deep-array", "deep-object", "5000-digits", "bad-utf8"],
)
@pytest.mark.parametrize("path", ["/api/v1/declarations", "/api/v1/ledger/verify"])
def test_hostile_json_gets_a_4xx_problem_naming_it(
    client: TestClient, node: Node, tokens: dict[str, str], body: bytes, code: str, path: str
) -> None:
    headers = bearer(tokens["trader"]) | {"Content-Type": "application/json"}
    r = client.post(path, content=body, headers=headers)
    problem = assert_problem(r, 422, "invalid_input")
    assert problem["errors"] == [{"path": "body", "code": code, "message": problem["detail"][6:]}]
    assert stored(node) == 0


@pytest.mark.parametrize("body", [b'{"type": "\xed\xa0\x80"}', b'{"type": "\\ud800"}'])
def test_a_lone_surrogate_is_a_field_error(
    client: TestClient, tokens: dict[str, str], body: bytes
) -> None:
    # Python's JSON reader lets a lone surrogate through (encoded or escaped); the schema not.
    headers = bearer(tokens["trader"]) | {"Content-Type": "application/json"}
    r = client.post("/api/v1/declarations", content=body, headers=headers)
    problem = assert_problem(r, 422, "invalid_input")
    assert ("type", "string_unicode") in {(e["path"], e["code"]) for e in problem["errors"]}


def test_a_5000_digit_decimal_is_a_field_error(client: TestClient, tokens: dict[str, str]) -> None:
    data = declaration()
    data["items"][0]["customs_value"] = "1" + "0" * 5000
    r = client.post("/api/v1/declarations", json=data, headers=bearer(tokens["trader"]))
    body = assert_problem(r, 422, "invalid_input")
    assert [e["path"] for e in body["errors"]] == ["items.0.customs_value"]


# ---- item 12: authentication before validation ----


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/declarations", b"{not json"),
        ("POST", "/api/v1/declarations", b'{"type": "XX"}'),
        ("POST", "/api/v1/declarations", b"[" * 5000 + b"]" * 5000),
        ("PUT", "/api/v1/declarations/X", b"{}"),
        ("POST", "/api/v1/declarations/X/payment", b'{"method": "stolen"}'),
        ("GET", "/api/v1/declarations?limit=0", b""),
        ("POST", "/api/v1/ledger/witnesses/th/acknowledgement", b"{}"),
        ("POST", "/api/v1/origin/certificates/X/cancellation", b"{}"),
    ],
)
@pytest.mark.parametrize("token", [None, "ow_forged"])
def test_no_valid_token_gets_401_whatever_the_input(
    client: TestClient, method: str, path: str, body: bytes, token: str | None
) -> None:
    headers = {"Content-Type": "application/json"} | (bearer(token) if token else {})
    r = client.request(method, path, content=body, headers=headers)
    problem = assert_problem(r, 401, "not_authenticated")
    assert "errors" not in problem and r.headers["www-authenticate"] == "Bearer"


def test_a_valid_token_gets_the_field_errors(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/api/v1/declarations", json={"type": "XX"}, headers=bearer(tokens["trader"]))
    body = assert_problem(r, 422, "invalid_input")
    assert "type" in {e["path"] for e in body["errors"]}


def test_public_endpoints_still_answer_422(client: TestClient) -> None:
    r = client.get("/api/v1/ledger/consistency?old=-1")
    assert_problem(r, 422, "invalid_input")


# ---- item 13: identifiers and free text ----

RLM, ZWSP, RLO, BOM, WJ = "\u200f", "\u200b", "\u202e", "\ufeff", "\u2060"


@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        (("declarant", "id"), f"0101{RLM}234567", "declarant.id"),
        (("importer", "id"), f"0101234567{ZWSP}", "importer.id"),
        (("invoice", "number"), f"INV{WJ}-001", "invoice.number"),
        (("office",), f"VN{BOM}HPH", "office"),
        (("items", 0, "hs_code"), f"8517{ZWSP}1300", "items.0.hs_code"),
        (("items", 0, "preference", "certificate"), f"TH-2026-{RLM}000123", None),
        (("transport", "port_of_loading"), "THLC\u0397", "transport.port_of_loading"),  # Greek Eta
        (("declarant", "id"), "0101234567\u0660", "declarant.id"),  # an Arabic-Indic zero
    ],
)
def test_identifiers_refuse_invisible_and_non_ascii_characters(
    client: TestClient, node: Node, tokens: dict[str, str], where: tuple[Any, ...], value: str,
    path: str | None,
) -> None:  # fmt: skip
    data = declaration()
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    r = client.post("/api/v1/declarations", json=data, headers=bearer(tokens["trader"]))
    body = assert_problem(r, 422, "invalid_input")
    expected = path or ".".join(str(k) for k in where)
    assert expected in {e["path"] for e in body["errors"]}, body
    assert stored(node) == 0


@pytest.mark.parametrize(
    "text",
    [
        f"Smartphones {RLO}seettegic",  # shown to an officer as something else
        f"Smart{ZWSP}phones",
        "Smartphones\u2066hidden\u2069",
        "Smartphones\U000e0069\U000e0067",  # tag characters: invisible ASCII
        "Smartphones\u2028second line",
        "Smart\x85phones",
    ],
)
def test_free_text_refuses_characters_that_hide_or_reorder_it(
    client: TestClient, node: Node, tokens: dict[str, str], text: str
) -> None:
    data = declaration()
    data["items"][0]["description"] = text
    r = client.post("/api/v1/declarations", json=data, headers=bearer(tokens["trader"]))
    body = assert_problem(r, 422, "invalid_input")
    assert body["errors"][0]["path"] == "items.0.description"
    assert body["errors"][0]["code"] == "control_characters"
    assert "bidirectional" in body["errors"][0]["message"]
    assert stored(node) == 0


def test_free_text_keeps_any_printable_script(client: TestClient, tokens: dict[str, str]) -> None:
    data = declaration()
    data["items"][0]["description"] = "Điện thoại thông minh / โทรศัพท์ / ໂທລະສັບ / هاتف"
    data["importer"]["name"] = "Công ty TNHH Sài Gòn"
    r = client.post("/api/v1/declarations", json=data, headers=bearer(tokens["trader"]))
    assert r.status_code == 201, r.text
    assert r.json()["importer_name"] == "Công ty TNHH Sài Gòn"


def test_a_hidden_character_in_a_cancellation_reason_is_refused(
    client: TestClient, node: Node
) -> None:
    with node.transaction() as s:  # certificates are cancelled by their issuing authority
        token = auth.create_user(s, "moit", auth.Role.ISSUING_AUTHORITY, None)
    r = client.post(
        "/api/v1/origin/certificates/TH-2026-000123/cancellation",
        json={"reason": f"error {RLO}"},
        headers=bearer(token),
    )
    body = assert_problem(r, 422, "invalid_input")
    assert body["errors"][0]["path"] == "reason"


# ---- item 15: documentation ----


def test_docs_need_no_host_but_the_node(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert not re.search(r"(https?:)?//[a-z0-9]", html, re.IGNORECASE), html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3  # the script, the stylesheet, the icon
    for asset in assets:
        assert asset.startswith("/docs/assets/"), asset
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 500, asset
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    assert client.get("/redoc").status_code == 404  # ReDoc loads from a CDN only: off


def test_every_operation_documents_its_4xx_as_problem_json(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail"}
    field_error = spec["components"]["schemas"]["ProblemFieldError"]
    assert set(field_error["required"]) == {"path", "code", "message"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert len(operations) > 20
    for op in operations:
        responses = op["responses"]
        assert "4XX" in responses, op["operationId"]
        for status, response in responses.items():
            if status.startswith("4"):
                media = response["content"]
                assert media[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
                assert "application/json" not in media, (op["operationId"], status)


def test_a_real_404_and_405_are_problems_too(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nowhere"), 404, "not_found")
    r = client.delete("/api/v1/health")
    assert_problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers["allow"]
