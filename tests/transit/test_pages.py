"""Transit's pages at the office of departure, on SQLite and PostgreSQL: a trader declares a
movement in the form (or uploads the API's JSON) and an officer releases it or refuses it;
the guarantee's exposure per country is for officials; a trader sees only what it holds;
bad input comes back next to its field with nothing stored; refusals are 4xx with nothing
changed."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.kit import auth, web
from onewindow.kit.node import Node
from onewindow.transit import service

from .portal import (
    FORM,
    OFFICER,
    declare,
    document,
    field_error,
    guarantee,
    post,
    prepare,
    queued,
    signed_in,
    state,
    text,
)


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def grn(node: Node) -> str:
    prepare(node)
    return guarantee(node)


@pytest.fixture
def analyst(node: Node) -> str:
    with node.transaction() as s:
        return auth.create_user(s, "analyst1", auth.Role.ANALYST, None)


def mrn_of(location: str) -> str:
    found = re.fullmatch(r"/transit/([A-Z0-9]{18})\?done=declared", location)
    assert found is not None, location
    return found.group(1)


def test_a_trader_declares_in_the_form_and_an_officer_releases_it(
    client: TestClient, node: Node, tokens: dict[str, str], grn: str
) -> None:
    trader = signed_in(client, tokens["trader"])
    form = trader.get("/transit/new")
    assert form.status_code == 200
    assert 'name="holder_id" type="text" value="0101234567"' in form.text  # the trader's party
    declared = post(trader, "/transit/new", FORM | {"grn": grn})
    assert declared.status_code == 303, text(declared)[:400]
    mrn = mrn_of(declared.headers["location"])
    page = trader.get(declared.headers["location"])
    shown = text(page)
    assert "The movement is accepted" in shown and f"<h1>{mrn}</h1>" in page.text
    assert "VNHAN" in shown and "LAVTE" in shown and "VN → LA → TH" in shown
    assert "Amount reserved 333,760,000 VND" in shown and "VNSEAL-0001, VNSEAL-0002" in shown
    # The holder sees what its guarantee holds, not the officials' figures per country, and
    # no officer's form: only its own, to cancel before release.
    assert "potentially due" not in shown and "221,340,000" not in shown
    forms = re.findall(r'action="(/transit/[^"]+)"', page.text)
    assert [f for f in forms if f != "/transit/new"] == [f"/transit/{mrn}/cancellation"]

    officer = signed_in(client, tokens["officer"])
    page = officer.get(f"/transit/{mrn}")
    shown = text(page)
    assert "Duties and taxes potentially due, by country of the itinerary" in shown
    assert "VN 221,340,000 VND" in shown and "LA 156,240,000 VND" in shown
    assert "TH 333,760,000 VND the highest: held on the guarantee" in shown
    assert f'action="/transit/{mrn}/release"' in page.text
    released = post(officer, f"/transit/{mrn}/release", {"release.decision": "release"})
    assert released.status_code == 303
    assert released.headers["location"] == f"/transit/{mrn}?done=released"
    shown = text(officer.get(released.headers["location"]))
    assert "The movement is released for transit" in shown and "Time limit 2026-11-28" in shown
    assert "Released for transit (IE029) VNHAN" in shown
    assert f'action="/transit/{mrn}/release"' not in officer.get(f"/transit/{mrn}").text
    assert queued(node, "TRANSIT_RECORD") == ["LA", "TH"]  # the record to the others


def test_no_release_needs_a_reason_and_gives_the_guarantee_back(
    client: TestClient, node: Node, tokens: dict[str, str], grn: str
) -> None:
    mrn = declare(node, grn)
    officer = signed_in(client, tokens["officer"])
    before = state(node, mrn)
    refused = post(officer, f"/transit/{mrn}/release", {"release.decision": "no_release"})
    assert refused.status_code == 422
    assert field_error(refused, "release-reason") == (
        "Error: Value error, say why the movement is not released"
    )
    assert 'href="#release-reason"' in refused.text
    assert state(node, mrn) == before
    bad = post(officer, f"/transit/{mrn}/release", {"release.decision": "maybe"})
    assert bad.status_code == 422 and field_error(bad, "release-decision").startswith("Error:")
    assert state(node, mrn) == before
    reason = {"release.decision": "no_release", "release.reason": "seals do not match"}
    done = post(officer, f"/transit/{mrn}/release", reason)
    assert done.headers["location"] == f"/transit/{mrn}?done=not_released"
    shown = text(officer.get(f"/transit/{mrn}"))
    assert "NOT RELEASED" in shown.upper() and "Reason: seals do not match" in shown
    assert state(node, mrn)[2] == 0  # no reservation held
    with node.transaction() as s:
        assert service.balance(s, service.guarantee(s, OFFICER, grn)) == 5_000_000_000


def test_refusals_change_nothing(
    client: TestClient, node: Node, tokens: dict[str, str], grn: str
) -> None:
    mrn = declare(node, grn)
    before = state(node, mrn)
    trader = signed_in(client, tokens["trader"])
    denied = post(trader, f"/transit/{mrn}/release", {"release.decision": "release"})
    assert denied.status_code == 403 and state(node, mrn) == before
    officer = signed_in(client, tokens["officer"])
    forged = officer.post(f"/transit/{mrn}/release", data={"csrf_token": "x" * 64,
                          "release.decision": "release"}, follow_redirects=False)  # fmt: skip
    assert forged.status_code == 403 and "CSRF" in forged.text and state(node, mrn) == before
    # Not at its status: an accepted movement is not written off nor recovered.
    early = post(officer, f"/transit/{mrn}/discharge", {"discharge.note": "settled"})
    assert early.status_code == 409 and "only a movement whose control results" in text(early)
    assert post(officer, f"/transit/{mrn}/recovery", {"recovery.note": "x"}).status_code == 409
    crossing = post(officer, f"/transit/{mrn}/crossing", {"crossing.office": "VNLAO"})
    assert crossing.status_code == 409
    assert state(node, mrn) == before
    unknown = post(officer, "/transit/26VNHAN00000000990/release", {"release.decision": "release"})
    assert unknown.status_code == 404
    assert officer.get("/transit/not-an-mrn").status_code == 422


def test_bad_fields_come_back_next_to_their_field_with_nothing_stored(
    client: TestClient, node: Node, tokens: dict[str, str], grn: str
) -> None:
    trader = signed_in(client, tokens["trader"])
    before = state(node)
    # A blank seal row between two filled: the rows are numbered again as shown.
    bad = FORM | {"grn": grn, "seals.0": "", "seals.1": "A", "seals.2": "VNSEAL-0003",
                  "destination_office": "bangkok", "items.0.customs_value": "-5"}  # fmt: skip
    r = post(trader, "/transit/new", bad)
    assert r.status_code == 422 and state(node) == before
    assert field_error(r, "seals-0").startswith("Error: String should have at least 3")
    assert 'id="seals-0" name="seals.0" type="text" value="A"' in r.text
    assert 'id="seals-1" name="seals.1" type="text" value="VNSEAL-0003"' in r.text
    assert field_error(r, "destination_office") == (
        "Error: must be a five-character UN/LOCODE, such as VNHPH"
    )
    assert field_error(r, "items-0-customs_value") == "Error: Input should be greater than 0"
    assert 'href="#items-0-customs_value"' in r.text  # the summary links to the field
    # An itinerary without a road: the service's error, next to its field.
    nowhere = post(trader, "/transit/new", FORM | {"grn": grn, "transit_offices.0": ""})
    assert nowhere.status_code == 422 and state(node) == before
    assert "there is no road from VN to TH" in field_error(nowhere, "transit_offices-0")
    assert 'href="#transit_offices-0"' in nowhere.text


def test_a_short_guarantee_is_refused_at_its_field(
    client: TestClient, node: Node, tokens: dict[str, str]
) -> None:
    prepare(node)
    small = guarantee(node, amount="100000000")
    trader = signed_in(client, tokens["trader"])
    before = state(node)
    r = post(trader, "/transit/new", FORM | {"grn": small})
    assert r.status_code == 409 and state(node) == before
    assert field_error(r, "grn") == (
        f"Error: guarantee {small} has 100000000 VND left; this movement needs 333760000"
    )
    assert 'value="Smartphones"' in r.text  # what was typed is kept
    unknown = post(trader, "/transit/new", FORM | {"grn": "26VNG0000000000990"})
    assert unknown.status_code == 404 and "not found" in field_error(unknown, "grn")
    assert state(node) == before


def test_the_form_grows_by_seal_office_and_item_keeping_what_was_typed(
    client: TestClient, tokens: dict[str, str]
) -> None:
    trader = signed_in(client, tokens["trader"])
    r = post(trader, "/transit/new", FORM | {"action": "seals"})
    assert r.status_code == 200 and 'name="seals.2"' in r.text and 'name="seals.3"' not in r.text
    assert 'value="VNSEAL-0002"' in r.text
    r = post(trader, "/transit/new", FORM | {"action": "transit_offices"})
    assert 'name="transit_offices.1"' in r.text and 'value="LAVTE"' in r.text
    r = post(trader, "/transit/new", FORM | {"action": "items"})
    assert 'name="items.1.hs_code"' in r.text and "Remove item 2" in r.text
    r = post(trader, "/transit/new", FORM | {"action": "remove", "items.1.hs_code": "1"})
    assert 'name="items.1.hs_code"' not in r.text and 'value="Smartphones"' in r.text


def test_the_api_json_uploaded_is_declared_and_a_monitored_movement_links_to_its_trip(
    client: TestClient, node: Node, tokens: dict[str, str], grn: str
) -> None:
    monitoring = {
        "route": {"type": "LineString", "coordinates": [[105.85, 21.03], [102.6, 17.97],
                                                        [100.5, 13.75]]},
        "corridor_m": 5000, "max_stop_minutes": 120, "max_silence_minutes": 60,
        "destination": {"office": "THBKK", "lat": 13.75, "lon": 100.5, "radius_m": 3000},
    }  # fmt: skip
    officer = signed_in(client, tokens["officer"])
    token = web.csrf(client.cookies[web.COOKIE])

    def upload(content: bytes) -> object:
        return officer.post("/transit/upload", data={"csrf_token": token},
                            files={"file": ("movement.json", content, "application/json")},
                            follow_redirects=False)  # fmt: skip

    before = state(node)
    r = upload(b"{not json")
    assert r.status_code == 400 and field_error(r, "file").startswith("Error: the file is not JSON")
    bad = document(grn, seals=["VNSEAL-0001", "VNSEAL-0001"])
    r = upload(json.dumps(bad).encode())
    assert r.status_code == 422 and "a seal is listed twice" in text(r)
    assert state(node) == before
    r = upload(json.dumps(document(grn, monitoring=monitoring)).encode())
    assert r.status_code == 303
    mrn = mrn_of(r.headers["location"])
    page = officer.get(f"/transit/{mrn}")
    assert f'href="/seals/trips/{mrn}"' in page.text
    assert "Its seals are watched on an approved route" in text(page)
    plain = declare(node, grn, seals=["VNSEAL-0007"])
    assert "/seals/trips/" not in officer.get(f"/transit/{plain}").text


def test_a_trader_sees_only_the_movements_it_holds(
    client: TestClient, node: Node, tokens: dict[str, str], grn: str, analyst: str
) -> None:
    mine = declare(node, grn)
    theirs = declare(
        node, guarantee(node, holder="0309999999"), holder_id="0309999999",
        holder_name="Hanoi Freight", seals=["VNSEAL-0009"],
    )  # fmt: skip
    trader = signed_in(client, tokens["trader"])
    listed = trader.get("/transit")
    assert listed.status_code == 200 and mine in listed.text and theirs not in listed.text
    assert "Hanoi Freight" not in listed.text
    other = trader.get(f"/transit/{theirs}")
    assert other.status_code == 404 and "333,760,000" not in other.text
    assert "Hanoi Freight" not in other.text
    officer = signed_in(client, tokens["officer"])
    listed = text(officer.get("/transit"))
    assert listed.index(theirs) < listed.index(mine)  # newest first
    reader = signed_in(client, analyst)  # reads every movement, no official's figures
    page = reader.get(f"/transit/{theirs}")
    assert page.status_code == 200 and "potentially due" not in page.text
    assert 'method="post" action="/transit/' not in page.text


def test_the_list_filters_by_status_and_role(
    client: TestClient, node: Node, tokens: dict[str, str], grn: str
) -> None:
    accepted = declare(node, grn)
    released = declare(node, grn, seals=["VNSEAL-0005"])
    officer = signed_in(client, tokens["officer"])
    post(officer, f"/transit/{released}/release", {"release.decision": "release"})
    only = officer.get("/transit?status=released&role=departure")
    assert released in only.text and accepted not in only.text
    assert '<option value="released" selected>' in only.text
    assert officer.get("/transit?status=&role=").text.count("/transit/26VN") == 2
    assert accepted not in officer.get("/transit?role=destination").text
    wrong = officer.get("/transit?status=lost")
    assert wrong.status_code == 422 and "no status 'lost'" in text(wrong)
    assert officer.get("/transit?role=captain").status_code == 422
