"""Transit's pages after release, on SQLite and PostgreSQL: at an office of transit here (the
frontier crossed) and of destination (arrival, diverted or not, and unloading remarks), each
sent to the office of departure; back at departure, the write-off of a movement whose
control results had remarks, and the recovery after an enquiry; guarantees registered in a
form and shown with their reservations. Bad input is named next to its field and changes
nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.node import Node
from onewindow.transit import enquiry, service
from onewindow.transit.context import context
from onewindow.transit.schemas import Release

from .partners import federate
from .portal import (
    OFFICER,
    declare,
    event_from,
    field_error,
    guarantee,
    post,
    prepare,
    queued,
    receive,
    record_from_th,
    signed_in,
    state,
    text,
)


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def officer(client: TestClient, tokens: dict[str, str]) -> TestClient:
    return signed_in(client, tokens["officer"])


def released(node: Node) -> tuple[str, str]:
    """A movement declared and released here, to Bangkok through Vientiane: (MRN, GRN)."""
    prepare(node)
    grn = guarantee(node)
    mrn = declare(node, grn)
    with node.transaction() as s:
        service.decide_release(s, OFFICER, mrn, Release(decision="release"), context(node))
    return mrn, grn


def test_an_office_of_transit_records_the_frontier_crossed(node: Node, officer: TestClient) -> None:
    federate(node, "TH", "LA", "KH")
    mrn = record_from_th(node, "LAVTE", "VNLAO", "KHPNH")  # through Laos, Vietnam, Cambodia
    page = officer.get(f"/transit/{mrn}")
    shown = text(page)
    assert "This node is an office of transit on its itinerary" in shown
    assert "Anticipated arrival record received (IE001) THBKK" in shown
    assert 'name="crossing.office" type="text" value="VNLAO"' in page.text  # the one declared
    before = state(node, mrn)
    abroad = post(officer, f"/transit/{mrn}/crossing", {"crossing.office": "KHPNH"})
    assert abroad.status_code == 422 and state(node, mrn) == before
    assert field_error(abroad, "crossing-office") == "Error: must be an office of VN"
    assert 'value="KHPNH"' in abroad.text  # what was typed, shown again
    bad = post(officer, f"/transit/{mrn}/crossing", {"crossing.office": "lao bao"})
    assert bad.status_code == 422 and state(node, mrn) == before
    crossed = post(officer, f"/transit/{mrn}/crossing", {"crossing.office": "VNLAO"})
    assert crossed.headers["location"] == f"/transit/{mrn}?done=crossed"
    page = officer.get(crossed.headers["location"])
    assert "The frontier crossing is recorded" in text(page)
    assert "Frontier crossed (IE118) VNLAO" in text(page)
    assert f'action="/transit/{mrn}/crossing"' not in page.text  # once
    assert queued(node, "TRANSIT_EVENT") == ["TH"]  # to the office of departure
    again = post(officer, f"/transit/{mrn}/crossing", {"crossing.office": "VNLAO"})
    assert again.status_code == 409 and queued(node, "TRANSIT_EVENT") == ["TH"]


def test_a_diverted_arrival_and_unloading_remarks_at_destination(
    node: Node, client: TestClient, officer: TestClient, tokens: dict[str, str]
) -> None:
    federate(node, "TH", "LA")
    mrn = record_from_th(node, "LAVTE", "VNHAN")
    trader = signed_in(client, tokens["trader"])  # the holder follows it, acts on nothing
    page = trader.get(f"/transit/{mrn}")
    assert page.status_code == 200 and "This node is its office of destination" in text(page)
    assert 'method="post" action="/transit/' not in page.text

    officer = signed_in(client, tokens["officer"])
    page = officer.get(f"/transit/{mrn}")
    assert 'name="arrival.office" type="text" value="VNHAN"' in page.text
    assert f'action="/transit/{mrn}/crossing"' not in page.text  # not an office of transit
    arrived = post(officer, f"/transit/{mrn}/arrival", {"arrival.office": "VNHPH"})
    assert arrived.headers["location"] == f"/transit/{mrn}?done=arrived"
    shown = text(officer.get(f"/transit/{mrn}"))
    assert "Diverted transit: diverted: presented at VNHPH, declared for VNHAN" in shown
    assert "Goods presented (arrival) (IE007) VNHPH" in shown

    before = state(node, mrn)
    missing = post(officer, f"/transit/{mrn}/unloading", {"unloading.discrepancies": "x"})
    assert missing.status_code == 422 and state(node, mrn) == before
    assert field_error(missing, "unloading-seals_intact") == "Error: Field required"
    assert "x</textarea>" in missing.text
    remarks = {"unloading.seals_intact": "false", "unloading.discrepancies": "20 cartons short"}
    unloaded = post(officer, f"/transit/{mrn}/unloading", remarks)
    assert unloaded.headers["location"] == f"/transit/{mrn}?done=unloaded"
    shown = text(officer.get(f"/transit/{mrn}"))
    assert (
        "Unloading remarks (IE044) VNHPH Seals broken or missing; discrepancies: 20 cartons"
        in shown
    )
    assert queued(node, "TRANSIT_EVENT") == ["TH", "TH"]  # the arrival, the control results


def test_departure_writes_off_a_movement_whose_control_results_had_remarks(
    node: Node, officer: TestClient
) -> None:
    mrn, grn = released(node)
    node.clock.advance(days=2)
    event_from(node, "TH", mrn, "IE006", "THBKK", node.clock.now())
    node.clock.advance(hours=3)
    event_from(node, "TH", mrn, "IE018", "THBKK", node.clock.now(),
               seals_intact=False, discrepancies="2 cartons short")  # fmt: skip
    node.clock.advance(hours=1)
    page = officer.get(f"/transit/{mrn}")
    shown = text(page)
    assert "DISCREPANCIES" in shown.upper() and f'action="/transit/{mrn}/discharge"' in page.text
    order = ["(IE029) VNHAN", "(IE006) THBKK", "(IE018) THBKK Seals broken or missing"]
    assert [shown.index(e) for e in order] == sorted(shown.index(e) for e in order)
    before = state(node, mrn)
    blank = post(officer, f"/transit/{mrn}/discharge", {"discharge.note": "  "})
    assert blank.status_code == 422 and state(node, mrn) == before
    assert field_error(blank, "discharge-note") == "Error: Field required"
    done = post(officer, f"/transit/{mrn}/discharge", {"discharge.note": "duties paid at TH"})
    assert done.headers["location"] == f"/transit/{mrn}?done=discharged"
    shown = text(officer.get(done.headers["location"]))
    assert "Written off (IE045) VNHAN" in shown and "Note: duties paid at TH" in shown
    assert state(node, mrn)[2] == 0  # its reservation given back
    assert "Balance 5,000,000,000 VND" in text(officer.get(f"/transit/guarantees/{grn}"))


def test_recovery_after_an_enquiry_that_ran_out(node: Node, officer: TestClient) -> None:
    mrn, grn = released(node)
    node.clock.advance(days=9)  # past its time limit: the hourly sweep puts it under enquiry
    with node.transaction() as s:
        assert enquiry.overdue(s, context(node)) == [mrn]
    page = officer.get(f"/transit/{mrn}")
    assert "Enquiry started (IE140) VNHAN Time limit was 2026-11-28" in text(page)
    assert f'action="/transit/{mrn}/recovery"' in page.text
    before = state(node, mrn)
    early = post(officer, f"/transit/{mrn}/recovery", {"recovery.note": "no answer"})
    assert early.status_code == 409 and state(node, mrn) == before
    assert "the holder and the destination may still answer" in text(early)
    node.clock.advance(days=28)
    done = post(officer, f"/transit/{mrn}/recovery", {"recovery.note": "no answer"})
    assert done.headers["location"] == f"/transit/{mrn}?done=recovery"
    assert "The guarantee is called for this movement." in text(
        officer.get(done.headers["location"])
    )
    shown = text(officer.get(f"/transit/guarantees/{grn}"))
    assert f"{mrn} 333,760,000 VND called" in shown


def test_guarantees_are_registered_by_officials_and_read_by_their_holder(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    prepare(node)
    officer = signed_in(client, tokens["officer"])
    form = officer.get("/transit/guarantees/new")
    assert form.status_code == 200 and 'name="currency" type="text" value="VND"' in form.text
    fields = {"kind": "comprehensive", "holder_id": "0101234567", "holder_name": "Saigon Trading",
              "currency": "VND", "amount": "900000000", "valid_until": "2027-06-30"}  # fmt: skip
    before = state(node)
    bad = post(
        officer, "/transit/guarantees/new", fields | {"amount": "-1", "valid_until": "2020-01-01"}
    )
    assert bad.status_code == 422 and state(node) == before
    assert field_error(bad, "amount") == "Error: Input should be greater than 0"
    stale = post(officer, "/transit/guarantees/new", fields | {"valid_until": "2020-01-01"})
    assert stale.status_code == 422 and field_error(stale, "valid_until") == "Error: is in the past"
    done = post(officer, "/transit/guarantees/new", fields)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=registered")
    grn = done.headers["location"].split("/")[-1].split("?")[0]
    mrn = declare(node, grn)
    page = officer.get(f"/transit/guarantees/{grn}")
    shown = text(page)
    assert "The guarantee is registered." not in shown  # only right after registering
    assert "Reference amount 900,000,000 VND Balance 566,240,000 VND" in shown
    assert f"{mrn} 333,760,000 VND held" in shown and "TH: 333,760,000 VND" in shown

    trader = signed_in(client, tokens["trader"])
    assert trader.get("/transit/guarantees/new").status_code == 403
    before = state(node)
    denied = post(trader, "/transit/guarantees/new", fields)
    assert denied.status_code == 403 and state(node) == before
    own = text(trader.get(f"/transit/guarantees/{grn}"))
    assert "Balance 566,240,000 VND" in own and mrn in own
    assert "TH: 333,760,000" not in own and "Potentially due" not in own  # officials' figures
    other = signed_in(client, tokens["other"])
    assert other.get(f"/transit/guarantees/{grn}").status_code == 404


def test_a_movement_page_in_vietnamese(
    node: Node, officer: TestClient, tokens: dict[str, str]
) -> None:
    mrn, _ = released(node)
    page = officer.get(f"/transit/{mrn}", headers={"Accept-Language": "vi-VN,vi;q=0.9"})
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    shown = text(page)
    assert "Lô hàng quá cảnh" in shown and "Đã cho phép quá cảnh (IE029)" in shown
    assert "333.760.000 VND" in shown  # grouped as Vietnamese writes numbers
    assert "Released for transit" not in shown and "Office of departure" not in shown
    listed = text(officer.get("/transit", headers={"Accept-Language": "vi"}))
    assert "Các lô hàng quá cảnh" in listed and mrn in listed


def test_an_auth_role_that_reads_nothing_of_transit_is_refused(
    node: Node, client: TestClient
) -> None:
    with node.transaction() as s:
        token = auth.create_user(s, "moc1", auth.Role.ISSUING_AUTHORITY, None)
    authority = signed_in(client, token)
    assert authority.get("/transit").status_code == 403
    assert authority.get("/transit/new").status_code == 403


def test_alerts_passed_on_by_departure_are_on_the_movements_page(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    federate(node, "TH", "LA")
    mrn = record_from_th(node, "LAVTE", "VNHAN")
    alert = {"mrn": mrn, "departure_country": "TH", "alert_id": 3, "kind": "door_open",
             "office": "VNHAN", "at": node.clock.now(), "lat": Decimal("17.9"),
             "lon": Decimal("102.6"), "detail": "door opened off the stops"}  # fmt: skip
    receive(node, "TH", "TRANSIT_ALERT", f"{mrn}-ALERT-3", alert)
    shown = text(signed_in(client, tokens["officer"]).get(f"/transit/{mrn}"))
    assert "E-seal alerts from the office of departure" in shown
    assert "door open VNHAN 17.9000, 102.6000 door opened off the stops" in shown
    holder = text(signed_in(client, tokens["trader"]).get(f"/transit/{mrn}"))
    assert "door opened" not in holder  # an officers' matter
