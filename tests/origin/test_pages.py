"""The issuing authority's pages: a Form D issued in the form (item by item) or from the API's
JSON uploaded, transmitted to the importing country's node, cancelled with a reason, replaced;
verification of origin asked by customs and answered by the issuer, through the pages. Bad
input is shown next to its field and nothing is issued; who may not, gets 403."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from onewindow.app import create_app
from onewindow.exchange.models import OutgoingMessage
from onewindow.exchange.service import sync_partners
from onewindow.kit import auth, i18n, web
from onewindow.kit.config import PartnerConfig
from onewindow.kit.node import Node
from onewindow.origin import get_certificate, issuing
from onewindow.origin.models import VerificationRequest

DATA = resources.files("onewindow") / "data"
APPLICATION: dict[str, Any] = json.loads((DATA / "sample_form_d_application.json").read_text())
EXPORTER = "0105551234567"  # box 1 of the sample application
Relay = Callable[[str, str], list[str]]


def csrf(html: str, action: str) -> str:
    """The CSRF token of the page's form posting to `action` (of the sign-out form when the
    page has none): each form must carry its own, as a browser sends only that one."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"(.*?)</form>', html, re.S)
    found = re.search(r'name="csrf_token" value="([^"]*)"', form.group(1) if form else html)
    assert found is not None and found.group(1), f"no CSRF token in the form for {action}"
    return found.group(1)


class Person:
    """A browser signed in to one node as one user."""

    def __init__(self, node: Node, username: str, role: auth.Role, party: str | None = None):
        with node.transaction() as s:
            token = auth.create_user(s, username, role, party)
        self.client = TestClient(create_app(node), raise_server_exceptions=False)
        self.client.cookies.set(web.COOKIE, token)

    def get(self, path: str) -> Response:
        return self.client.get(path, follow_redirects=False)

    def post(self, path: str, data: dict[str, str], page: str | None = None, **kw: Any) -> Response:
        shown = self.client.get(page or path.rsplit("/", 1)[0])
        if shown.status_code != 200:  # an error page: the token of any other
            shown = self.client.get("/")
        token = csrf(shown.text, path)
        return self.client.post(path, data={"csrf_token": token, **data}, follow_redirects=False,
                                **kw)  # fmt: skip


def fields(application: dict[str, Any]) -> dict[str, str]:
    """An application as the issuing form posts it: box 13's ticked boxes only."""
    out = web.flat({k: v for k, v in application.items() if k != "flags"})
    return out | {f"flags.{k}": "true" for k, v in application.get("flags", {}).items() if v}


def issued_here(node: Node) -> list[str]:
    with node.transaction() as s:
        return [c.reference for c in issuing.certificates(s, "issued")]


def status_of(node: Node, reference: str) -> str:
    with node.transaction() as s:
        cert = get_certificate(s, reference)
        assert cert is not None
        return cert.status


@pytest.fixture
def th(nodes: dict[str, Node]) -> dict[str, Person]:
    node = nodes["TH"]
    return {
        "authority": Person(node, "moc", auth.Role.ISSUING_AUTHORITY),
        "exporter": Person(node, "siam", auth.Role.TRADER, EXPORTER),
        "other": Person(node, "bkk", auth.Role.TRADER, "0109999999999"),
        "officer": Person(node, "th-officer", auth.Role.OFFICER),
    }


@pytest.fixture
def vn(nodes: dict[str, Node]) -> dict[str, Person]:
    node = nodes["VN"]
    return {
        "officer": Person(node, "vn-officer", auth.Role.OFFICER),
        "authority": Person(node, "vn-moit", auth.Role.ISSUING_AUTHORITY),
    }


def issue_in_form(person: Person, application: dict[str, Any] | None = None) -> Response:
    data = fields(application or copy.deepcopy(APPLICATION)) | {"action": "issue"}
    return person.post("/certificates/new", data, page="/certificates/new")


def reference_of(response: Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/")[2].split("?")[0]


def test_the_authority_issues_in_the_form_and_transmits_to_the_importing_node(
    nodes: dict[str, Node], relay: Relay, th: dict[str, Person]
) -> None:
    moc = th["authority"]
    form = moc.get("/certificates/new")
    assert form.status_code == 200 and 'name="exporter.country" type="text" value="TH"' in form.text
    assert 'href="/certificates/new"' in form.text  # in the navigation
    issued = issue_in_form(moc)
    reference = reference_of(issued)
    assert reference == "TH-2026-000001" and issued_here(nodes["TH"]) == [reference]
    page = moc.get(issued.headers["location"])
    assert page.status_code == 200 and "The Form D is issued." in page.text
    assert f"<h1>{reference}</h1>" in page.text and "Smartphones" in page.text
    assert "Ministry of Commerce TH, Bangkok, 2026-11-12" in page.text  # box 12, added here
    assert "60,000.00 USD" in page.text and "Transmit to VN" in page.text

    sent = moc.post(f"/certificates/{reference}/transmission", {})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=transmitted")
    page = moc.get(sent.headers["location"])
    assert "sent to the importing country" in page.text and "Transmit to VN" not in page.text
    assert status_of(nodes["TH"], reference) == "transmitted"
    assert relay("TH", "VN") == ["FORM_D"]
    assert status_of(nodes["VN"], reference) == "received"

    listed = moc.get("/certificates?status=transmitted")
    assert f'href="/certificates/{reference}"' in listed.text and "Transmitted (1)" in listed.text
    assert f'href="/certificates/{reference}"' not in moc.get("/certificates?status=issued").text


def test_the_form_grows_item_by_item_and_keeps_what_was_typed(th: dict[str, Person]) -> None:
    moc = th["authority"]
    data = fields(copy.deepcopy(APPLICATION))
    grown = moc.post("/certificates/new", data | {"action": "add"}, page="/certificates/new")
    assert grown.status_code == 200 and 'name="items.1.hs_code"' in grown.text
    assert 'value="Smartphones"' in grown.text and "Remove item 2" in grown.text
    shrunk = moc.post("/certificates/new", data | {"items.1.hs_code": "8517", "action": "remove"},
                      page="/certificates/new")  # fmt: skip
    assert 'name="items.1.hs_code"' not in shrunk.text and 'value="Smartphones"' in shrunk.text


@pytest.mark.parametrize(
    ("change", "field", "said"),
    [
        (lambda a: a["items"][0].update(hs_code="999999"), "items-0-hs_code",
         "999999 is not an HS 2022 subheading"),
        (lambda a: a.pop("exporter"), "exporter", "this field is required"),
        (lambda a: a["exporter"].update(name=""), "exporter-name", "this field is required"),
        (lambda a: a["items"][0].pop("packages"), "items-0-packages-count", "required"),
        (lambda a: a["items"][0].update(origin_criterion="PC 45%"), "items-0-origin_criterion",
         ""),
    ],
)  # fmt: skip
def test_a_bad_field_is_shown_next_to_it_and_nothing_is_issued(
    nodes: dict[str, Node],
    th: dict[str, Person],
    change: Callable[[dict[str, Any]], Any],
    field: str,
    said: str,
) -> None:
    application = copy.deepcopy(APPLICATION)
    change(application)
    r = issue_in_form(th["authority"], application)
    assert r.status_code == 422, r.text
    assert f'href="#{field}"' in r.text and f'id="{field}-error"' in r.text and said in r.text
    assert 'value="Siam Devices Co.' in r.text or field.startswith("exporter")
    assert issued_here(nodes["TH"]) == []


def test_the_json_the_api_takes_is_uploaded_and_bad_files_are_refused(
    nodes: dict[str, Node], th: dict[str, Person]
) -> None:
    moc = th["authority"]

    def upload(content: bytes) -> Response:
        files = {"file": ("application.json", content, "application/json")}
        return moc.post("/certificates/upload", {}, page="/certificates/new", files=files)

    broken = upload(b'{"exporter": ')
    assert broken.status_code == 400 and "the file is not JSON" in broken.text
    assert 'href="#file"' in broken.text
    assert upload(b"[1, 2]").status_code == 400
    unknown = copy.deepcopy(APPLICATION)
    unknown["items"][0]["hs_code"] = "999999"
    refused = upload(json.dumps(unknown).encode())
    assert refused.status_code == 422 and "the file has 1 errors" in refused.text
    assert 'id="items-0-hs_code-error"' in refused.text and 'value="999999"' in refused.text
    assert issued_here(nodes["TH"]) == []
    done = upload(json.dumps(APPLICATION).encode())
    assert reference_of(done) == "TH-2026-000001" and done.headers["location"].endswith("issued")


def test_the_authority_cancels_with_a_reason_and_the_importing_node_is_told(
    nodes: dict[str, Node], relay: Relay, th: dict[str, Person]
) -> None:
    moc = th["authority"]
    reference = reference_of(issue_in_form(moc))
    moc.post(f"/certificates/{reference}/transmission", {})
    relay("TH", "VN")
    page = f"/certificates/{reference}"
    no_reason = moc.post(f"{page}/cancellation", {"reason": "  "})
    assert no_reason.status_code == 422 and 'href="#reason"' in no_reason.text
    assert 'id="reason-error"' in no_reason.text
    assert status_of(nodes["TH"], reference) == "transmitted"
    cancelled = moc.post(f"{page}/cancellation", {"reason": "issued in error"})
    assert cancelled.status_code == 303
    shown = moc.get(cancelled.headers["location"])
    assert "The Form D is cancelled" in shown.text and "issued in error" in shown.text
    assert "Cancel the Form D" not in shown.text and "Replace with" not in shown.text
    assert relay("TH", "VN") == ["FORM_D_STATUS"]
    assert status_of(nodes["VN"], reference) == "cancelled"
    again = moc.post(f"{page}/cancellation", {"reason": "twice"})
    assert again.status_code == 409 and "<html" in again.text


def test_the_rules_refusals_are_in_vietnamese_for_a_vietnamese_reader(
    nodes: dict[str, Node], th: dict[str, Person]
) -> None:
    moc = th["authority"]
    moc.client.cookies.set(i18n.COOKIE, "vi")
    for change, said in (
        ({"hs_code": "999999"}, "999999 không phải là phân nhóm HS 2022"),
        ({"origin_criterion": "PC 45%"}, "cộng gộp từng phần chỉ áp dụng khi RVC dưới 40 %"),
        ({"description": ""}, "trường này là bắt buộc"),  # the exchange's mapping, in the form
    ):
        application = copy.deepcopy(APPLICATION)
        application["items"][0].update(change)
        refused = issue_in_form(moc, application)
        assert refused.status_code == 422 and said in refused.text, change
    reference = reference_of(issue_in_form(moc))
    page = f"/certificates/{reference}"
    assert moc.post(f"{page}/cancellation", {"reason": "issued in error"}).status_code == 303
    again = moc.post(f"{page}/cancellation", {"reason": "twice"})  # its status word too
    assert again.status_code == 409 and f"C/O {reference} đã ở trạng thái đã hủy" in again.text
    missing = moc.get("/certificates/TH-2026-999999")
    assert missing.status_code == 404 and "không tìm thấy C/O TH-2026-999999" in missing.text


def test_the_authority_replaces_a_form_d_with_a_corrected_one(
    nodes: dict[str, Node], th: dict[str, Person]
) -> None:
    moc = th["authority"]
    old = reference_of(issue_in_form(moc))
    form = moc.get(f"/certificates/{old}/replacement")
    assert form.status_code == 200 and 'value="Siam Devices Co."' in form.text
    corrected = fields(copy.deepcopy(APPLICATION)) | {"items.0.quantity": "280"}
    new = reference_of(moc.post(f"/certificates/{old}/replacement", corrected | {"action": "issue"},
                                page=f"/certificates/{old}/replacement"))  # fmt: skip
    assert new == "TH-2026-000002" and status_of(nodes["TH"], old) == "replaced"
    assert f'href="/certificates/{old}"' in moc.get(f"/certificates/{new}").text
    assert f'href="/certificates/{new}"' in moc.get(f"/certificates/{old}").text
    assert moc.get(f"/certificates/{old}/replacement").status_code == 409


def test_traders_and_officers_may_not_issue(nodes: dict[str, Node], th: dict[str, Person]) -> None:
    for who in ("exporter", "officer"):
        person = th[who]
        assert person.get("/certificates/new").status_code == 403
        r = person.post("/certificates/new", fields(copy.deepcopy(APPLICATION)))
        assert r.status_code == 403 and "<html" in r.text
        assert 'href="/certificates/new"' not in person.get("/").text
    assert issued_here(nodes["TH"]) == []


def test_a_trader_sees_only_its_own_certificates_and_the_exporter_transmits(
    nodes: dict[str, Node], th: dict[str, Person]
) -> None:
    reference = reference_of(issue_in_form(th["authority"]))
    exporter, other = th["exporter"], th["other"]
    assert f'href="/certificates/{reference}"' in exporter.get("/certificates").text
    assert f'href="/certificates/{reference}"' not in other.get("/certificates").text
    assert other.get(f"/certificates/{reference}").status_code == 404
    page = exporter.get(f"/certificates/{reference}")
    assert page.status_code == 200 and "Cancel the Form D" not in page.text
    assert "<h2>Messages</h2>" not in page.text  # officials only
    assert other.post(f"/certificates/{reference}/transmission", {}).status_code == 403
    assert exporter.post(f"/certificates/{reference}/transmission", {}).status_code == 303
    assert status_of(nodes["TH"], reference) == "transmitted"
    assert (
        exporter.post(f"/certificates/{reference}/cancellation", {"reason": "x"}).status_code == 403
    )


def test_verification_is_asked_by_customs_and_answered_by_the_issuer(
    nodes: dict[str, Node], relay: Relay, th: dict[str, Person], vn: dict[str, Person]
) -> None:
    reference = reference_of(issue_in_form(th["authority"]))
    th["authority"].post(f"/certificates/{reference}/transmission", {})
    relay("TH", "VN")
    officer, page = vn["officer"], f"/certificates/{reference}"
    assert "Ask the issuing country to verify the origin" in officer.get(page).text
    # The issuing authority of the importing side does not ask: customs do.
    assert vn["authority"].post(f"{page}/verification", {"reason": "why"}).status_code == 403
    empty = officer.post(f"{page}/verification", {"reason": ""})
    assert empty.status_code == 422 and 'href="#reason"' in empty.text
    asked = officer.post(f"{page}/verification", {"reason": "RVC looks high"})
    assert asked.status_code == 303 and asked.headers["location"].endswith("?done=asked")
    with nodes["VN"].transaction() as s:
        request_id = s.scalars(select(VerificationRequest.request_id)).one()
    sent = officer.get("/verifications")
    assert request_id in sent.text and "RVC looks high" in sent.text
    assert relay("VN", "TH") == ["FORM_D_VERIFICATION_REQUEST"]

    moc = th["authority"]
    assert request_id in moc.get("/verifications").text
    shown = moc.get(f"/verifications/{request_id}")
    assert shown.status_code == 200 and "Send the answer" in shown.text
    assert "Send the answer" not in th["officer"].get(f"/verifications/{request_id}").text
    answer = f"/verifications/{request_id}/answer"
    assert th["officer"].post(answer, {"result": "confirmed", "note": "x"}).status_code == 403
    bad = moc.post(answer, {"result": "probably", "note": ""})
    assert bad.status_code == 422 and 'href="#result"' in bad.text and 'href="#note"' in bad.text
    with nodes["TH"].transaction() as s:
        assert s.scalars(select(VerificationRequest.status)).one() == "open"
    done = moc.post(answer, {"result": "confirmed", "note": "cost sheets checked"})
    assert done.status_code == 303
    assert "Your answer is sent" in moc.get(done.headers["location"]).text
    assert relay("TH", "VN") == ["FORM_D_VERIFICATION_RESPONSE"]
    seen = officer.get("/verifications")
    assert "cost sheets checked" in seen.text and "confirmed" in seen.text
    # Nobody answers twice, and the requesting side cannot answer its own request.
    assert moc.post(answer, {"result": "confirmed", "note": "again"}).status_code == 409


# ---- on each database: a Form D for a VN export, issued and queued for TH ----

VN_EXPORT = {
    "exporter": {"id": "0101234567", "name": "Saigon Logistics JSC",
                 "address": "1 Le Loi, District 1, Ho Chi Minh City", "country": "VN"},
    "consignee": {"id": "0105551234567", "name": "Siam Devices Co.",
                  "address": "99 Rama IV Road, Bangkok 10500", "country": "TH"},
    "transport": {"departure_date": "2026-11-19", "mode": "1", "vessel": "MV Mekong Star",
                  "loading_port": "VNHPH", "discharge_port": "THLCH"},
    "items": [{"item_number": 1, "packages": {"count": 10, "kind": "CT"},
               "description": "Frozen shrimps", "hs_code": "030617", "origin_criterion": "WO",
               "quantity": "500", "unit": "KGM",
               "invoice": {"number": "INV-9", "date": "2026-11-17"}}],
    "declaration": {"producing_country": "VN", "importing_country": "TH", "place": "Hanoi",
                    "date": "2026-11-18"},
    "flags": {},
}  # fmt: skip


def test_issue_list_and_transmit_on_each_database(node: Node, tokens: dict[str, str]) -> None:
    with node.transaction() as s:
        sync_partners(
            s, {"TH": PartnerConfig(endpoint="http://127.0.0.1/TH")}, now=node.clock.now()
        )
    authority = Person(node, "moit", auth.Role.ISSUING_AUTHORITY)
    reference = reference_of(issue_in_form(authority, copy.deepcopy(VN_EXPORT)))
    assert reference == "VN-2026-000001"
    bad = copy.deepcopy(VN_EXPORT)
    bad["items"][0]["hs_code"] = "000000"
    assert issue_in_form(authority, bad).status_code == 422
    assert issued_here(node) == [reference]
    # The exporter (a trader of this node) finds it in its list and transmits it.
    trader = TestClient(create_app(node), raise_server_exceptions=False)
    trader.cookies.set(web.COOKIE, tokens["trader"])
    listed = trader.get("/certificates")
    assert listed.status_code == 200 and f'href="/certificates/{reference}"' in listed.text
    other = TestClient(create_app(node), raise_server_exceptions=False)
    other.cookies.set(web.COOKIE, tokens["other"])
    assert f'href="/certificates/{reference}"' not in other.get("/certificates").text
    sent = authority.post(f"/certificates/{reference}/transmission", {})
    assert sent.status_code == 303
    with node.transaction() as s:
        queued = s.scalars(select(OutgoingMessage)).all()
        assert [(m.receiver, m.document_type, m.document_id) for m in queued] == [
            ("TH", "FORM_D", reference)
        ]
    officer = TestClient(create_app(node), raise_server_exceptions=False)
    officer.cookies.set(web.COOKIE, tokens["officer"])
    page = officer.get(f"/certificates/{reference}")
    assert page.status_code == 200 and "transmitted" in page.text and "queued" in page.text
    assert "Transmit to TH" not in page.text and "Cancel the Form D" not in page.text
