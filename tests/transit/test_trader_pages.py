"""The ACTS traders' pages, on SQLite and PostgreSQL: officials register a trader and its
authorisations in a form (bad input named next to its field, nothing stored); a trader reads
its own registration; an authorised consignee receives a movement at its premises from the
movement's page; the lane and, for officials only, why."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onewindow.app import create_app
from onewindow.kit.node import Node
from onewindow.risk.service import add_profile
from onewindow.transit.models import Trader

from .partners import federate
from .portal import declare, field_error, guarantee, post, prepare, record_from_th, signed_in, text
from .traders import register

DEPOT = "VN-HAN-D1"
CONSIGNEE = {"id": "0101234567", "name": "Saigon Trading", "premises": DEPOT}


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def traders(node: Node) -> int:
    with node.transaction() as s:
        return s.scalar(select(func.count()).select_from(Trader)) or 0


def test_officials_register_traders_in_a_form_and_a_trader_reads_its_own(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    trader = signed_in(client, tokens["trader"])
    assert trader.get("/transit/traders").status_code == 403
    officer = signed_in(client, tokens["officer"])
    page = officer.get("/transit/traders")
    assert page.status_code == 200 and "No trader is registered yet." in text(page)

    fields = {"party_id": "0101234567", "name": "Saigon Trading", "status": "registered",
              "consignor": "false", "consignee": "true", "premises": ""}  # fmt: skip
    nowhere = post(officer, "/transit/traders", fields)
    assert nowhere.status_code == 422 and traders(node) == 0
    assert "an authorised consignor or consignee needs the premises it is authorised at" in (
        text(nowhere)
    )
    bad = post(officer, "/transit/traders", fields | {"party_id": "no spaces",
                                                      "premises": "x y = somewhere"})  # fmt: skip
    assert bad.status_code == 422 and traders(node) == 0
    assert field_error(bad, "party_id").startswith("Error: must be the trader's identification")
    assert field_error(bad, "premises").startswith("Error: line 1, code:")

    done = post(officer, "/transit/traders", fields | {"premises": f"{DEPOT} = 12 Pho Hue, Ha Noi"})
    assert done.headers["location"] == "/transit/traders/0101234567?done=trader"
    shown = text(officer.get(done.headers["location"]))
    assert "The trader's registration is saved." in shown
    assert f"{DEPOT} 12 Pho Hue, Ha Noi" in shown and "Authorised consignee yes" in shown
    assert 'action="/transit/traders"' in officer.get("/transit/traders/0101234567").text

    trader = signed_in(client, tokens["trader"])
    own = trader.get("/transit/traders/0101234567")
    assert own.status_code == 200 and 'action="/transit/traders"' not in own.text
    assert signed_in(client, tokens["other"]).get("/transit/traders/0101234567").status_code == 404
    refused = post(signed_in(client, tokens["trader"]), "/transit/traders", fields)
    assert refused.status_code == 403


def test_an_authorised_consignee_receives_the_goods_from_the_movements_page(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    federate(node, "TH", "LA")
    mrn = record_from_th(node, "LAVTE", "VNHAN", holder="0105551234567", consignee=CONSIGNEE)
    register(node, "0101234567", "Saigon Trading")  # registered; not yet authorised
    trader = signed_in(client, tokens["trader"])
    page = trader.get(f"/transit/{mrn}")
    assert page.status_code == 200 and f"at its premises {DEPOT}" in text(page)
    assert f'action="/transit/{mrn}/arrival"' not in page.text
    assert post(trader, f"/transit/{mrn}/arrival", {"arrival.office": "VNHAN"}).status_code == 403
    assert signed_in(client, tokens["other"]).get(f"/transit/{mrn}").status_code == 404

    register(node, "0101234567", "Saigon Trading", consignee=True,
             premises=[{"code": DEPOT, "address": "12 Pho Hue, Ha Noi"}])  # fmt: skip
    trader = signed_in(client, tokens["trader"])
    assert f'action="/transit/{mrn}/arrival"' in trader.get(f"/transit/{mrn}").text
    arrived = post(trader, f"/transit/{mrn}/arrival", {"arrival.office": "VNHAN"})
    assert arrived.headers["location"] == f"/transit/{mrn}?done=arrived"
    unloaded = post(trader, f"/transit/{mrn}/unloading", {"unloading.seals_intact": "true"})
    assert unloaded.headers["location"] == f"/transit/{mrn}?done=unloaded"
    shown = text(trader.get(f"/transit/{mrn}"))
    assert f"By the authorised consignee, at its premises {DEPOT}" in shown


def test_the_lane_is_shown_and_why_to_officials_only(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    prepare(node)
    with node.transaction() as s:
        add_profile(s, {"name": "phones", "lane": "yellow", "reason": "documents to check",
                        "hs_prefix": "8517"}, by="super1", now=node.clock.now())  # fmt: skip
    mrn = declare(node, guarantee(node))
    officer = signed_in(client, tokens["officer"])
    shown = text(officer.get(f"/transit/{mrn}"))
    assert "Lane at departure: yellow profile phones: documents to check" in shown
    missing = post(officer, f"/transit/{mrn}/release", {"release.decision": "release"})
    assert missing.status_code == 422
    assert "say what the control found" in field_error(missing, "release-control")
    released = post(officer, f"/transit/{mrn}/release", {
        "release.decision": "release", "release.control": "invoice and packing list match",
        "release.days": "6",
    })  # fmt: skip
    assert released.headers["location"] == f"/transit/{mrn}?done=released"
    shown = text(officer.get(f"/transit/{mrn}"))
    assert "Control: invoice and packing list match" in shown
    holder = text(signed_in(client, tokens["trader"]).get(f"/transit/{mrn}"))
    assert "Lane at departure: yellow" in holder and "documents to check" not in holder


def test_the_holder_cancels_its_declaration_from_the_page(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    prepare(node)
    mrn = declare(node, guarantee(node))
    trader = signed_in(client, tokens["trader"])
    page = trader.get(f"/transit/{mrn}")
    assert f'action="/transit/{mrn}/cancellation"' in page.text
    assert f'action="/transit/{mrn}/release"' not in page.text
    empty = post(trader, f"/transit/{mrn}/cancellation", {})
    assert empty.status_code == 422 and field_error(empty, "cancellation-note")
    done = post(trader, f"/transit/{mrn}/cancellation", {"cancellation.note": "order withdrawn"})
    assert done.headers["location"] == f"/transit/{mrn}?done=cancelled"
    shown = text(trader.get(done.headers["location"]))
    assert "The declaration is cancelled" in shown and "Declaration cancelled (IE014)" in shown
    assert f'action="/transit/{mrn}/cancellation"' not in trader.get(f"/transit/{mrn}").text
