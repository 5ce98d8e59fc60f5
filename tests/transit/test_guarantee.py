"""The guarantee at departure: ACTS's amount (the highest duties and taxes over the
itinerary's countries, at each one's rates, from partners' published tariffs), held from
acceptance, given back on no release; a movement it cannot cover is refused whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from onewindow.kit import auth
from onewindow.kit.errors import Conflict, InvalidInput
from onewindow.kit.node import Node
from onewindow.tariff import import_rates
from onewindow.transit import mrn, service
from onewindow.transit.context import context
from onewindow.transit.models import Movement
from onewindow.transit.schemas import GuaranteeCreate, Release

from .partners import federate, publish_to
from .test_departure import GUARANTEE, HOLDER, OFFICER, declare, movement, stored
from .traders import register


@pytest.fixture
def partners(node: Node) -> None:
    """Laos (duty 5 %, in kip) and Thailand (duty 20 %, in baht) have published; this node
    (Vietnam: duty 10 % on smartphones) has official rates for both currencies."""
    federate(node, "LA", "TH")
    publish_to(node, "LA", "LAK", "21000", "5")
    publish_to(node, "TH", "THB", "35", "20")
    with node.transaction() as s:
        import_rates(s, "currency,rate,valid_from\nLAK,1.2,2026-01-01\n")


def grn_for(node: Node, amount: str, kind: str = "comprehensive") -> str:
    register(node, GUARANTEE["holder_id"], GUARANTEE["holder_name"])
    data = GuaranteeCreate.model_validate(GUARANTEE | {"amount": amount, "kind": kind})
    with node.transaction() as s:
        return service.register_guarantee(s, OFFICER, data, context(node)).grn


def left(node: Node, grn: str) -> Decimal:
    with node.transaction() as s:
        return service.balance(s, service.guarantee(s, OFFICER, grn))


def test_the_highest_duties_and_taxes_over_the_itinerary_are_held(
    node: Node, partners: None
) -> None:
    grn = grn_for(node, "5000000000")
    accepted = declare(node, movement(grn=grn))
    assert mrn.is_valid(accepted.mrn) and accepted.mrn.startswith("26VNHAN")
    assert accepted.status == "accepted" and accepted.countries == ["VN", "LA", "TH"]
    with node.transaction() as s:
        read = service.read_movement(s, service.get(s, HOLDER, accepted.mrn), HOLDER)
    # 40,000 USD of smartphones; duty, then VAT (10 %) on the value plus duty. Vietnam: 26,350
    # VND a dollar, 10 %: 1,054,000,000 * (0.10 + 1.10 * 0.10) = 221,340,000 VND. Laos:
    # 21,000 kip, 5 %: 840,000,000 * 0.155 = 130,200,000 kip, at 1.2 VND = 156,240,000 VND.
    # Thailand: 35 baht, 20 %: 1,400,000 * 0.32 = 448,000 baht, at 745 VND = 333,760,000 VND.
    assert read.exposure == {"VN": "221340000", "LA": "156240000", "TH": "333760000"}
    assert read.reserved == Decimal("333760000")
    assert left(node, grn) == Decimal("5000000000") - Decimal("333760000")


def test_a_movement_the_guarantee_cannot_cover_is_refused_whole(node: Node, partners: None) -> None:
    grn = grn_for(node, "500000000")
    declare(node, movement(grn=grn))
    with pytest.raises(Conflict) as caught:  # 166,240,000 left; 333,760,000 needed
        declare(node, movement(grn=grn, seals=["VNSEAL-0003"]))
    assert "has 166240000 VND left; this movement needs 333760000" in caught.value.detail
    assert stored(node) == (1, 1)


def test_a_seal_is_on_one_movement_at_a_time(node: Node, partners: None) -> None:
    grn = grn_for(node, "5000000000")
    first = declare(node, movement(grn=grn))
    with pytest.raises(InvalidInput) as caught:
        declare(node, movement(grn=grn, seals=["VNSEAL-0009", "VNSEAL-0002"]))
    assert [(e.path, e.code) for e in caught.value.errors] == [("seals.1", "seal_in_use")]
    assert first.mrn in caught.value.errors[0].message
    with node.transaction() as s:  # no release: the movement ends, its seals are free again
        refused = Release(decision="no_release", reason="seals do not match the vehicle")
        service.decide_release(s, OFFICER, first.mrn, refused, context(node))
    assert left(node, grn) == Decimal("5000000000")
    declare(node, movement(grn=grn, seals=["VNSEAL-0002"]))


def test_release_sets_the_time_limit_and_is_an_officers_once(node: Node, partners: None) -> None:
    grn = grn_for(node, "1500000000", kind="individual")
    accepted = declare(node, movement(grn=grn))
    with node.transaction() as s, pytest.raises(auth.Forbidden):
        service.decide_release(s, HOLDER, accepted.mrn, Release(decision="release"), context(node))
    with node.transaction() as s:
        released = service.decide_release(
            s, OFFICER, accepted.mrn, Release(decision="release"), context(node)
        )
        assert released.status == "released" and released.time_limit == date(2026, 11, 28)
    with node.transaction() as s, pytest.raises(Conflict):
        service.decide_release(s, OFFICER, accepted.mrn, Release(decision="release"), context(node))
    with pytest.raises(InvalidInput) as caught:  # an individual guarantee covers one movement
        declare(node, movement(grn=grn, seals=["VNSEAL-0005"]))
    assert caught.value.errors[0].code == "guarantee_not_valid"
    with node.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Movement)) == 1
