"""The declarations' pages: a trader lodges in the form (item by item, duties checked before
submitting) or uploads JSON, pays, amends or asks, downloads the release note; what a role may
not see is not in its HTML; bad input is shown next to its field and nothing is saved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from onewindow.app import create_app
from onewindow.declarations import Declaration, service
from onewindow.declarations.context import context
from onewindow.declarations.schemas import Opening
from onewindow.kit import auth, i18n, web
from onewindow.kit.node import Node
from onewindow.risk.service import create_profile

Doc = Callable[..., dict[str, Any]]


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.set(web.COOKIE, token)
    return client


def csrf(html: str) -> str:
    """The page's form token: the same, and not empty, in every form of the page."""
    found = set(re.findall(r'name="csrf_token" value="([^"]*)"', html))
    assert len(found) == 1 and "" not in found, found
    return found.pop()


def post(client: TestClient, path: str, data: dict[str, str], page: str | None = None) -> Response:
    token = csrf(client.get(page or path).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def stored(node: Node) -> int:
    with node.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(Declaration)) or 0)


def check(client: TestClient, document: dict[str, Any], **extra: str) -> Response:
    fields = web.flat(document)
    return post(client, "/declarations/new", {**fields, "action": "check", **extra})


def submit_checked(
    client: TestClient, check_page: str, path: str = "/declarations/new"
) -> Response:
    document = re.search(r'name="document" value="([^"]+)"', check_page)
    assert document is not None
    sent = document.group(1).replace("&#34;", '"').replace("&quot;", '"')
    data = {"csrf_token": csrf(check_page), "document": sent, "action": "submit"}
    return client.post(path, data=data, follow_redirects=False)


def test_a_trader_lodges_in_the_form_checks_the_duties_and_pays(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, certificate: str
) -> None:
    signed_in(client, tokens["trader"])
    form = client.get("/declarations/new")
    assert form.status_code == 200 and 'value="0101234567"' in form.text  # the declarant
    checked = check(client, doc())
    assert checked.status_code == 200, checked.text
    # The check page shows the duties before anything is stored.
    assert "IMPORT DUTY 0 %: 0 VND" in checked.text and "TH-2026-000123: granted" in checked.text
    assert "VAT 10 %: 52,700,000 VND" in checked.text and stored(node) == 0
    lodged = submit_checked(client, checked.text)
    assert lodged.status_code == 303 and stored(node) == 1
    page = client.get(lodged.headers["location"])
    assert "The declaration is lodged." in page.text
    number = lodged.headers["location"].split("/")[2].split("?")[0]
    assert f"<h1>{number}</h1>" in page.text and "awaiting payment" in page.text
    assert "Why this lane" not in page.text  # a trader sees the lane, never why
    wrong = post(client, f"/declarations/{number}/payment",
                 {"method": "paid", "reference": "BANK-1", "amount": "1"},
                 page=f"/declarations/{number}")  # fmt: skip
    assert wrong.status_code == 422 and "the amount due is 52700000 VND" in wrong.text
    assert 'href="#amount"' in wrong.text and 'value="BANK-1"' in wrong.text
    paid = post(client, f"/declarations/{number}/payment",
                {"method": "paid", "reference": "BANK-1", "amount": "52700000"},
                page=f"/declarations/{number}")  # fmt: skip
    assert paid.status_code == 303
    released = client.get(paid.headers["location"])
    assert "The payment is recorded." in released.text and "released" in released.text
    note = client.get(f"/declarations/{number}/release-note")
    assert note.status_code == 200 and "attachment" in note.headers["content-disposition"]
    assert "released the goods" in note.text and number in note.text


def test_the_form_grows_item_by_item_and_keeps_what_was_typed(
    client: TestClient, tokens: dict[str, str], doc: Doc
) -> None:
    signed_in(client, tokens["trader"])
    fields = web.flat(doc())
    grown = post(client, "/declarations/new", {**fields, "action": "add"})
    assert grown.status_code == 200
    assert 'name="items.1.hs_code"' in grown.text and 'name="items.2.hs_code"' not in grown.text
    assert 'value="Smartphones"' in grown.text and "Remove item 2" in grown.text
    shrunk = post(
        client, "/declarations/new", {**fields, "items.1.hs_code": "1", "action": "remove"}
    )
    assert 'name="items.1.hs_code"' not in shrunk.text


def test_a_bad_field_is_shown_next_to_it_and_nothing_is_stored(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc
) -> None:
    signed_in(client, tokens["trader"])
    bad = doc()
    bad["items"][0]["hs_code"] = "99999999"
    r = check(client, bad)
    assert r.status_code == 422 and "no tariff line 99999999" in r.text
    assert 'href="#items-0-hs_code"' in r.text and 'id="items-0-hs_code-error"' in r.text
    assert 'value="99999999"' in r.text
    bad["invoice"]["currency"] = "usd!"
    r = check(client, bad)
    assert r.status_code == 422 and 'href="#invoice-currency"' in r.text
    assert stored(node) == 0
    bad["invoice"]["currency"] = "USD"
    client.cookies.set(i18n.COOKIE, "vi")  # the service's message, in Vietnamese on the page
    r = check(client, bad)
    assert r.status_code == 422 and "không có dòng thuế 99999999 có hiệu lực vào ngày" in r.text
    api = client.post(  # and in English for the API, whatever the cookie says
        "/api/v1/declarations", json=bad, headers={"Authorization": f"Bearer {tokens['trader']}"}
    )
    assert api.status_code == 422 and "no tariff line 99999999 in force on" in api.text


def test_a_trader_cannot_lodge_for_another_party(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc
) -> None:
    signed_in(client, tokens["other"])
    r = check(client, doc())
    assert r.status_code == 403 and "may lodge only as declarant" in r.text
    assert "<html" in r.text  # a page, not problem+json
    client.cookies.set(i18n.COOKIE, "vi")
    r = check(client, doc())
    assert r.status_code == 403 and "chỉ được đăng ký tờ khai với tư cách người khai" in r.text
    assert stored(node) == 0


def test_upload_lodges_the_apis_json_or_names_what_is_wrong(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, certificate: str
) -> None:
    signed_in(client, tokens["trader"])
    token = csrf(client.get("/declarations/new").text)

    def upload(content: bytes) -> Response:
        files = {"file": ("declaration.json", content, "application/json")}
        return client.post("/declarations/upload", data={"csrf_token": token}, files=files,
                           follow_redirects=False)  # fmt: skip

    assert upload(b"{not json").status_code == 400
    assert "the file is not JSON" in upload(b"{not json").text
    assert upload(b"[]").status_code == 400
    bad = doc(office="XXXXX")
    invalid = upload(json.dumps(bad).encode())
    assert invalid.status_code == 422 and 'href="#office"' in invalid.text
    assert stored(node) == 0
    good = upload(json.dumps(doc()).encode())
    assert good.status_code == 303 and stored(node) == 1


def test_a_form_without_its_token_is_refused(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc
) -> None:
    signed_in(client, tokens["trader"])
    fields = web.flat(doc()) | {"action": "check", "csrf_token": "forged"}
    r = client.post("/declarations/new", data=fields)
    assert r.status_code == 403 and stored(node) == 0


def test_the_dashboard_counts_by_status_and_shows_only_the_traders_own(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, lodge: Any
) -> None:
    mine = lodge(doc())
    other = doc()
    other["declarant"] = {"id": "0309999999", "name": "Hanoi Trading"}
    other["importer"] = other["importer"] | {"id": "0309999999"}
    theirs = lodge(other)
    signed_in(client, tokens["trader"])
    page = client.get("/declarations")
    assert page.status_code == 200
    assert mine.number in page.text and theirs.number not in page.text
    assert "All (1)" in page.text and "Awaiting payment (1)" in page.text
    assert client.get("/declarations?status=bogus").status_code == 422
    empty = client.get("/declarations?status=released")
    assert mine.number not in empty.text
    signed_in(client, tokens["officer"])
    officer = client.get("/declarations")
    assert mine.number in officer.text and theirs.number in officer.text


def test_an_officer_sees_why_the_lane_a_trader_does_not(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, lodge: Any
) -> None:
    with node.transaction() as s:
        create_profile(s, name="phones", lane="yellow", reason="phones from TH", hs_prefix="8517")
    number = lodge(doc()).number
    trader = signed_in(client, tokens["trader"]).get(f"/declarations/{number}").text
    assert "Why this lane" not in trader and "phones" not in trader.replace("Smartphones", "")
    officer = signed_in(client, tokens["officer"]).get(f"/declarations/{number}").text
    assert "Why this lane" in officer and "phones from TH" in officer


def test_amend_while_untouched_then_only_ask_once_an_officer_acted(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, lodge: Any
) -> None:
    with node.transaction() as s:
        create_profile(s, name="phones", lane="yellow", reason="phones", hs_prefix="8517")
    number = lodge(doc()).number
    signed_in(client, tokens["trader"])
    path = f"/declarations/{number}/amendment"
    changed = doc()
    changed["items"][0]["description"] = "Smartphones, 128 GB"
    checked = post(client, path, {**web.flat(changed), "action": "check"})
    assert checked.status_code == 200 and "Amend the declaration" in checked.text
    amended = submit_checked(client, checked.text, path)
    assert amended.status_code == 303
    assert "128 GB" in client.get(f"/declarations/{number}").text
    officer = auth.Principal("officer1", auth.Role.OFFICER)
    with node.transaction() as s:
        service.open_control(s, officer, number, Opening(), context(node))
    page = client.get(f"/declarations/{number}").text
    assert "Ask for an amendment" in page and ">Amend<" not in page
    form = client.get(path).text
    assert 'name="reason"' in form
    no_reason = post(client, path, {**web.flat(changed), "action": "check"})
    assert no_reason.status_code == 422 and 'href="#reason"' in no_reason.text
    asked = post(client, path, {**web.flat(changed), "action": "check", "reason": "typo"})
    assert asked.status_code == 200 and "Send the request" in asked.text
    data = {"csrf_token": csrf(asked.text), "action": "submit", "reason": "typo",
            "document": json.dumps(changed)}  # fmt: skip
    sent = client.post(path, data=data, follow_redirects=False)
    assert sent.status_code == 303
    with node.transaction() as s:
        assert [r.status for r in service.requests(s, officer, number)] == ["pending"]


def test_the_release_note_waits_for_release_and_pages_refuse_strangers(
    client: TestClient, tokens: dict[str, str], doc: Doc, lodge: Any
) -> None:
    number = lodge(doc()).number
    signed_in(client, tokens["trader"])
    assert client.get(f"/declarations/{number}/release-note").status_code == 422
    assert client.get("/declarations/NOPE-1").status_code == 404
    signed_in(client, tokens["other"])
    assert client.get(f"/declarations/{number}").status_code in (403, 404)


def test_the_tariff_look_up_answers_as_you_type(client: TestClient, tokens: dict[str, str]) -> None:
    signed_in(client, tokens["trader"])
    fragment = client.get("/tariff/lookup?q=8517", headers={"X-Requested-With": "fetch"})
    assert fragment.status_code == 200 and '<option value="85171300">' in fragment.text
    assert "<html" not in fragment.text
    words = client.get("/tariff/lookup?q=lapto")
    assert "84713020" in words.text and "<html" in words.text
    assert "85171300" not in client.get("/tariff/lookup?q=100%25").text
