"""E-seals in the portals: the officers' open alerts (filtered, each linking to its trip),
the trips under seal, and a trip's page with its map (the corridor, the track and the alerts
drawn in SVG over the region's outline); acknowledging an alert with a note from either page,
refused without one (4xx, the error next to the field, nothing changed); analysts read and
may not act, traders see nothing; the pages in Vietnamese."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.pages import post
from tests.seals.conftest import OFF_ROUTE

from onewindow.app import create_app
from onewindow.kit import auth, i18n, web
from onewindow.kit.audit import AuditEvent
from onewindow.kit.node import Node
from onewindow.seals import SealAlert, Source, ingest
from onewindow.seals.schemas import EventIn

REF = "26TH000000000001A1"
TRIP = f"/seals/trips/{REF}"
ACK = f"{TRIP}/acknowledgement"
Make = Callable[..., dict[str, Any]]


@pytest.fixture
def alerted(node: Node, secrets_: dict[str, str], event: Make) -> dict[str, int]:
    """Positions on the route and off it (an off_route alert), then an opened door on SEAL-2:
    two open alerts, by kind."""
    events = [
        event(1, 1),
        event(2, 10, at=(12.57, 99.96)),
        event(3, 20, at=OFF_ROUTE),
        event(1, 21, "door_open", device="SEAL-2", at=(13.49, 101.19)),
    ]
    node.clock.advance(hours=1)  # the events are behind the node's clock
    with node.transaction() as s:
        done = ingest(
            s, [EventIn.model_validate(e) for e in events], source=Source(), now=node.clock.now()
        )
    return {a.kind: a.id for a in done.alerts}


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.set(web.COOKIE, token)
    return client


def open_alerts(node: Node) -> list[str]:
    with node.transaction() as s:
        query = select(SealAlert.kind).where(SealAlert.acknowledged_at.is_(None))
        return sorted(s.scalars(query))


def test_the_officers_list_shows_open_alerts_newest_first_with_filters(
    node: Node, client: TestClient, tokens: dict[str, str], alerted: dict[str, int]
) -> None:
    page = signed_in(client, tokens["officer"]).get("/seals/alerts")
    assert page.status_code == 200
    rows = re.findall(r'<a href="/seals/trips/([A-Z0-9]+)">', page.text)
    assert rows == [REF, REF]
    body = page.text.split("<tbody>")[1]
    assert body.index("Door opened") < body.index("Off the corridor")  # newest first
    assert "13.49000, 101.19000" in body and "2026-11-20 08:21 UTC" in body
    assert body.count('name="csrf_token"') == 2 and 'name="back" value="alerts"' in body
    doors = client.get("/seals/alerts?kind=door_open").text.split("<tbody>")[1]
    assert "Door opened" in doors and "Off the corridor" not in doors
    assert "No open alerts." in client.get("/seals/alerts?kind=tamper").text
    by_trip = client.get(f"/seals/alerts?trip={REF.lower()}")
    assert by_trip.status_code == 200 and by_trip.text.count(f'href="{TRIP}"') == 2
    unknown = client.get("/seals/alerts?trip=26TH999")
    assert unknown.status_code == 404 and 'id="trip-error"' in unknown.text
    assert "no trip 26TH999 is under seal here" in unknown.text
    bad = client.get("/seals/alerts?kind=fire&trip=a%20b")
    assert bad.status_code == 422 and 'href="#kind"' in bad.text and 'href="#trip"' in bad.text


def test_the_trip_page_draws_the_corridor_the_track_and_the_alerts(
    node: Node, client: TestClient, tokens: dict[str, str], alerted: dict[str, int]
) -> None:
    page = signed_in(client, tokens["officer"]).get(TRIP)
    assert page.status_code == 200
    text = page.text
    assert re.search(r"<dt>Status</dt><dd>active</dd>", text)
    assert re.search(r"<dt>Seals</dt><dd>SEAL-1, SEAL-2</dd>", text)
    assert "2,000 m each side of the route" in text and "<dd>30 minutes</dd>" in text
    assert "<dd>Hua Hin rest area</dd>" in text and "office TH0301, within 1,000 m" in text
    svg = re.search(r"<svg class=\"map\".*?</svg>", text, re.S)
    assert svg is not None
    drawn = svg.group(0)
    assert f'<title id="map-title">Map of trip {REF}</title>' in drawn
    # the region's outline (land), the corridor, and SEAL-1's track as a polyline (SEAL-2
    # was heard once: its position is the door's alert)
    assert drawn.count('<polyline class="track"') == 1
    seal_1 = re.search(r'<polyline class="track" points="([^"]+)"', drawn)
    assert seal_1 is not None and len(seal_1.group(1).split()) == 3  # its three positions
    assert "<title>Approved corridor</title>" in drawn
    land = re.search(r'<path d="(M[^"]+)" fill="#f3f2f1"', drawn)
    assert land is not None and len(land.group(1).split()) > 200  # Thailand's coasts, borders
    marks = re.findall(r'<g class="alert" role="img" aria-label="([^"]+)">', drawn)
    assert marks == [
        "Alert 1: Off the corridor, 2026-11-20 08:20 UTC",
        "Alert 2: Door opened, 2026-11-20 08:21 UTC",
    ]
    assert 'aria-label="Office of destination TH0301"' in drawn
    assert 'aria-label="Authorised stop: Hua Hin rest area"' in drawn
    assert "http" not in drawn.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # the alerts' table numbers them as the map does
    assert re.search(r'<td class="number">2</td>\s*<td><strong class="tag tag--red">Door', text)
    assert f'action="{ACK}"' in text


def test_an_officer_acknowledges_from_the_trip_page_and_a_note_is_required(
    node: Node, client: TestClient, tokens: dict[str, str], alerted: dict[str, int]
) -> None:
    signed_in(client, tokens["officer"])
    door = str(alerted["door_open"])
    blank = post(client, ACK, {"alert": door, "note": "   "}, TRIP)
    assert blank.status_code == 422 and 'href="#note"' in blank.text
    assert 'id="note-error"' in blank.text and "Field required" in blank.text
    hidden = post(client, ACK, {"alert": door, "note": "ok\u202e"}, TRIP)
    assert hidden.status_code == 422 and "bidirectional" in hidden.text
    none = post(client, ACK, {"note": "seen"}, TRIP)
    assert none.status_code == 422 and 'href="#alert"' in none.text
    forged = client.post(ACK, data={"csrf_token": "x" * 64, "alert": door, "note": "seen"})
    assert forged.status_code == 403
    assert open_alerts(node) == ["door_open", "off_route"]  # nothing changed

    done = post(client, ACK, {"alert": door, "note": "driver called: door checked"}, TRIP)
    assert done.status_code == 303 and done.headers["location"] == f"{TRIP}?done=acknowledged"
    assert open_alerts(node) == ["off_route"]
    after = client.get(done.headers["location"]).text
    assert "The alert is acknowledged, with your note." in after
    assert "officer1, 2026-11-20 09:00 UTC: driver called: door checked" in after
    again = post(client, ACK, {"alert": door, "note": "again"})
    assert again.status_code == 409 and "acknowledged by officer1 already" in again.text
    other = post(client, "/seals/trips/26TH000000000009X9/acknowledgement",
                 {"alert": str(alerted["off_route"]), "note": "x"})  # fmt: skip
    assert other.status_code == 404 and open_alerts(node) == ["off_route"]
    with node.transaction() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "seal_alert.acknowledged")
        ).one()
        assert event.actor == "officer1" and event.entity_id == REF


def test_a_supervisor_acknowledges_from_the_officers_list(
    node: Node, client: TestClient, tokens: dict[str, str], alerted: dict[str, int]
) -> None:
    signed_in(client, tokens["supervisor"])
    route = str(alerted["off_route"])
    blank = post(client, ACK, {"alert": route, "back": "alerts", "note": ""}, "/seals/alerts")
    assert blank.status_code == 422
    assert f'href="#note-{route}"' in blank.text and f'id="note-{route}-error"' in blank.text
    assert re.search(rf"<details open>.*?name=\"alert\" value=\"{route}\"", blank.text, re.S)
    assert open_alerts(node) == ["door_open", "off_route"]
    done = post(client, ACK, {"alert": route, "back": "alerts", "note": "road works on 4"},
                "/seals/alerts")  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/seals/alerts?done=acknowledged"
    assert open_alerts(node) == ["door_open"]
    listed = client.get("/seals/alerts").text
    assert "Off the corridor" not in listed.split("<tbody>")[1]


def test_analysts_read_but_may_not_acknowledge_and_traders_see_nothing(
    node: Node, client: TestClient, tokens: dict[str, str], alerted: dict[str, int]
) -> None:
    with node.transaction() as s:
        analyst = auth.create_user(s, "analyst1", auth.Role.ANALYST, None)
    signed_in(client, analyst)
    listed = client.get("/seals/alerts")
    assert listed.status_code == 200 and "Door opened" in listed.text
    assert "acknowledgement" not in listed.text.split("<tbody>")[1]
    page = client.get(TRIP)
    assert page.status_code == 200 and f'action="{ACK}"' not in page.text
    nav = re.search(r'<ul class="header__nav">(.*?)</ul>', page.text, re.S)
    assert nav is not None and 'href="/seals/alerts"' in nav.group(1)
    form = {"csrf_token": web.csrf(analyst), "alert": str(alerted["door_open"]), "note": "seen"}
    refused = client.post(ACK, data=form)
    assert refused.status_code == 403 and open_alerts(node) == ["door_open", "off_route"]
    signed_in(client, tokens["trader"])
    for path in ("/seals/alerts", "/seals/trips", TRIP):
        assert client.get(path).status_code == 403, path
    home = client.get("/").text
    assert "/seals/" not in home


def test_the_trips_list_and_a_trip_not_under_seal(
    node: Node, client: TestClient, tokens: dict[str, str], alerted: dict[str, int]
) -> None:
    signed_in(client, tokens["officer"])
    listed = client.get("/seals/trips")
    assert listed.status_code == 200
    row = re.search(rf'<a href="{TRIP}">{REF}</a>.*?</tr>', listed.text, re.S)
    assert row is not None and "SEAL-1, SEAL-2" in row.group(0) and 'tag--red">2<' in row.group(0)
    assert "No trips." in client.get("/seals/trips?status=ended").text
    missing = client.get("/seals/trips/26TH000000000009X9")
    assert missing.status_code == 404 and "no trip 26TH000000000009X9 is under seal here" in (
        missing.text
    )
    assert client.get("/seals/trips/not%20a%20ref").status_code == 422


def test_the_pages_in_vietnamese(
    node: Node, client: TestClient, tokens: dict[str, str], alerted: dict[str, int]
) -> None:
    signed_in(client, tokens["officer"])
    client.cookies.set(i18n.COOKIE, "vi")
    listed = client.get("/seals/alerts").text
    assert "<h1>Cảnh báo niêm phong điện tử</h1>" in listed and "Cửa bị mở" in listed
    assert "20/11/2026 08:21 UTC" in listed
    page = client.get(TRIP).text
    assert f"Bản đồ hành trình {REF}" in page
    assert "Cảnh báo 2: Cửa bị mở, 20/11/2026 08:21 UTC" in page  # the map's mark
    blank = post(client, ACK, {"alert": str(alerted["door_open"]), "note": ""}, TRIP)
    assert blank.status_code == 422 and "Có lỗi cần sửa" in blank.text
    assert "Bắt buộc nhập" in blank.text
    unknown = client.get("/seals/alerts?trip=26TH999")
    assert "không có hành trình 26TH999 nào đang được niêm phong tại đây" in unknown.text
