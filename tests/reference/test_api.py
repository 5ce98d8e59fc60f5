"""The lists over the API: any signed-in user reads them, on a date; nobody without a token."""

from __future__ import annotations

from importlib import resources

import pytest
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.node import Node
from onewindow.reference import import_list

OFFICES = (resources.files("onewindow") / "data" / "sample_offices.csv").read_text()
TRADER, PARTY = auth.Role.TRADER, "0101234567"
CLOSED = "code,description,kind,locode\nHP01,Chi cục Hải quan cảng Hải Phòng,port,VNHPH\n"


@pytest.fixture
def client(node: Node) -> TestClient:
    at = node.clock.now()
    with node.transaction() as s:
        import_list(s, "offices", OFFICES, at.date().replace(month=1, day=1), actor="t", at=at)
        import_list(s, "offices", CLOSED, at.date().replace(month=10, day=1), actor="t", at=at)
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def headers(node: Node) -> dict[auth.Role, dict[str, str]]:
    with node.transaction() as s:
        made = {
            role: auth.create_user(s, f"ref-{role.value}", role, PARTY if role is TRADER else None)
            for role in auth.Role
        }
    return {role: {"Authorization": f"Bearer {token}"} for role, token in made.items()}


def test_without_a_token_401(client: TestClient) -> None:
    for url in ("/api/v1/reference/lists", "/api/v1/reference/lists/offices"):
        r = client.get(url)
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_every_role_reads_the_lists(
    client: TestClient, headers: dict[auth.Role, dict[str, str]]
) -> None:
    for role, h in headers.items():
        summary = client.get("/api/v1/reference/lists", headers=h)
        assert summary.status_code == 200, role
        offices = summary.json()[0]
        assert (offices["name"], offices["entries"]) == ("offices", 1)
        listed = client.get("/api/v1/reference/lists/offices", headers=h)
        assert listed.status_code == 200, role


def test_a_list_on_a_date(client: TestClient, headers: dict[auth.Role, dict[str, str]]) -> None:
    h = headers[auth.Role.TRADER]
    today = client.get("/api/v1/reference/lists/offices", headers=h).json()
    assert today["on"] == "2026-11-20"
    assert [e["code"] for e in today["entries"]] == ["HP01"]
    june = client.get("/api/v1/reference/lists/offices?on=2026-06-01", headers=h).json()
    assert len(june["entries"]) == 9
    (hn01,) = [e for e in june["entries"] if e["code"] == "HN01"]
    assert hn01 == {
        "code": "HN01",
        "description": "Chi cục Hải quan sân bay quốc tế Nội Bài",
        "attributes": {"kind": "airport", "locode": "VNHAN"},
        "valid_from": "2026-01-01",
        "valid_to": "2026-09-30",
    }
    summary = client.get("/api/v1/reference/lists?on=2026-06-01", headers=h).json()
    assert (summary[0]["entries"], summary[0]["last_change"]) == (9, "2026-01-01")


def test_an_unknown_list_or_a_bad_date(
    client: TestClient, headers: dict[auth.Role, dict[str, str]]
) -> None:
    h = headers[auth.Role.OFFICER]
    missing = client.get("/api/v1/reference/lists/ports", headers=h)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = client.get("/api/v1/reference/lists/offices?on=June", headers=h)
    assert bad.status_code == 422
