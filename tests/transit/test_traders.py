"""Traders registered for ACTS, authorised consignors and consignees, and the lane a
transit declaration gets: who may do what, and what is refused with nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.audit import AuditEvent
from onewindow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from onewindow.kit.node import Node
from onewindow.risk.service import add_profile
from onewindow.transit import offices, service
from onewindow.transit.context import context
from onewindow.transit.models import Movement, Trader
from onewindow.transit.schemas import GuaranteeCreate, MovementCreate, Release, Unloading
from onewindow.transit.traders import ENTITY

from .movements import MOVEMENT, OFFICER, declare_at_th, kinds, status
from .traders import register

Relay = Callable[[str, str], list[str]]
HOLDER = auth.Principal("siam", auth.Role.TRADER, "0105551234567")
CONSIGNEE = auth.Principal("lion", auth.Role.TRADER, "201912345K")
WAREHOUSE = [{"code": "TH-LCB-WH01", "address": "99 Moo 3, Laem Chabang, Chonburi"}]
DEPOT = [{"code": "SG-JUR-D7", "address": "7 Pioneer Road, Jurong"}]
AT_PREMISES: dict[str, Any] = MOVEMENT | {
    "departure_premises": "TH-LCB-WH01",
    "consignee": {"id": "201912345K", "name": "Lion City Distribution", "premises": "SG-JUR-D7"},
}


def movements(node: Node) -> int:
    with node.transaction() as s:
        return s.scalar(select(func.count()).select_from(Movement)) or 0


def consignor(nodes: dict[str, Node]) -> None:
    """The holder authorised at TH as a consignor at its warehouse."""
    register(nodes["TH"], HOLDER.party_id or "", "Siam Logistics", consignor=True,
             premises=WAREHOUSE)  # fmt: skip


# ---- registration ----


def test_only_registered_traders_hold_guarantees_and_movements(nodes: dict[str, Node]) -> None:
    th = nodes["TH"]
    guarantee = GuaranteeCreate.model_validate({
        "kind": "comprehensive", "holder_id": "0105559999999", "holder_name": "Unknown Co",
        "currency": "THB", "amount": "100000", "valid_until": "2027-06-30",
    })  # fmt: skip
    with th.transaction() as s, pytest.raises(InvalidInput) as caught:
        service.register_guarantee(s, OFFICER, guarantee, context(th))
    assert [(e.path, e.code) for e in caught.value.errors] == [("holder_id", "not_registered")]

    mrn = declare_at_th(nodes, MOVEMENT)  # registers the holder, then declares: accepted
    assert status(th, mrn) == ("departure", "accepted")
    register(th, "0105551234567", "Siam Logistics", status="suspended", note="unpaid debt")
    with th.transaction() as s, pytest.raises(InvalidInput) as caught:
        grn = service.get(s, OFFICER, mrn).grn
        service.declare(s, OFFICER, MovementCreate.model_validate(MOVEMENT | {"grn": grn,
                        "seals": ["THSEAL-0009"]}), context(th))  # fmt: skip
    assert caught.value.errors[0].code == "not_registered"
    assert "suspended" in caught.value.errors[0].message
    assert movements(th) == 1


def test_registration_is_an_officials_act_and_a_trader_reads_only_its_own(
    nodes: dict[str, Node],
) -> None:
    th = nodes["TH"]
    with th.transaction() as s:
        tokens = {
            "officer": auth.create_user(s, "officer1", auth.Role.OFFICER, None),
            "holder": auth.create_user(s, "siam", auth.Role.TRADER, "0105551234567"),
            "other": auth.create_user(s, "other", auth.Role.TRADER, "0105550000001"),
        }
    api = TestClient(create_app(th), raise_server_exceptions=False)

    def put(who: str, party: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        return api.put(f"/api/v1/transit/traders/{party}", json=body, headers=headers)

    def get(who: str, path: str) -> Any:
        return api.get(path, headers={"Authorization": f"Bearer {tokens[who]}"})

    body = {"name": "Siam Logistics", "consignor": True, "premises": WAREHOUSE}
    assert put("holder", "0105551234567", body).status_code == 403  # not its own to grant
    bad = [
        ("bad id!", body, "path.party_id"),
        ("0105551234567", {"name": "Siam Logistics", "consignee": True}, "premises"),  # nowhere
        ("0105551234567", body | {"premises": WAREHOUSE * 2}, "premises"),
        ("0105551234567", body | {"premises": [{"code": "x y", "address": "?"}]},
         "premises.0.code"),
        ("0105551234567", body | {"status": "gone"}, "status"),
    ]  # fmt: skip
    for party, sent, path in bad:
        refused = put("officer", party, sent)
        assert refused.status_code == 422, (sent, refused.text)
        assert path in [e["path"] for e in refused.json()["errors"]], refused.json()
    with th.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Trader)) == 0

    done = put("officer", "0105551234567", body)
    assert done.status_code == 200 and done.json()["consignor"] is True
    assert done.json()["premises"] == WAREHOUSE and done.json()["updated_by"] == "officer1"
    own = get("holder", "/api/v1/transit/traders/0105551234567")
    assert own.status_code == 200 and own.json()["name"] == "Siam Logistics"
    assert get("other", "/api/v1/transit/traders/0105551234567").status_code == 404
    assert get("other", "/api/v1/transit/traders").status_code == 403
    listed = get("officer", "/api/v1/transit/traders").json()
    assert [t["party_id"] for t in listed] == ["0105551234567"]

    changed = put("officer", "0105551234567", {"name": "Siam Logistics", "status": "suspended"})
    assert changed.json()["status"] == "suspended" and changed.json()["consignor"] is False
    with th.transaction() as s:
        trail = s.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == ENTITY))
        assert list(trail) == ["transit.trader_registered", "transit.trader_changed"]


# ---- authorised consignor ----


def test_an_authorised_consignor_in_the_green_lane_is_released_at_its_premises(
    nodes: dict[str, Node], relay: Relay
) -> None:
    consignor(nodes)
    mrn = declare_at_th(nodes, AT_PREMISES)
    th = nodes["TH"]
    assert status(th, mrn) == ("departure", "released")  # no officer, no presentation
    with th.transaction() as s:
        events = service.events(s, service.get(s, OFFICER, mrn))
    assert events[-1].kind == "IE029"
    assert events[-1].detail == {"at_premises": "TH-LCB-WH01",
                                 "by": "authorised consignor: no control selected"}  # fmt: skip
    assert relay("TH", "SG") == ["TRANSIT_RECORD"]  # the record says where they left from
    with nodes["SG"].transaction() as s:
        at_sg = service.get(s, OFFICER, mrn)
        assert at_sg.document["departure_premises"] == "TH-LCB-WH01"
        assert at_sg.consignee_id == "201912345K"


def test_premises_the_holder_is_not_authorised_at_are_refused(nodes: dict[str, Node]) -> None:
    register(nodes["TH"], "0105551234567", "Siam Logistics")  # registered, not a consignor
    with pytest.raises(InvalidInput) as caught:
        declare_at_th(nodes, AT_PREMISES)
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("departure_premises", "not_authorised")
    ]
    assert movements(nodes["TH"]) == 0
    consignor(nodes)
    with pytest.raises(InvalidInput):
        declare_at_th(nodes, AT_PREMISES | {"departure_premises": "TH-BKK-OTHER"})
    assert movements(nodes["TH"]) == 0


# ---- the lane ----


def test_a_red_lane_waits_for_the_officers_control_and_its_findings(
    nodes: dict[str, Node], relay: Relay
) -> None:
    th = nodes["TH"]
    consignor(nodes)
    with th.transaction() as s:
        add_profile(s, {"name": "phones", "lane": "red", "reason": "phones under-valued",
                        "hs_prefix": "8517"}, by="super1", now=th.clock.now())  # fmt: skip
    mrn = declare_at_th(nodes, AT_PREMISES)
    assert status(th, mrn) == ("departure", "accepted")  # not released at the premises
    with th.transaction() as s:
        movement = service.get(s, OFFICER, mrn)
        assert service.read_movement(s, movement, OFFICER).lane_reasons == [
            "profile phones: phones under-valued"
        ]
        as_holder = service.read_movement(s, movement, HOLDER)
    assert as_holder.lane == "red" and as_holder.lane_reasons is None  # the profile is secret

    with th.transaction() as s, pytest.raises(InvalidInput) as caught:
        service.decide_release(s, OFFICER, mrn, Release(decision="release"), context(th))
    assert [(e.path, e.code) for e in caught.value.errors] == [("control", "required")]
    assert status(th, mrn) == ("departure", "accepted") and relay("TH", "SG") == []

    checked = Release(decision="release", control="seals checked, 500 phones counted", days=5)
    with th.transaction() as s:
        released = service.decide_release(s, OFFICER, mrn, checked, context(th))
        assert released.time_limit == date(2026, 11, 17)  # five days, not the default eight
    assert kinds(th, mrn) == ["IE029"] and relay("TH", "SG") == ["TRANSIT_RECORD"]


# ---- authorised consignee ----


def test_an_authorised_consignee_notifies_arrival_and_unloads_at_its_premises(
    nodes: dict[str, Node], relay: Relay
) -> None:
    th, sg = nodes["TH"], nodes["SG"]
    consignor(nodes)
    register(sg, "201912345K", "Lion City Distribution", consignee=True, premises=DEPOT)
    register(sg, "201900000A", "Another Importer", consignee=True, premises=DEPOT)
    mrn = declare_at_th(nodes, AT_PREMISES)
    assert relay("TH", "MY") == ["TRANSIT_RECORD"] and relay("TH", "SG") == ["TRANSIT_RECORD"]

    stranger = auth.Principal("other", auth.Role.TRADER, "201900000A")
    with sg.transaction() as s, pytest.raises(NotFound):  # not its movement: not even seen
        offices.arrive(s, stranger, mrn, "SGSIN", context(sg))
    with sg.transaction() as s, pytest.raises(InvalidInput) as caught:
        offices.arrive(s, CONSIGNEE, mrn, "SGJUR", context(sg))  # not under destination
    assert caught.value.errors[0].code == "not_destination"
    with sg.transaction() as s:
        offices.arrive(s, CONSIGNEE, mrn, "SGSIN", context(sg))
        offices.unload(s, CONSIGNEE, mrn, Unloading(seals_intact=True), context(sg))
    with sg.transaction() as s:
        found = service.events(s, service.get(s, CONSIGNEE, mrn))
    by = {"by": "authorised consignee", "premises": "SG-JUR-D7"}
    assert [(e.kind, e.detail) for e in found[-2:]] == [
        ("IE007", by), ("IE044", {"seals_intact": True, "discrepancies": None} | by)
    ]  # fmt: skip
    assert relay("SG", "TH") == ["TRANSIT_EVENT", "TRANSIT_EVENT"]
    assert status(th, mrn) == ("departure", "discharged")


def test_a_consignee_not_authorised_at_destination_leaves_it_to_an_officer(
    nodes: dict[str, Node], relay: Relay
) -> None:
    sg = nodes["SG"]
    consignor(nodes)
    register(sg, "201912345K", "Lion City Distribution")  # registered, not authorised
    mrn = declare_at_th(nodes, AT_PREMISES)
    relay("TH", "SG")
    with sg.transaction() as s, pytest.raises(Forbidden):
        offices.arrive(s, CONSIGNEE, mrn, "SGSIN", context(sg))
    assert status(sg, mrn) == ("destination", "expected")
    with sg.transaction() as s:  # it sees its movement; an officer receives the goods
        assert service.search(s, CONSIGNEE)[0].mrn == mrn
        offices.arrive(s, OFFICER, mrn, "SGSIN", context(sg))
    assert status(sg, mrn) == ("destination", "arrived")
    with sg.transaction() as s, pytest.raises(Forbidden):
        offices.unload(s, CONSIGNEE, mrn, Unloading(seals_intact=True), context(sg))


# ---- cancellation (IE014) ----


def test_the_holder_cancels_before_release_and_not_after(
    nodes: dict[str, Node], relay: Relay
) -> None:
    th = nodes["TH"]
    mrn = declare_at_th(nodes, MOVEMENT)
    stranger = auth.Principal("other", auth.Role.TRADER, "0105550000001")
    with th.transaction() as s, pytest.raises(NotFound):
        service.cancel(s, stranger, mrn, "not mine", context(th))
    with th.transaction() as s:
        cancelled = service.cancel(s, HOLDER, mrn, "the buyer withdrew", context(th))
        assert cancelled.status == "cancelled"
        assert service.reservation(s, mrn).status == "released"  # type: ignore[union-attr]
    assert kinds(th, mrn) == ["IE014"] and relay("TH", "SG") == []
    with th.transaction() as s:  # its seals are free again
        body = MOVEMENT | {"grn": service.get(s, OFFICER, mrn).grn}
        again = service.declare(s, OFFICER, MovementCreate.model_validate(body), context(th)).mrn
    with th.transaction() as s:
        service.decide_release(s, OFFICER, again, Release(decision="release"), context(th))
    with th.transaction() as s, pytest.raises(Conflict):  # released: it stands
        service.cancel(s, HOLDER, again, "too late", context(th))
    assert status(th, again) == ("departure", "released")
