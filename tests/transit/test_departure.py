"""Transit at the office of departure: guarantees, the transit declaration's checks, and
nothing stored when it is refused."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onewindow import reference
from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from onewindow.kit.node import Node
from onewindow.transit import service
from onewindow.transit.context import context
from onewindow.transit.models import Movement, Reservation
from onewindow.transit.schemas import GuaranteeCreate, MovementCreate

from .partners import federate
from .traders import register

OFFICER = auth.Principal("officer1", auth.Role.OFFICER)
HOLDER = auth.Principal("saigon", auth.Role.TRADER, "0101234567")
GUARANTEE = {
    "kind": "comprehensive", "holder_id": "0101234567", "holder_name": "Saigon Trading",
    "currency": "VND", "amount": "500000000", "valid_until": "2027-12-31",
}  # fmt: skip
MOVEMENT: dict[str, Any] = {
    "holder_id": "0101234567",
    "holder_name": "Saigon Trading",
    "departure_office": "VNHAN",
    "transit_offices": ["LAVTE"],
    "destination_office": "THBKK",
    "seals": ["VNSEAL-0001", "VNSEAL-0002"],
    "items": [
        {
            "hs_code": "85171300", "description": "Smartphones", "quantity": "200",
            "unit": "PCE", "gross_mass_kg": "80", "customs_value": "40000", "currency": "USD",
        }
    ],
}  # fmt: skip


def movement(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(MOVEMENT)
    body.update(changes)
    return body


@pytest.fixture
def grn(node: Node) -> str:
    federate(node, "LA", "TH")
    register(node, "0101234567", "Saigon Trading")
    with node.transaction() as s:
        g = service.register_guarantee(
            s, OFFICER, GuaranteeCreate.model_validate(GUARANTEE), context(node)
        )
        return g.grn


def declare(node: Node, body: dict[str, Any], actor: auth.Principal = HOLDER) -> Movement:
    with node.transaction() as s:
        return service.declare(s, actor, MovementCreate.model_validate(body), context(node))


def stored(node: Node) -> tuple[int, int]:
    with node.transaction() as s:
        movements = s.scalar(select(func.count()).select_from(Movement))
        reservations = s.scalar(select(func.count()).select_from(Reservation))
        return movements or 0, reservations or 0


def test_a_guarantee_is_registered_by_an_officer_with_its_whole_amount_left(
    node: Node, grn: str
) -> None:
    assert grn.startswith("26VNG") and len(grn) == 18
    with node.transaction() as s:
        read = service.read_guarantee(s, service.guarantee(s, HOLDER, grn))
    assert read.balance == read.amount == Decimal("500000000")
    data = GuaranteeCreate.model_validate(GUARANTEE)
    with node.transaction() as s, pytest.raises(Forbidden):
        service.register_guarantee(s, HOLDER, data, context(node))
    stale = GUARANTEE | {"valid_until": "2026-01-31"}
    with node.transaction() as s, pytest.raises(InvalidInput) as caught:
        service.register_guarantee(s, OFFICER, GuaranteeCreate.model_validate(stale), context(node))
    assert caught.value.errors[0].path == "valid_until"


@pytest.mark.parametrize(
    ("changes", "path", "code"),
    [
        ({"departure_office": "THLCH", "transit_offices": [], "destination_office": "MYPKG"},
         "departure_office", "not_here"),
        ({"transit_offices": [], "destination_office": "VNSGN"}, "destination_office", "national"),
        ({"transit_offices": []}, "transit_offices", "no_road"),  # Vietnam to Thailand
        ({"destination_office": "SGSIN"}, "transit_offices", "no_road"),  # Laos to Singapore
        ({"transit_offices": ["KHPNH"]}, "transit_offices", "not_a_partner"),  # via Cambodia
    ],
)  # fmt: skip
def test_an_itinerary_must_start_here_end_abroad_and_follow_roads(
    node: Node, grn: str, changes: dict[str, Any], path: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        declare(node, movement(grn=grn, **changes))
    assert (path, code) in [(e.path, e.code) for e in caught.value.errors]
    assert stored(node) == (0, 0)


def test_a_trader_declares_only_as_the_holder_and_on_its_own_guarantee(
    node: Node, grn: str
) -> None:
    other = auth.Principal("hanoi", auth.Role.TRADER, "0309999999")
    with pytest.raises(Forbidden):
        declare(node, movement(grn=grn), other)
    as_other = movement(grn=grn, holder_id="0309999999", holder_name="Hanoi Co")
    with pytest.raises(InvalidInput) as caught:  # not registered for ACTS here
        declare(node, as_other, OFFICER)
    assert [(e.path, e.code) for e in caught.value.errors] == [("holder_id", "not_registered")]
    register(node, "0309999999", "Hanoi Co")
    with pytest.raises(InvalidInput) as caught:  # an officer declares, for a holder without it
        declare(node, as_other, OFFICER)
    assert caught.value.errors[0].path == "grn"
    assert caught.value.errors[0].code == "guarantee_not_valid"
    assert stored(node) == (0, 0)


def test_without_a_partners_published_tariff_the_guarantee_cannot_be_computed(
    node: Node, grn: str
) -> None:
    with pytest.raises(Conflict) as caught:
        declare(node, movement(grn=grn))
    assert caught.value.detail == (
        "the guarantee cannot be computed: LA has published no tariff in force on 2026-11-20"
    )
    assert stored(node) == (0, 0)


def test_bad_bodies_get_every_field_named(node: Node, tokens: dict[str, str]) -> None:
    client = TestClient(create_app(node), raise_server_exceptions=False)
    bad = movement(
        grn="26VNG0000000001X", seals=["A", "VNSEAL-0001", "VNSEAL-0001"],
        departure_office="hanoi", items=[{**MOVEMENT["items"][0], "customs_value": "-1"}],
    )  # fmt: skip
    r = client.post(
        "/api/v1/transit/movements", json=bad,
        headers={"Authorization": f"Bearer {tokens['trader']}"},
    )  # fmt: skip
    assert r.status_code == 422
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"grn", "seals.0", "departure_office", "items.0.customs_value"} <= paths
    assert stored(node) == (0, 0)


def test_the_guarantee_of_a_stranger_is_not_found_for_a_trader(node: Node, grn: str) -> None:
    other = auth.Principal("hanoi", auth.Role.TRADER, "0309999999")
    with node.transaction() as s, pytest.raises(NotFound):
        service.guarantee(s, other, grn)


def test_departure_is_one_of_the_nodes_customs_offices_when_it_keeps_their_list(
    node: Node, grn: str
) -> None:
    offices = "code,description,kind,locode\nHP01,Hai Phong port,port,VNHPH\n"
    with node.transaction() as s:
        reference.import_list(s, "offices", offices, date(2026, 1, 1), actor="admin1",
                              at=node.clock.now())  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        declare(node, movement(grn=grn))  # from VNHAN, not in the list
    assert [(e.path, e.code) for e in caught.value.errors] == [
        ("departure_office", "unknown_office")
    ]
    assert stored(node) == (0, 0)
