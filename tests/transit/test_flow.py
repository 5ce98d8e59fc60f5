"""A movement from Bangkok through Malaysia to Singapore, as documents between three nodes:
released at TH (its record to MY and SG), the frontier crossed at MY, arrival and unloading
at SG, written off at TH with the guarantee given back; each document signed for, logged in
both ledgers, its events visible at every node it touched."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from onewindow.exchange import documents
from onewindow.exchange.handlers import handler_for
from onewindow.exchange.inbox import Incoming
from onewindow.exchange.models import OutgoingMessage
from onewindow.kit.errors import Conflict, InvalidInput
from onewindow.kit.node import Node
from onewindow.transit import offices, service
from onewindow.transit.context import context
from onewindow.transit.schemas import Unloading

from .movements import OFFICER, held, kinds, logged, status

Relay = Callable[[str, str], list[str]]


def test_a_movement_runs_from_bangkok_to_singapore_and_is_written_off(
    nodes: dict[str, Node], relay: Relay, released: str
) -> None:
    th, my, sg = nodes["TH"], nodes["MY"], nodes["SG"]
    mrn = released
    assert status(th, mrn) == ("departure", "released") and held(th, mrn) == "held"
    assert status(my, mrn) == ("transit", "expected")
    assert status(sg, mrn) == ("destination", "expected")
    assert logged(th, mrn) == ["issued"] and logged(sg, mrn) == ["received"]

    with my.transaction() as s:
        offices.cross(s, OFFICER, mrn, "MYBKH", context(my))
    assert relay("MY", "TH") == ["TRANSIT_EVENT"]
    with sg.transaction() as s:
        offices.arrive(s, OFFICER, mrn, "SGSIN", context(sg))
    assert relay("SG", "TH") == ["TRANSIT_EVENT"]
    assert status(th, mrn) == ("departure", "arrived")
    with sg.transaction() as s:
        offices.unload(s, OFFICER, mrn, Unloading(seals_intact=True), context(sg))
    assert relay("SG", "TH") == ["TRANSIT_EVENT"]

    assert status(th, mrn) == ("departure", "discharged") and held(th, mrn) == "released"
    assert kinds(th, mrn) == ["IE029", "IE118", "IE006", "IE018", "IE045"]
    assert relay("TH", "MY") == ["TRANSIT_RECORD"] and relay("TH", "SG") == ["TRANSIT_RECORD"]
    assert status(my, mrn) == ("transit", "discharged")
    assert status(sg, mrn) == ("destination", "discharged")
    assert kinds(sg, mrn) == ["IE001", "IE007", "IE044", "IE045"]
    assert logged(th, mrn) == ["issued", "issued"]  # released, then written off
    assert logged(th, f"{mrn}-IE018-SGSIN") == ["received"]
    assert logged(sg, f"{mrn}-IE018-SGSIN") == ["issued"]


def test_broken_seals_wait_for_an_officer_of_departure(
    nodes: dict[str, Node], relay: Relay, released: str
) -> None:
    th, sg = nodes["TH"], nodes["SG"]
    mrn = released
    with sg.transaction() as s:
        offices.arrive(s, OFFICER, mrn, "SGSIN", context(sg))
        offices.unload(s, OFFICER, mrn, Unloading(seals_intact=False,
                       discrepancies="20 cartons missing"), context(sg))  # fmt: skip
    relay("SG", "TH")
    assert status(th, mrn) == ("departure", "discrepancies") and held(th, mrn) == "held"
    with th.transaction() as s:
        offices.discharge(s, OFFICER, mrn, "duties on the 20 cartons paid at SG", context(th))
    assert status(th, mrn) == ("departure", "discharged") and held(th, mrn) == "released"


def test_a_diverted_crossing_is_accepted_with_a_notice(
    nodes: dict[str, Node], relay: Relay, released: str
) -> None:
    """Presented at Pasir Gudang instead of Bukit Kayu Hitam: Malaysia is on the itinerary,
    so the goods are under control there; the departure office learns where they went. (At
    a country not on it, the movement is unknown: the next test.)"""
    th, my = nodes["TH"], nodes["MY"]
    mrn = released
    with my.transaction() as s:
        offices.cross(s, OFFICER, mrn, "MYPGU", context(my))
    relay("MY", "TH")
    assert kinds(th, mrn) == ["IE029", "IE118"]
    with my.transaction() as s:
        events = service.events(s, service.get(s, OFFICER, mrn))
        assert events[-1].detail == {"notice": "diverted: presented at MYPGU, declared for MYBKH"}
    with my.transaction() as s, pytest.raises(Conflict):  # crossed once
        offices.cross(s, OFFICER, mrn, "MYBKH", context(my))
    with my.transaction() as s, pytest.raises(InvalidInput):  # an office of another country
        offices.cross(s, OFFICER, mrn, "SGSIN", context(my))


def test_a_stranger_to_the_itinerary_knows_nothing_of_the_movement(
    make_node: Callable[..., Node], nodes: dict[str, Node], relay: Relay, released: str
) -> None:
    vn = make_node("VN", "VND", nodes["TH"].clock, ("TH", "MY", "SG", "VN"))
    with vn.transaction() as s, pytest.raises(Conflict) as caught:
        offices.arrive(s, OFFICER, released, "VNHPH", context(vn))
    assert "VN is not on its itinerary" in caught.value.detail


def test_control_results_before_the_arrival_still_write_the_movement_off(
    nodes: dict[str, Node], released: str
) -> None:
    """After TH was down, SG's arrival (IE006) and control results (IE018) are retried each
    on its own schedule: the results may come first. Both apply, once, in either order."""
    th, sg = nodes["TH"], nodes["SG"]
    mrn = released
    with sg.transaction() as s:
        offices.arrive(s, OFFICER, mrn, "SGSIN", context(sg))
        offices.unload(s, OFFICER, mrn, Unloading(seals_intact=True), context(sg))
    with sg.transaction() as s:
        queued = s.scalars(
            select(OutgoingMessage).where(OutgoingMessage.status == "queued")
            .order_by(OutgoingMessage.created_at)
        ).all()  # fmt: skip
        batch = [(m.message_id, m.document_id, m.document) for m in queued]
    assert [d.rsplit("-", 2)[1] for _, d, _ in batch] == ["IE006", "IE018"]
    handler = handler_for("TRANSIT_EVENT")
    assert handler is not None
    for message_id, document_id, xml in reversed(batch):  # the results first
        incoming = Incoming(message_id, "SG", "TH", "TRANSIT_EVENT", document_id, 1,
                            documents.from_xml("TRANSIT_EVENT", xml), th.clock.now())  # fmt: skip
        with th.transaction() as s:
            handler(s, incoming)
    assert status(th, mrn) == ("departure", "discharged") and held(th, mrn) == "released"
    assert kinds(th, mrn) == ["IE029", "IE018", "IE045", "IE006"]
