from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest
from sqlalchemy import func, select

from onewindow.declarations import service, to_read
from onewindow.declarations.context import context
from onewindow.declarations.models import Declaration, PreArrival
from onewindow.exchange.handlers import Incoming, handler_for
from onewindow.kit.auth import SYSTEM
from onewindow.kit.errors import InvalidInput
from onewindow.kit.node import Node
from onewindow.ledger import prove

DATA = resources.files("onewindow") / "data"
BASE: dict[str, Any] = json.loads((DATA / "sample_declaration.json").read_text())
Relay = Callable[[str, str], list[str]]


def export_vn_to_th() -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    del doc["items"][0]["preference"]
    doc |= {
        "type": "EX",
        "office": "VNHPH",
        "country_of_export": "VN",
        "country_of_destination": "TH",
        "exporter": {"id": "0101234567", "name": "Saigon Logistics JSC", "country": "VN"},
        "importer": {
            "name": "Bangkok Retail Co.",
            "address": "1 Silom Road, Bangkok",
            "country": "TH",
        },
        "transport": {"mode": "1", "departure_date": "2026-11-10", "port_of_discharge": "THLCH"},
    }
    return doc


def import_at_th(consignee: str = "Bangkok Retail Co.") -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    del doc["items"][0]["preference"]
    doc |= {
        "office": "THLCH",
        "country_of_export": "VN",
        "declarant": {"id": "TH0105", "name": consignee},
        "importer": {"id": "TH0105", "name": consignee, "country": "TH"},
        "exporter": {"name": "Saigon Logistics JSC", "country": "VN"},
    }
    doc["items"][0]["origin"] = "VN"
    return doc


def lodge(node: Node, doc: dict[str, Any]) -> Any:
    with node.transaction() as s:
        number = service.lodge(s, SYSTEM, [doc], context(node))[0]
        return to_read(service.get(s, SYSTEM, number), SYSTEM)


def test_released_export_sends_acdd_matched_at_import(nodes: dict[str, Node], relay: Relay) -> None:
    vn, th = nodes["VN"], nodes["TH"]
    export = lodge(vn, export_vn_to_th())
    assert export.status == "released"  # green, nothing due: cleared at lodging
    assert relay("VN", "TH") == ["ACDD"]
    with vn.transaction() as s:
        assert prove(s, export.number).entry.kind == "issued"
    with th.transaction() as s:
        assert prove(s, export.number).entry.kind == "received"
        pre = s.scalars(select(PreArrival)).one()
        assert (pre.export_declaration, pre.status) == (export.number, "received")
        assert pre.document["items"][0]["hs_code"] == "85171300"

    unrelated = lodge(th, import_at_th(consignee="Someone Else Ltd"))
    matched = lodge(th, import_at_th())
    # the read model (API and `declaration show`) says so too
    assert (unrelated.pre_arrival, matched.pre_arrival) == (None, f"VN:{export.number}")
    with th.transaction() as s:
        assert service.get(s, SYSTEM, unrelated.number).pre_arrival is None
        assert service.get(s, SYSTEM, matched.number).pre_arrival == f"VN:{export.number}"
        assert s.scalars(select(PreArrival)).one().import_declaration == matched.number
    assert relay("TH", "VN") == ["ACDD_RESPONSE"]


def test_acdd_cancellation_marks_the_pre_arrival(nodes: dict[str, Node], relay: Relay) -> None:
    vn, th = nodes["VN"], nodes["TH"]
    export = lodge(vn, export_vn_to_th())
    relay("VN", "TH")
    with vn.transaction() as s:
        decl = service.get(s, SYSTEM, export.number)
        service.acdd.cancel(s, decl, "shipment split", vn.clock.now())
    assert relay("VN", "TH") == ["ACDD_CANCELLATION"]
    with th.transaction() as s:
        assert s.scalars(select(PreArrival)).one().status == "cancelled"
    assert lodge(th, import_at_th()).number  # lodged, but nothing to match any more
    with th.transaction() as s:
        assert s.scalars(select(PreArrival)).one().import_declaration is None


def test_export_to_a_country_outside_the_federation_sends_nothing(
    nodes: dict[str, Node], relay: Relay
) -> None:
    doc = export_vn_to_th()
    doc["country_of_destination"] = "JP"
    doc["importer"]["country"] = "JP"
    lodge(nodes["VN"], doc)
    assert relay("VN", "TH") == []


def test_only_the_destination_answers_an_acdd(nodes: dict[str, Node]) -> None:
    """The gateway lets a response to an ACDD through to its issuer; whether it comes from
    the country the ACDD went to is the domain's to say."""
    vn = nodes["VN"]
    export = lodge(vn, export_vn_to_th())
    payload = {"declaration_id": export.number, "country": "SG", "issued_at": vn.clock.now(),
               "status": "matched", "import_declaration_id": "SGSIN-2026-0000001"}  # fmt: skip
    incoming = Incoming("m-1", "SG", "VN", "ACDD_RESPONSE", f"{export.number}/response", 1,
                        payload, vn.clock.now())  # fmt: skip
    handler = handler_for("ACDD_RESPONSE")
    assert handler is not None
    with pytest.raises(InvalidInput) as refused, vn.transaction() as s:
        handler(s, incoming)
    assert [(e.code, e.path) for e in refused.value.errors] == [("not_destination", "country")]
    with vn.transaction() as s:  # from TH, where it went: taken
        handler(s, replace(incoming, sender="TH", payload=payload | {"country": "TH"}))


def test_an_export_to_a_partner_must_carry_what_its_acdd_needs(nodes: dict[str, Node]) -> None:
    """Release sends the ACDD: an export without its mandatory fields is refused at lodging
    (it was stored, then release failed with a 500), and the same export to a country the
    node does not exchange with is not held to them."""
    vn = nodes["VN"]
    doc = export_vn_to_th()
    del doc["importer"]["address"], doc["transport"]["port_of_discharge"]
    with pytest.raises(InvalidInput) as refused:
        lodge(vn, doc)
    paths = [(e.path, e.code) for e in refused.value.errors]
    assert paths == [
        ("importer.address", "required_for_acdd"),
        ("transport.port_of_discharge", "required_for_acdd"),
    ]
    with vn.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Declaration)) == 0  # nothing stored
    elsewhere = lodge(vn, doc | {"country_of_destination": "LA"})
    assert elsewhere.status == "released"
