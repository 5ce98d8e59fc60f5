"""The control holes of issue 10 through the API, as an attacker would try them: a trader who
amends past the risk engine or past an officer, reads why it was targeted, or takes over a
broker's declaration; an issuing authority that reads or lodges declarations."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.node import Node
from onewindow.risk import Opinion, Selectivity, Subject, Targets, create_profile
from onewindow.risk.lanes import lanes

from .test_control import cigarettes

Doc = Callable[..., dict[str, Any]]
D = "/api/v1/declarations"


class Model:
    def opinions(self, subjects: list[Subject]) -> list[Opinion]:
        return [Opinion(0.42, ("scored by model m-9", "HS 851713: +0.2")) for _ in subjects]


@pytest.fixture
def client(node: Node) -> TestClient:
    lanes(node).selectivity = Selectivity(Targets(0.0, 0.0, 0.0), Model(), rng=random.Random(1))
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def more(node: Node, tokens: dict[str, str]) -> dict[str, str]:
    with node.transaction() as s:
        return tokens | {
            "origin": auth.create_user(s, "moc", auth.Role.ISSUING_AUTHORITY, None),
            "broker": auth.create_user(s, "broker", auth.Role.TRADER, "0300000001"),
        }


def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def profile(node: Node, name: str, lane: str, **criteria: Any) -> None:
    with node.transaction() as s:
        create_profile(s, name=name, lane=lane, reason=f"{name} reason", **criteria)


def lodge(client: TestClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(D, json=body, headers=h(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


TARGETING = ("score", "reasons", "random", "risk", "model")


def test_a_trader_sees_the_lane_and_the_next_step_never_why(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc
) -> None:
    profile(node, "phones", "yellow", hs_prefix="8517")
    trader, officer = h(tokens["trader"]), h(tokens["officer"])
    lodged = lodge(client, tokens["trader"], doc())
    assert lodged["channel"] == "yellow" and lodged["risk"] is None
    assert "documents" in lodged["next_step"]
    read = client.get(f"{D}/{lodged['number']}", headers=trader).json()
    assert read == lodged  # the lodging answer and the read agree, both without targeting
    amended = client.put(f"{D}/{lodged['number']}", json=doc(), headers=trader).json()
    assert amended["risk"] is None
    history = client.get(f"{D}/{lodged['number']}/history", headers=trader).json()
    assert [e["action"] for e in history][-1] == "declaration.amended"
    text = str(history)
    assert "m-9" not in text and "0.42" not in text and "phones" not in text
    for event in history:
        assert not set(event["detail"] or {}) & set(TARGETING), event
    listed = client.get(D, headers=trader).json()
    assert "m-9" not in str(listed) and "0.42" not in str(listed)
    # Officials see everything: the score, the model, its reasons, the random flag.
    full = client.get(f"{D}/{lodged['number']}", headers=officer).json()
    assert full["risk"]["score"] == 0.42 and "scored by model m-9" in full["risk"]["reasons"]
    assert full["risk"]["random"] is False
    supervisor = client.get(f"{D}/{lodged['number']}/history", headers=h(tokens["supervisor"]))
    channel = [e for e in supervisor.json() if e["action"] == "declaration.channel_yellow"]
    assert channel[0]["detail"]["score"] == 0.42


def test_the_issuing_authority_gets_403_on_every_declaration_route(
    client: TestClient, more: dict[str, str], doc: Doc
) -> None:
    number = lodge(client, more["trader"], doc())["number"]
    origin = h(more["origin"])
    for method, path in (
        ("GET", D),
        ("GET", f"{D}/{number}"),
        ("GET", f"{D}/{number}/history"),
        ("GET", f"{D}/{number}/amendment-requests"),
        ("GET", "/api/v1/reports/clearance"),
    ):
        r = client.request(method, path, headers=origin)
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = client.post(D, json=doc(), headers=origin)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_cigarettes_by_amendment_go_to_an_officer(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc
) -> None:
    """The attack: lodge green smartphones, amend to 500,000 cigarettes at USD 1, pay."""
    profile(node, "tobacco", "red", hs_prefix="2402")
    trader = h(tokens["trader"])
    d = lodge(client, tokens["trader"], doc())
    assert (d["channel"], d["status"]) == ("green", "awaiting_payment")
    smokes = cigarettes(doc)
    amended = client.put(f"{D}/{d['number']}", json=smokes, headers=trader)
    assert amended.status_code == 200, amended.text
    assert (amended.json()["channel"], amended.json()["status"]) == ("red", "inspection")
    payment = {"method": "paid", "reference": "P1", "amount": amended.json()["totals"]["total_due"]}
    paid = client.post(f"{D}/{d['number']}/payment", json=payment, headers=trader)
    assert paid.status_code == 409 and paid.json()["code"] == "invalid_transition"
    assert "cannot pay for a declaration that is inspection" in paid.json()["detail"]
    shown = client.get(f"{D}/{d['number']}", headers=trader).json()
    assert shown["status"] == "inspection" and shown["released_at"] is None


def test_a_corrected_value_cannot_be_amended_back_down(
    client: TestClient, node: Node, tokens: dict[str, str], doc: Doc
) -> None:
    """The attack: on a yellow declaration an officer corrects the value up; the trader
    amends it back down, directly or by request. Neither works; other changes may be asked."""
    profile(node, "phones", "yellow", hs_prefix="8517")
    trader, officer = h(tokens["trader"]), h(tokens["officer"])
    number = lodge(client, tokens["trader"], doc())["number"]
    opened = client.post(f"{D}/{number}/opening", json={"note": "mine"}, headers=officer)
    assert opened.status_code == 200 and opened.json()["status"] == "document_check"
    early = client.put(f"{D}/{number}", json=doc(), headers=trader)
    assert early.status_code == 409 and early.json()["code"] == "officer_acted"
    assert "amendment request" in early.json()["detail"]
    cancel = client.post(f"{D}/{number}/cancellation", json={"reason": "x"}, headers=trader)
    assert cancel.status_code == 409 and cancel.json()["code"] == "officer_acted"
    client.post(f"{D}/{number}/document-check", json={"decision": "inspect"}, headers=officer)
    findings = {
        "result": "irregularity",
        "corrections": [{"item": 1, "field": "customs_value", "value": "30000.00"}],
    }
    inspected = client.post(f"{D}/{number}/inspection", json=findings, headers=officer).json()
    due = inspected["totals"]["total_due"]

    back = client.put(f"{D}/{number}", json=doc(), headers=trader)
    assert back.status_code == 409 and back.json()["code"] == "officer_acted"
    by_officer = client.put(f"{D}/{number}", json=doc(), headers=officer)
    assert by_officer.status_code == 422
    assert by_officer.json()["errors"][0]["path"] == "items.0.customs_value"
    request = {"reason": "value typo", "document": doc()}
    asked = client.post(f"{D}/{number}/amendment-requests", json=request, headers=trader)
    assert asked.status_code == 422
    assert asked.json()["errors"][0]["code"] == "corrected_by_officer"

    fair = doc()
    fair["items"][0] |= {"customs_value": "30000.00", "description": "Smartphones, 256 GB"}
    filed = client.post(
        f"{D}/{number}/amendment-requests",
        json={"reason": "description", "document": fair},
        headers=trader,
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    listed = client.get(f"{D}/{number}/amendment-requests", headers=trader).json()
    assert [(r["id"], r["status"]) for r in listed] == [(request_id, "pending")]
    decision = f"{D}/{number}/amendment-requests/{request_id}/decision"
    assert client.post(decision, json={"decision": "accept"}, headers=trader).status_code == 403
    accepted = client.post(decision, json={"decision": "accept", "note": "ok"}, headers=officer)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = client.post(decision, json={"decision": "refuse", "note": "no"}, headers=officer)
    assert again.status_code == 409
    final = client.get(f"{D}/{number}", headers=trader).json()
    assert final["totals"]["total_due"] == due
    assert final["items"][0]["description"] == "Smartphones, 256 GB"
    unknown = client.post(
        f"{D}/{number}/amendment-requests/999/decision",
        json={"decision": "accept"},
        headers=officer,
    )
    assert unknown.status_code == 404


def test_an_importer_cannot_take_over_a_brokers_declaration(
    client: TestClient, more: dict[str, str], doc: Doc
) -> None:
    broker_doc = doc(declarant={"id": "0300000001", "name": "Hai Phong Brokers"})
    number = lodge(client, more["broker"], broker_doc)["number"]
    importer = h(more["trader"])
    assert client.get(f"{D}/{number}", headers=importer).status_code == 200
    takeover = client.put(f"{D}/{number}", json=doc(), headers=importer)
    assert takeover.status_code == 403
    cancel = client.post(f"{D}/{number}/cancellation", json={"reason": "x"}, headers=importer)
    assert cancel.status_code == 403
    asked = client.post(
        f"{D}/{number}/amendment-requests",
        json={"reason": "mine", "document": doc()},
        headers=importer,
    )
    assert asked.status_code == 403
    renamed = client.put(f"{D}/{number}", json=doc(), headers=h(more["broker"]))
    assert renamed.status_code == 422
    assert [e["path"] for e in renamed.json()["errors"]] == ["declarant.id"]
    still = client.get(f"{D}/{number}", headers=h(more["broker"])).json()
    assert still["declarant_id"] == "0300000001" and still["version"] == 1


def test_hostile_amendment_requests_get_4xx(
    client: TestClient, tokens: dict[str, str], doc: Doc
) -> None:
    number = lodge(client, tokens["trader"], doc())["number"]
    trader = h(tokens["trader"])
    path = f"{D}/{number}/amendment-requests"
    for body in (
        {"reason": "", "document": doc()},
        {"reason": "x" * 501, "document": doc()},
        {"reason": "ok"},
        {"reason": "ok", "document": doc(), "extra": 1},
        {"reason": "ok\x00", "document": doc()},
    ):
        r = client.post(path, json=body, headers=trader)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get(path, headers=trader).json() == []
    assert (
        client.post(
            f"{D}/NOPE/amendment-requests", json={"reason": "x", "document": doc()}, headers=trader
        ).status_code
        == 404
    )
    for huge in ("9223372036854775808", "-1", "0"):
        r = client.post(
            f"{path}/{huge}/decision", json={"decision": "accept"}, headers=h(tokens["officer"])
        )
        assert r.status_code == 404, (huge, r.text)
    bad = client.post(
        f"{path}/1/decision", json={"decision": "maybe"}, headers=h(tokens["officer"])
    )
    assert bad.status_code == 422
