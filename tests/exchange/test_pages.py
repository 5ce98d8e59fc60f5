"""Exchange in the portals: messages counted per partner, type, direction and status; the
list filtered in the address; a supervisor queues a failed message again (audited) and a
message that has not failed is refused with nothing changed; other roles get 403."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.pages import post

from onewindow.app import create_app
from onewindow.exchange.models import IncomingMessage, OutgoingMessage
from onewindow.kit import i18n, web
from onewindow.kit.audit import AuditEvent
from onewindow.kit.node import Node

AT = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
FAILED = "00000000-0000-4000-8000-000000000001"
FAILED_SG = "00000000-0000-4000-8000-000000000002"
DONE = "00000000-0000-4000-8000-000000000003"


def outgoing(message_id: str, receiver: str, status: str, minutes: int) -> OutgoingMessage:
    at = AT + timedelta(minutes=minutes)
    settled = status in ("processed", "failed")
    return OutgoingMessage(
        message_id=message_id, sender="VN", receiver=receiver, document_type="FORM_D",
        document_id=f"VN-2026-00000{minutes}", version=1, document=b"<x/>", status=status,
        created_at=at, queued_at=at, next_attempt_at=None if settled else at,
        attempts=5 if status == "failed" else 1, completed_at=at if settled else None,
        last_error="connection refused" if status == "failed" else None,
        sealed=b"<sealed/>", sealed_at=at,
    )  # fmt: skip


@pytest.fixture
def client(node: Node) -> TestClient:
    with node.transaction() as s:
        s.add_all([
            outgoing(FAILED, "TH", "failed", 1),
            outgoing(FAILED_SG, "SG", "failed", 2),
            outgoing(DONE, "TH", "processed", 3),
            IncomingMessage(
                message_id="00000000-0000-4000-8000-000000000004", sender="TH", receiver="VN",
                document_type="ACDD", document_id="TH-EX-1", version=1, created_at=AT,
                received_at=AT, status="processed", key_id="k1", envelope=b"<e/>",
                receipt=b"<r/>",
            ),
        ])  # fmt: skip
    return TestClient(create_app(node), raise_server_exceptions=False)


def status_of(node: Node, message_id: str) -> str:
    with node.transaction() as s:
        message = s.get(OutgoingMessage, message_id)
        assert message is not None
        return message.status


def test_counts_and_a_list_filtered_in_the_address(
    client: TestClient, tokens: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    page = client.get("/exchange/messages")
    assert page.status_code == 200 and "Sent 3, received 1." in page.text
    counts = page.text.split("<h2>Messages</h2>")[0]
    assert re.search(r"TH</a></td>\s*<td>FORM_D</td>\s*<td>sent</td>\s*<td>.*failed</a></td>"
                     r'\s*<td class="number">1</td>', counts)  # fmt: skip
    assert re.search(r"TH</a></td>\s*<td>ACDD</td>\s*<td>received</td>", counts)
    assert page.text.count("Retry<span") == 2  # the two failed messages
    failed_th = client.get("/exchange/messages?partner=TH&status=failed&direction=out")
    assert failed_th.status_code == 200
    assert FAILED in failed_th.text and FAILED_SG not in failed_th.text
    assert DONE not in failed_th.text and "TH-EX-1" not in failed_th.text
    received = client.get("/exchange/messages?direction=in").text
    assert "TH-EX-1" in received and FAILED not in received
    bad = client.get("/exchange/messages?partner=thailand&direction=sideways")
    assert bad.status_code == 422 and "partner" in bad.text and "direction" in bad.text


def test_a_supervisor_retries_a_failed_message(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    listing = "/exchange/messages?partner=TH&status=failed"
    done = post(client, f"/exchange/messages/{FAILED}/retry",
                {"partner": "TH", "status": "failed"}, listing)  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == "/exchange/messages?partner=TH&status=failed&done=retried"
    assert status_of(node, FAILED) == "queued" and status_of(node, FAILED_SG) == "failed"
    with node.transaction() as s:
        message = s.get(OutgoingMessage, FAILED)
        assert message is not None and message.attempts == 0 and message.sealed is None
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "exchange.message_retried")
        ).one()
        assert (event.actor, event.entity_id, event.to_status) == ("super1", FAILED, "queued")
    shown = client.get(done.headers["location"]).text
    assert "The message is queued again" in shown and FAILED not in shown  # no longer failed

    again = post(client, f"/exchange/messages/{FAILED}/retry", {})
    assert again.status_code == 422 and "only failed messages are retried" in again.text
    assert 'href="#message_id"' in again.text and 'id="message_id"' in again.text
    processed = post(client, f"/exchange/messages/{DONE}/retry", {})
    assert processed.status_code == 422 and status_of(node, DONE) == "processed"
    unknown = post(client, "/exchange/messages/nope/retry", {})
    assert unknown.status_code == 404


def test_a_refused_retry_is_in_vietnamese_for_a_vietnamese_reader(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    client.cookies.set(i18n.COOKIE, "vi")
    processed = post(client, f"/exchange/messages/{DONE}/retry", {})
    assert processed.status_code == 422 and status_of(node, DONE) == "processed"
    said = f"thông điệp {DONE} đang ở trạng thái đã xử lý; chỉ thông điệp thất bại mới được gửi lại"
    assert said in processed.text  # the status word translated too
    assert "only failed messages are retried" not in processed.text
    unknown = post(client, "/exchange/messages/nope/retry", {})
    assert unknown.status_code == 404 and "không có thông điệp gửi đi nope" in unknown.text


def test_officers_read_messages_but_only_seniors_retry(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, tokens["officer"])
    page = client.get("/exchange/messages")
    assert page.status_code == 200 and FAILED in page.text and "/retry" not in page.text
    refused = client.post(f"/exchange/messages/{FAILED}/retry",
                          data={"csrf_token": web.csrf(tokens["officer"])})  # fmt: skip
    assert refused.status_code == 403 and status_of(node, FAILED) == "failed"
    client.cookies.set(web.COOKIE, tokens["trader"])
    assert client.get("/exchange/messages").status_code == 403
    assert "/exchange/" not in client.get("/").text
