"""The ledger in the portals: the node's tree head, the partners it witnesses and their
alarms; a supervisor acknowledges a partner's open alarms with a note (a blank or hidden-text
note is named next to its field and nothing changes); other roles get 403."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from tests.pages import post

from onewindow.app import create_app
from onewindow.kit import auth, i18n, web
from onewindow.kit.audit import AuditEvent
from onewindow.kit.node import Node
from onewindow.ledger import LeafEntry, service
from onewindow.ledger.models import LedgerEntry, WitnessedHead

SEEN = datetime(2026, 11, 19, 7, 30, tzinfo=UTC)


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def head(country: str, size: int, *, alarm: str | None = None) -> WitnessedHead:
    """A partner's head as witnessing stores it: cosigned, or with its alarm."""
    return WitnessedHead(
        partner_country=country, origin=f"onewindow/{country}/ledger", tree_size=size,
        root_hash=bytes([size]) * 32, signed_at=SEEN, partner_key_id="k1",
        partner_signature=b"s" * 64, received_at=SEEN,
        cosignature=None if alarm else b"c" * 64, cosigned_at=None if alarm else SEEN,
        alarm=alarm is not None, alarm_detail=alarm,
    )  # fmt: skip


def open_alarms(node: Node) -> list[WitnessedHead]:
    with node.transaction() as s:
        stmt = select(WitnessedHead).where(
            WitnessedHead.alarm.is_(True), WitnessedHead.acknowledged_at.is_(None)
        )
        return list(s.scalars(stmt))


@pytest.fixture
def witnessed(node: Node) -> None:
    with node.transaction() as s:
        entry = LeafEntry("FORM_D", "VN-2026-000001", 1, "VN", "ab" * 32, SEEN, "issued")
        service.append(s, entry)
        s.add_all([
            head("TH", 5), head("TH", 6, alarm="fork: two roots for size 6"),
            head("SG", 3),
        ])  # fmt: skip


def test_a_supervisor_sees_the_witnesses_and_acknowledges_an_alarm(
    node: Node, client: TestClient, tokens: dict[str, str], witnessed: None
) -> None:
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    page = client.get("/ledger")
    assert page.status_code == 200
    assert re.search(r"<dt>Entries</dt><dd>1</dd>", page.text)
    rows = page.text.split("<h2>Alarms</h2>")[0]
    # TH: the last head cosigned is 5, and its alarm is open; SG is fine.
    assert re.search(r"<td>TH.*?tag--red\">alarm.*?<td class=\"number\">5<br>", rows, re.S)
    assert re.search(r"<td>SG.*?tag--green\">ok", rows, re.S)
    assert "fork: two roots for size 6" in page.text
    assert 'action="/ledger/acknowledgement"' in page.text

    blank = post(client, "/ledger/acknowledgement", {"partner": "TH", "note": "  "}, "/ledger")
    assert blank.status_code == 422 and 'href="#note"' in blank.text
    hidden = post(client, "/ledger/acknowledgement",
                  {"partner": "TH", "note": "ok\u202e"}, "/ledger")  # fmt: skip
    assert hidden.status_code == 422 and 'id="note-error"' in hidden.text
    wrong = post(client, "/ledger/acknowledgement", {"partner": "th", "note": "x"}, "/ledger")
    assert wrong.status_code == 422 and 'href="#partner"' in wrong.text
    assert len(open_alarms(node)) == 1  # nothing changed

    done = post(client, "/ledger/acknowledgement",
                {"partner": "TH", "note": "TH rebuilt its log; confirmed by phone"},
                "/ledger")  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/ledger?done=acknowledged"
    assert open_alarms(node) == []
    after = client.get(done.headers["location"]).text
    assert "super1, 2026-11-20 08:00 UTC: TH rebuilt its log" in after
    assert 'action="/ledger/acknowledgement"' not in after  # no open alarm left
    with node.transaction() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "ledger.alarm_acknowledged")
        ).one()
        assert event.actor == "super1" and event.entity_id == "TH"
    again = post(client, "/ledger/acknowledgement", {"partner": "TH", "note": "x"})
    assert again.status_code == 404


def test_refusals_and_damage_are_in_vietnamese_for_a_vietnamese_reader(
    node: Node, client: TestClient, tokens: dict[str, str], witnessed: None
) -> None:
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    client.cookies.set(i18n.COOKIE, "vi")
    blank = post(client, "/ledger/acknowledgement", {"partner": "TH", "note": "  "}, "/ledger")
    assert blank.status_code == 422
    assert "hãy nêu những gì phát hiện được khi xem xét cảnh báo" in blank.text
    long = post(client, "/ledger/acknowledgement", {"partner": "TH", "note": "x" * 1001}, "/ledger")
    assert long.status_code == 422 and "tối đa 1000 ký tự (đã nhập 1001)" in long.text
    none = post(client, "/ledger/acknowledgement", {"partner": "SG", "note": "seen"})
    assert none.status_code == 404
    assert "không có cảnh báo chưa xử lý nào của đối tác SG" in none.text
    with node.transaction() as s:  # a row deleted outside OneWindow: the page cannot be shown
        s.execute(delete(LedgerEntry))
    damaged = client.get("/ledger")
    assert damaged.status_code == 503 and "sổ cái bị thiếu 1 cây con đã lưu" in damaged.text


def test_officers_read_the_ledger_but_only_seniors_acknowledge(
    node: Node, client: TestClient, tokens: dict[str, str], witnessed: None
) -> None:
    client.cookies.set(web.COOKIE, tokens["officer"])
    page = client.get("/ledger")
    assert page.status_code == 200 and "fork: two roots" in page.text
    assert 'action="/ledger/acknowledgement"' not in page.text
    refused = client.post("/ledger/acknowledgement", data={
        "csrf_token": web.csrf(tokens["officer"]), "partner": "TH", "note": "seen"})  # fmt: skip
    assert refused.status_code == 403 and len(open_alarms(node)) == 1
    client.cookies.set(web.COOKIE, tokens["trader"])
    assert client.get("/ledger").status_code == 403
    with node.transaction() as s:
        admin = auth.create_user(s, "admin1", auth.Role.ADMINISTRATOR, None)
    client.cookies.set(web.COOKIE, admin)
    done = post(client, "/ledger/acknowledgement", {"partner": "TH", "note": "seen"}, "/ledger")
    assert done.status_code == 303 and open_alarms(node) == []
