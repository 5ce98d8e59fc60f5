"""The analysts' dashboard: figures that add up, their CSV, the filters in the URL, and the
roles: customs readers in, traders out."""

from __future__ import annotations

import copy
import csv
import io
import json
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.schemas import InspectionFindings, Opening, Payment
from onewindow.kit import auth, i18n, web
from onewindow.kit.auth import SYSTEM
from onewindow.kit.node import Node
from onewindow.risk.service import create_profile

DATA = resources.files("onewindow") / "data"
BASE: dict[str, Any] = json.loads((DATA / "sample_declaration.json").read_text())
OFFICER = auth.Principal("officer1", auth.Role.OFFICER)


def declaration(office: str = "VNHPH", hs_code: str = "85171300") -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc["office"] = office
    doc["items"][0]["hs_code"] = hs_code
    del doc["items"][0]["preference"]  # MFN: duty is due
    return doc


@pytest.fixture
def seeded(node: Node) -> dict[str, str]:
    """Five declarations: 3 green at VNHPH (two paid, so released), 2 red laptops at VNSGN
    (inspected: one irregular); tokens for an analyst and a trader."""
    ctx = context(node)
    with node.transaction() as s:
        create_profile(s, name="laptops", lane="red", reason="undervalued", hs_prefix="8471")
        green = service.lodge(s, SYSTEM, [declaration() for _ in range(3)], ctx)
        red = service.lodge(s, SYSTEM, [declaration("VNSGN", "84713020") for _ in range(2)], ctx)
        for number in green[:2]:
            due = service.get(s, SYSTEM, number).total_due
            service.pay(s, SYSTEM, number, Payment(method="paid", reference="B", amount=due), ctx)
        for number, result in zip(red, ("irregularity", "compliant"), strict=True):
            service.open_control(s, OFFICER, number, Opening(), ctx)
            service.record_inspection(s, OFFICER, number, InspectionFindings(result=result), ctx)
        return {
            "analyst": auth.create_user(s, "analyst1", auth.Role.ANALYST, None),
            "trader": auth.create_user(s, "saigon", auth.Role.TRADER, "0101234567"),
        }


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def rows(client: TestClient, chart: str, query: str = "") -> list[list[str]]:
    r = client.get(f"/analytics/{chart}.csv?{query}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    return list(csv.reader(io.StringIO(r.text)))


def test_the_figures_add_up_and_each_chart_has_its_table_and_csv(
    client: TestClient, seeded: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, seeded["analyst"])
    page = client.get("/analytics")
    assert page.status_code == 200
    # no Form D, no messages in this node's period: said, not drawn
    assert page.text.count('<svg class="chart" role="img"') == 6
    assert page.text.count("No figures for this period.") == 2
    assert "Hit rate of controls by lane" in page.text
    assert rows(client, "per-day")[1:] == [
        ["2026-11-20", "VNHPH", "3"],
        ["2026-11-20", "VNSGN", "2"],
    ]
    assert rows(client, "lanes")[1:] == [["green", "3", "60.0"], ["red", "2", "40.0"]]
    assert rows(client, "hits-by-lane")[1:] == [["red", "2", "1", "50.0"]]
    assert rows(client, "hits-by-source")[1:] == [["profile laptops", "2", "1", "50.0"]]
    revenue = rows(client, "revenue")
    assert revenue[0] == ["Tax", "HS chapter", "Amount"]
    assert {(tax, chapter) for tax, chapter, _ in revenue[1:]} == {
        ("IMPORT_DUTY", "85"),
        ("VAT", "85"),
    }  # fmt: skip: only the two paid and released; the red ones await payment
    clearance = rows(client, "clearance")
    assert [r[:2] for r in clearance[1:]] == [["all", "2"], ["green", "2"]]


def test_filters_are_in_the_url_and_bad_ones_are_named(
    client: TestClient, seeded: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, seeded["analyst"])
    only = rows(client, "lanes", "office=VNSGN&from=2026-11-01&to=2026-11-30")
    assert only[1:] == [["red", "2", "100.0"]]
    page = client.get("/analytics?office=VNSGN&from=2026-11-01&to=2026-11-30")
    assert 'href="/analytics/lanes.csv?from=2026-11-01&amp;to=2026-11-30&amp;office=VNSGN"' in (
        page.text
    )
    before = rows(client, "per-day", "from=2026-10-01&to=2026-10-31")
    assert before == [["Day", "Office", "Declarations"]]
    backwards = client.get("/analytics?from=2026-11-30&to=2026-11-01")
    assert backwards.status_code == 422 and "the first day is after the last" in backwards.text
    assert client.get("/analytics?from=2020-01-01&to=2026-11-01").status_code == 422
    assert client.get("/analytics?office=nope!").status_code == 422
    assert client.get("/analytics?from=yesterday").status_code == 422
    assert client.get("/analytics/bogus.csv").status_code == 404
    client.cookies.set(i18n.COOKIE, "vi")  # the same errors, in Vietnamese
    backwards = client.get("/analytics?from=2026-11-30&to=2026-11-01")
    assert backwards.status_code == 422 and "from: ngày đầu sau ngày cuối" in backwards.text
    too_long = client.get("/analytics?from=2020-01-01&to=2026-11-01")
    assert "from: mỗi lần tối đa 366 ngày" in too_long.text
    garbled = client.get("/analytics?from=yesterday")  # pydantic's message, translated
    assert garbled.status_code == 422 and "from: Phải là một ngày hoặc thời điểm hợp lệ" in (
        garbled.text
    )


def test_a_trader_gets_no_figures(client: TestClient, seeded: dict[str, str]) -> None:
    client.cookies.set(web.COOKIE, seeded["trader"])
    assert client.get("/analytics").status_code == 403
    assert client.get("/analytics/lanes.csv").status_code == 403
    assert "/analytics" not in client.get("/").text  # not in the trader's navigation
