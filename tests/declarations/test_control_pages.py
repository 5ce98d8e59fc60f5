"""The customs officer's pages: the work queue (yellow and red, oldest first, by office, the
clearance time running, who has each in hand); on the declaration page, taking it in hand,
the document check, inspection findings with corrected values (the duties before and after
shown), release and amendment decisions, all through the API's service functions; bad input
named next to its field with nothing changed; a trader refused; the documents' ledger proofs
checked for officials only."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select, update

from onewindow import ledger
from onewindow.app import create_app
from onewindow.declarations import Declaration, service
from onewindow.declarations.context import context
from onewindow.declarations.control_views import waited
from onewindow.declarations.schemas import (
    AmendmentRequestCreate,
    DeclarationCreate,
    DeclarationRead,
    Opening,
)
from onewindow.kit import audit, auth, web
from onewindow.kit.auth import SYSTEM
from onewindow.kit.clock import FixedClock
from onewindow.kit.node import Node
from onewindow.ledger import LedgerEntry
from onewindow.logged import log_document
from onewindow.risk.service import create_profile

Doc = Callable[..., dict[str, Any]]
Lodge = Callable[..., DeclarationRead]
TRADER = auth.Principal("saigon", auth.Role.TRADER, "0101234567")
OFFICER = auth.Principal("officer1", auth.Role.OFFICER)
PROOF = re.compile(
    r"In the ledger at index (\d+), proof checked against the signed head of size (\d+)"
)


@pytest.fixture
def client(node: Node, tmp_path: Path) -> TestClient:
    # The node's key signs the ledger's heads: one of the test's own, not the checkout's.
    node.settings = node.settings.model_copy(update={"key_file": tmp_path / "node-key.pem"})
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def analyst(node: Node) -> str:
    with node.transaction() as s:
        return auth.create_user(s, "analyst1", auth.Role.ANALYST, None)


def signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.set(web.COOKIE, token)
    return client


def csrf(page: str) -> str:
    """The session's form token, which every form of the page must carry (a macro imported
    without the page's context would leave it empty, and the browser's post be refused)."""
    found = set(re.findall(r'name="csrf_token" value="([^"]*)"', page))
    assert len(found) == 1 and "" not in found, found
    return found.pop()


def post(client: TestClient, number: str, action: str, data: dict[str, str]) -> Response:
    token = csrf(client.get(f"/declarations/{number}").text)
    return client.post(
        f"/declarations/{number}/{action}",
        data={"csrf_token": token, **data},
        follow_redirects=False,
    )


def profile(node: Node, name: str, lane: str, **criteria: Any) -> None:
    with node.transaction() as s:
        create_profile(s, name=name, lane=lane, reason=f"{name} reason", **criteria)


def state(node: Node, number: str) -> tuple[str, int, int, int, str]:
    """What an action would change: status, version, controls, audit events, amount due."""
    with node.transaction() as s:
        d = service.get(s, SYSTEM, number)
        events = s.scalar(
            select(func.count())
            .select_from(audit.AuditEvent)
            .where(audit.AuditEvent.entity_id == number)
        )
        return d.status, d.version, len(d.controls), int(events or 0), str(d.total_due)


def text(response: Response) -> str:
    """The page's text, entities decoded and white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def test_waited_reads_as_officers_say_it() -> None:
    assert waited(59) == "0 min"
    assert waited(3 * 3600 + 12 * 60 + 30) == "3 h 12 min"
    assert waited(2 * 86400 + 5 * 60) == "2 d 0 h 5 min"


# ---- the queue ----


def test_the_queue_lists_yellow_and_red_oldest_first_by_office(
    client: TestClient,
    node: Node,
    clock: FixedClock,
    tokens: dict[str, str],
    analyst: str,
    doc: Doc,
    lodge: Lodge,
) -> None:
    profile(node, "haiphong", "yellow", office="VNHPH")
    profile(node, "saigon", "red", office="VNSGN")
    yellow = lodge(doc())  # the oldest
    clock.advance(hours=1)
    red = lodge(doc(office="VNSGN"))
    clock.advance(hours=1)
    green = lodge(doc(office="VNDAD"))  # no profile: green, paid by the trader, never queued
    clock.advance(hours=1, minutes=12)
    assert (yellow.channel, red.channel, green.channel) == ("yellow", "red", "green")
    with node.transaction() as s:
        service.open_control(s, OFFICER, yellow.number, Opening(note="mine"), context(node))

    signed_in(client, tokens["officer"])
    page = client.get("/queue")
    assert page.status_code == 200
    shown = text(page)
    assert shown.index(yellow.number) < shown.index(red.number)
    assert green.number not in shown
    assert f"{yellow.number} yellow document check VNHPH" in shown
    assert "3 h 12 min officer1, since 2026-11-20 11:12 UTC" in shown
    assert f"{red.number} red inspection VNSGN" in shown and "2 h 12 min no one" in shown
    offices = re.findall(r'<option value="([A-Z]*)"', page.text)
    assert offices == ["", "VNDAD", "VNHPH", "VNSGN"]  # all, and each that lodges
    assert 'href="/queue"' in page.text  # the navigation
    by_office = client.get("/queue?office=VNSGN")
    assert red.number in by_office.text and yellow.number not in by_office.text
    assert '<option value="VNSGN" selected>' in by_office.text
    assert "Nothing is waiting at VNDAD" in text(client.get("/queue?office=VNDAD"))
    assert client.get("/queue?page=0").status_code == 422

    assert signed_in(client, tokens["supervisor"]).get("/queue").status_code == 200
    analyst_page = signed_in(client, analyst).get("/queue")
    assert analyst_page.status_code == 200 and red.number in analyst_page.text
    trader = signed_in(client, tokens["trader"])
    refused = trader.get("/queue")
    assert refused.status_code == 403 and yellow.number not in refused.text
    assert 'href="/queue"' not in trader.get("/declarations").text  # no link to it either


def test_the_queue_pages_oldest_first(
    client: TestClient, node: Node, clock: FixedClock, tokens: dict[str, str], doc: Doc
) -> None:
    profile(node, "all", "red", office="VNHPH")
    with node.transaction() as s:
        first = service.lodge(s, SYSTEM, [doc() for _ in range(30)], context(node))
    clock.advance(minutes=5)
    with node.transaction() as s:
        second = service.lodge(s, SYSTEM, [doc() for _ in range(30)], context(node))
    signed_in(client, tokens["officer"])
    one, two = client.get("/queue"), client.get("/queue?page=2")
    numbers = re.findall(r'href="/declarations/([A-Z0-9-]+)"', one.text + two.text)
    assert numbers == first + second  # 50 then 10, each batch in lodging order
    assert "Next page" in one.text and "Next page" not in two.text


# ---- a red declaration from opening to release ----


def test_a_red_declaration_is_inspected_corrected_paid_and_released_through_the_pages(
    client: TestClient,
    node: Node,
    tokens: dict[str, str],
    doc: Doc,
    lodge: Lodge,
    certificate: str,
) -> None:
    profile(node, "phones", "red", hs_prefix="8517")
    number = lodge(doc(), TRADER).number
    signed_in(client, tokens["officer"])
    before = client.get(f"/declarations/{number}").text
    assert "Take in hand" in before and "Inspection findings" in before
    assert "Document check</h2>" not in before and "Release the goods" not in before

    opened = post(client, number, "opening", {"opening.note": "on the quay at 10"})
    assert opened.status_code == 303 and opened.headers["location"].endswith("?done=opened")
    page = client.get(opened.headers["location"])
    assert "You have taken the declaration in hand." in page.text
    assert "Taken in hand (inspection) – on the quay at 10" in text(page)
    assert 'action="/declarations/' + number + '/opening"' not in page.text  # in hand now

    findings = {
        "inspection.result": "irregularity",
        "inspection.note": "invoice undervalued",
        # a blank first row, then the correction: blank rows are left out
        "inspection.corrections.0.item": "",
        "inspection.corrections.0.field": "",
        "inspection.corrections.0.value": "",
        "inspection.corrections.1.item": "1",
        "inspection.corrections.1.field": "customs_value",
        "inspection.corrections.1.value": "30000.00",
    }
    inspected = post(client, number, "inspection", findings)
    assert inspected.status_code == 303, inspected.text
    page = client.get(inspected.headers["location"])
    with node.transaction() as s:
        decl = service.get(s, SYSTEM, number)
        due = decl.total_due
        assert decl.status == "awaiting_payment" and decl.items[0].customs_value == 30000
    assert due > 52_700_000
    shown = text(page)
    assert "The inspection findings are recorded." in shown
    # The duties reassessed, on the page: the amount due before and after the findings.
    assert (
        "irregularity invoice undervalued item 1 customs value: 20000.00 → 30000.00 "
        f"52,700,000 VND {web.money(due, 'VND')}"
    ) in shown
    assert f"Amount due {web.money(due, 'VND')}" in shown

    signed_in(client, tokens["trader"])
    trader_page = client.get(f"/declarations/{number}").text
    assert "Controls</h2>" not in trader_page and "Release the goods" not in trader_page
    paid = post(
        client,
        number,
        "payment",
        {"method": "paid", "reference": "BANK-7", "amount": str(due)},
    )
    assert paid.status_code == 303

    signed_in(client, tokens["officer"])
    assert "Release the goods" in client.get(f"/declarations/{number}").text
    released = post(client, number, "release", {})
    assert released.status_code == 303
    page = client.get(released.headers["location"])
    assert "The goods are released." in page.text
    assert state(node, number)[0] == "released"
    history = text(page)
    for step in ("inspection opened", "inspection irregularity", "paid", "released"):
        assert step in history


def test_the_document_check_accepts_or_sends_to_inspection(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, lodge: Lodge
) -> None:
    profile(node, "phones", "yellow", hs_prefix="8517")
    accepted, inspected = lodge(doc(), TRADER).number, lodge(doc(), TRADER).number
    signed_in(client, tokens["officer"])
    page = client.get(f"/declarations/{accepted}").text
    assert "Document check</h2>" in page and "Inspection findings" not in page

    missing = post(client, accepted, "document-check", {"check.note": "looked"})
    assert missing.status_code == 422
    assert 'href="#check-decision"' in missing.text and 'id="check-decision"' in missing.text
    assert "looked</textarea>" in missing.text  # what was typed is kept
    assert state(node, accepted)[:3] == ("document_check", 1, 0)

    ok = post(client, accepted, "document-check", {"check.decision": "accept"})
    assert (
        ok.status_code == 303
        and "The document check is recorded." in client.get(ok.headers["location"]).text
    )
    assert state(node, accepted)[0] == "awaiting_payment"

    sent = post(
        client, inspected, "document-check", {"check.decision": "inspect", "check.note": "x"}
    )
    assert sent.status_code == 303 and state(node, inspected)[0] == "inspection"
    assert "Inspection findings" in client.get(f"/declarations/{inspected}").text


def test_a_bad_correction_is_named_and_nothing_changes(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, lodge: Lodge
) -> None:
    profile(node, "phones", "red", hs_prefix="8517")
    number = lodge(doc(), TRADER).number
    before = state(node, number)
    signed_in(client, tokens["officer"])

    def findings(item: str, value: str, field: str = "customs_value") -> Response:
        return post(
            client,
            number,
            "inspection",
            {
                "inspection.result": "irregularity",
                "inspection.corrections.0.item": item,
                "inspection.corrections.0.field": field,
                "inspection.corrections.0.value": value,
            },
        )

    unknown = findings("9", "30000.00")
    assert unknown.status_code == 422
    assert 'href="#inspection-corrections-0-item"' in unknown.text
    assert "there is no item 9" in unknown.text
    assert 'id="inspection-corrections-0-item-error"' in unknown.text
    assert 'value="9"' in unknown.text  # kept, to be corrected
    for value in ("abc", "-5", "1e400"):
        bad = findings("1", value)
        assert bad.status_code == 422, value
        assert 'href="#inspection-corrections-0-value"' in bad.text, value
    bad_field = findings("1", "30000.00", field="description")
    assert bad_field.status_code == 422 and 'href="#inspection-corrections-0-field"' in (
        bad_field.text
    )
    no_result = post(client, number, "inspection", {"inspection.note": "x"})
    assert no_result.status_code == 422 and 'href="#inspection-result"' in no_result.text
    assert state(node, number) == before

    # More rows, without JavaScript: the page again, what was typed kept, nothing recorded.
    more = post(
        client,
        number,
        "inspection",
        {"inspection.rows": "3", "action": "more", "inspection.corrections.2.item": "1"},
    )
    assert more.status_code == 200
    assert 'name="inspection.corrections.5.item"' in more.text
    assert 'name="inspection.corrections.6.item"' not in more.text
    assert 'name="inspection.corrections.0.item" type="text" value="1"' in more.text
    assert state(node, number) == before


def test_a_trader_posting_to_an_officer_route_is_refused(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, lodge: Lodge
) -> None:
    profile(node, "phones", "red", hs_prefix="8517")
    number = lodge(doc(), TRADER).number
    before = state(node, number)
    signed_in(client, tokens["trader"])
    page = client.get(f"/declarations/{number}").text
    assert "Take in hand" not in page and "Inspection findings" not in page
    for action, data in (
        ("opening", {"opening.note": "mine"}),
        ("inspection", {"inspection.result": "compliant"}),
        ("document-check", {"check.decision": "accept"}),
        ("release", {}),
        ("amendment-requests/1/decision", {"amendment.decision": "accept"}),
    ):
        refused = post(client, number, action, data)
        assert refused.status_code == 403, action
    assert state(node, number) == before


def test_amendment_requests_are_accepted_and_refused_on_the_page(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc, lodge: Lodge
) -> None:
    profile(node, "phones", "yellow", hs_prefix="8517")
    number = lodge(doc(), TRADER).number
    ctx = context(node)
    with node.transaction() as s:
        service.open_control(s, OFFICER, number, Opening(), ctx)

    def ask(description: str) -> int:
        changed = doc()
        changed["items"][0]["description"] = description
        body = AmendmentRequestCreate(reason="typo", document=DeclarationCreate(**changed))
        with node.transaction() as s:
            return service.request_amendment(s, TRADER, number, body, ctx).id

    first = ask("Smartphones, 128 GB")
    signed_in(client, tokens["officer"])
    page = client.get(f"/declarations/{number}").text
    assert "Amendment request from saigon" in page
    assert "<strong>Smartphones, 128 GB</strong> (now Smartphones)" in page
    path = f"amendment-requests/{first}/decision"
    no_note = post(client, number, path, {"amendment.decision": "refuse"})
    assert no_note.status_code == 422 and 'href="#amendment-note"' in no_note.text
    refused = post(client, number, path, {"amendment.decision": "refuse",
                                          "amendment.note": "show the invoice"})  # fmt: skip
    assert refused.status_code == 303
    page = client.get(refused.headers["location"]).text
    assert "The amendment request is decided." in page and "show the invoice" in page
    assert "Amendment request from saigon" not in page  # none pending

    second = ask("Smartphones, 256 GB")
    accepted = post(client, number, f"amendment-requests/{second}/decision",
                    {"amendment.decision": "accept"})  # fmt: skip
    assert accepted.status_code == 303
    with node.transaction() as s:
        statuses = [r.status for r in service.requests(s, OFFICER, number)]
        assert statuses == ["refused", "accepted"]
        assert service.get(s, SYSTEM, number).items[0].description == "Smartphones, 256 GB"
    unknown = post(client, number, "amendment-requests/999/decision",
                   {"amendment.decision": "accept"})  # fmt: skip
    assert unknown.status_code == 404


# ---- the documents' ledger proofs ----


def test_officials_see_the_ledger_proof_of_the_form_d_checked(
    client: TestClient,
    node: Node,
    tokens: dict[str, str],
    analyst: str,
    doc: Doc,
    lodge: Lodge,
    certificate: str,
    sample_form_d: Callable[[], dict[str, Any]],
) -> None:
    with node.transaction() as s:  # logged as every received document is
        log_document(
            s,
            kind="received",
            document_type="FORM_D",
            document_id=certificate,
            version=1,
            issuer="TH",
            payload=sample_form_d(),
            now=node.clock.now(),
        )
    number = lodge(doc(), TRADER).number
    with node.transaction() as s:  # matched to export data the ledger never received
        s.execute(
            update(Declaration)
            .where(Declaration.number == number)
            .values(pre_arrival="TH:TH-EX-2026-0000009")
        )
    signed_in(client, tokens["officer"])
    page = client.get(f"/declarations/{number}")
    assert page.status_code == 200
    shown = text(page)
    assert "Documents and their ledger proofs" in shown
    assert f"Form D {certificate} received from TH" in shown
    proven = PROOF.search(shown)
    assert proven is not None
    with node.transaction() as s:
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.document_id == certificate))
        assert entry is not None and int(proven.group(1)) == entry.leaf_index
        assert int(proven.group(2)) == ledger.head(s).tree_size
    assert "ACDD TH-EX-2026-0000009 – failed Not in this node's ledger." in shown
    assert f"{certificate}: granted" in page.text  # the Form D matched to the item

    # An entry altered behind the ledger's back: its proof fails, and the page says why.
    with node.transaction() as s:
        s.execute(
            update(LedgerEntry)
            .where(LedgerEntry.document_id == certificate)
            .values(document_sha256="0" * 64)
        )
    damaged = client.get(f"/declarations/{number}")
    assert damaged.status_code == 200 and PROOF.search(text(damaged)) is None
    assert "no longer matches its leaf hash" in damaged.text

    for reader in (tokens["trader"], analyst):
        other = signed_in(client, reader).get(f"/declarations/{number}")
        assert other.status_code == 200 and "ledger proofs" not in other.text
