from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from sqlalchemy import select

from onewindow.declarations import service, to_read
from onewindow.declarations.context import context
from onewindow.exchange import documents
from onewindow.exchange.handlers import Incoming, handler_for
from onewindow.exchange.models import OutgoingMessage
from onewindow.kit.auth import SYSTEM, Principal, Role
from onewindow.kit.errors import Forbidden, InvalidInput, InvalidTransition
from onewindow.kit.node import Node
from onewindow.ledger import prove
from onewindow.origin import get_certificate, issuing, receiving
from onewindow.origin.models import VerificationRequest

DATA = resources.files("onewindow") / "data"
APPLICATION: dict[str, Any] = json.loads((DATA / "sample_form_d_application.json").read_text())
DECLARATION: dict[str, Any] = json.loads((DATA / "sample_declaration.json").read_text())
AUTHORITY = Principal("moc-th", Role.ISSUING_AUTHORITY)
EXPORTER = Principal("siam", Role.TRADER, "0105551234567")
Relay = Callable[[str, str], list[str]]


def issue(node: Node, application: dict[str, Any] | None = None) -> str:
    s_ = node.settings
    with node.transaction() as s:
        cert = issuing.issue(
            s,
            AUTHORITY,
            application or copy.deepcopy(APPLICATION),
            issuer=issuing.Issuer.of(s_),
            now=node.clock.now(),
        )
        return cert.reference


def lodge_import(node: Node, reference: str, quantity: str = "100") -> Any:
    doc = copy.deepcopy(DECLARATION)
    doc["items"][0]["preference"]["certificate"] = reference
    doc["items"][0]["quantity"] = quantity
    doc["transport"]["arrival_date"] = "2026-11-20"
    with node.transaction() as s:
        number = service.lodge(s, SYSTEM, [doc], context(node))[0]
        return to_read(service.get(s, SYSTEM, number), SYSTEM)


def sent_to_vn(th: Node, relay: Relay) -> str:
    """A Form D issued at TH, transmitted by its exporter and received at VN."""
    reference = issue(th)
    with th.transaction() as s:
        issuing.transmit(s, EXPORTER, reference, now=th.clock.now())
    relay("TH", "VN")
    return reference


def test_issue_transmit_receive_utilise_and_status_back_at_issuer(
    nodes: dict[str, Node], relay: Relay
) -> None:
    th, vn = nodes["TH"], nodes["VN"]
    reference = issue(th)
    assert reference == "TH-2026-000001"
    with th.transaction() as s:
        assert prove(s, reference).entry.kind == "issued"  # in the issuer's log
        with pytest.raises(Forbidden):  # only the exporter of box 1 authorises transmission
            issuing.transmit(
                s, Principal("other", Role.TRADER, "999"), reference, now=th.clock.now()
            )
    with th.transaction() as s:
        issuing.transmit(s, EXPORTER, reference, now=th.clock.now())
    assert relay("TH", "VN") == ["FORM_D"]
    with vn.transaction() as s:
        cert = get_certificate(s, reference)
        assert cert is not None and (cert.source, cert.status) == ("exchange", "received")
        assert prove(s, reference).entry.kind == "received"

    d = lodge_import(vn, reference)
    assert d.items[0].preference_granted and d.items[0].taxes[0].rate_kind == "ATIGA"
    assert relay("VN", "TH") == ["FORM_D_STATUS"]
    with th.transaction() as s:
        cert = issuing.issued(s, reference)
        assert cert.status == "utilised" and cert.items[0].used_quantity == Decimal(100)
        # Both sides log the notice: VN issued it, TH received it.
        assert prove(s, f"{reference}/{d.number}").entry.kind == "received"
    with vn.transaction() as s:
        assert prove(s, f"{reference}/{d.number}").entry.kind == "issued"

    # 300 on the certificate: 100 used, 250 more is too much; the issuer hears it was refused.
    refused = lodge_import(vn, reference, quantity="250")
    assert not refused.items[0].preference_granted
    assert "quantity exceeds" in (refused.items[0].preference_reason or "")
    relay("VN", "TH")
    with th.transaction() as s:
        assert issuing.issued(s, reference).status == "utilised"  # utilised stays


def test_a_claim_by_another_importer_is_refused_and_reported(
    nodes: dict[str, Node], relay: Relay
) -> None:
    th, vn = nodes["TH"], nodes["VN"]
    reference = sent_to_vn(th, relay)
    doc = copy.deepcopy(DECLARATION)
    doc["items"][0]["preference"]["certificate"] = reference
    doc["importer"]["id"] = doc["declarant"]["id"] = "0309999999"
    with vn.transaction() as s:
        number = service.lodge(s, SYSTEM, [doc], context(vn))[0]
        d = to_read(service.get(s, SYSTEM, number), SYSTEM)
    assert "another importer" in (d.items[0].preference_reason or "")
    relay("VN", "TH")
    with th.transaction() as s:
        cert = issuing.issued(s, reference)
        assert cert.status == "rejected" and "another importer" in (cert.status_reason or "")


def test_cancelled_certificate_is_refused_at_import(nodes: dict[str, Node], relay: Relay) -> None:
    th, vn = nodes["TH"], nodes["VN"]
    reference = sent_to_vn(th, relay)
    with th.transaction() as s:
        issuing.cancel(
            s, AUTHORITY, reference, "exporter withdrew the application", now=th.clock.now()
        )
        assert prove(s, reference).entry.kind == "revoked"
    with th.transaction() as s, pytest.raises(InvalidTransition):
        issuing.cancel(s, AUTHORITY, reference, "again", now=th.clock.now())
    assert relay("TH", "VN") == ["FORM_D_STATUS"]
    d = lodge_import(vn, reference)
    assert not d.items[0].preference_granted and "cancelled" in (d.items[0].preference_reason or "")


def test_replacement_and_verification_request(nodes: dict[str, Node], relay: Relay) -> None:
    th, vn = nodes["TH"], nodes["VN"]
    reference = sent_to_vn(th, relay)
    with vn.transaction() as s:
        request = receiving.request_verification(
            s, SYSTEM, reference, "RVC looks high", country="VN", authority="VN customs",
            now=vn.clock.now(),
        )  # fmt: skip
        request_id = request.request_id
    assert relay("VN", "TH") == ["FORM_D_VERIFICATION_REQUEST"]
    with th.transaction() as s:
        receiving.answer_verification(
            s, AUTHORITY, request_id, "confirmed", "cost sheets checked", authority="MOC",
            now=th.clock.now(),
        )  # fmt: skip
    relay("TH", "VN")
    with vn.transaction() as s:
        found = receiving.VerificationRequest
        assert s.query(found).filter_by(request_id=request_id).one().status == "confirmed"

    corrected = copy.deepcopy(APPLICATION)
    corrected["items"][0]["quantity"] = "280"
    with th.transaction() as s:
        new = issuing.replace(
            s,
            AUTHORITY,
            reference,
            corrected,
            issuer=issuing.Issuer("TH", "MOC", "Bangkok"),
            now=th.clock.now(),
        )
        assert new.reference == "TH-2026-000002"
    relay("TH", "VN")
    with vn.transaction() as s:
        old = get_certificate(s, reference)
        assert old is not None and (old.status, old.replaced_by) == ("replaced", "TH-2026-000002")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda a: a["items"][0].update(origin_criterion="PC 45%"), "items[0].origin_criterion"),
        (
            lambda a: [a["items"][0].pop(k) for k in ("fob_value", "fob_currency")],
            "items[0].fob_value",
        ),
        (lambda a: a["exporter"].update(country="VN"), "exporter.country"),
        (lambda a: a.pop("consignee"), "consignee"),
        (lambda a: a["transport"].update(departure_date="2024-01-01"), "certification.issue_date"),
    ],
)
def test_bad_applications_name_the_field_and_issue_nothing(
    nodes: dict[str, Node], change: Callable[[dict[str, Any]], Any], path: str
) -> None:
    application = copy.deepcopy(APPLICATION)
    change(application)
    with pytest.raises(InvalidInput) as caught:
        issue(nodes["TH"], application)
    assert path in {e.path for e in caught.value.errors}, caught.value.errors
    with nodes["TH"].transaction() as s:
        assert issuing.certificates(s) == []


def test_only_the_issuing_authority_issues(nodes: dict[str, Node]) -> None:
    th = nodes["TH"]
    with th.transaction() as s, pytest.raises(Forbidden):
        issuing.issue(
            s,
            EXPORTER,
            copy.deepcopy(APPLICATION),
            issuer=issuing.Issuer("TH", "MOC", "Bangkok"),
            now=th.clock.now(),
        )


def test_a_new_version_replaces_the_items_and_keeps_their_use(
    nodes: dict[str, Node], relay: Relay
) -> None:
    th, vn = nodes["TH"], nodes["VN"]
    reference = sent_to_vn(th, relay)
    with th.transaction() as s:
        xml = s.scalars(select(OutgoingMessage.document)).one()
    lodge_import(vn, reference)  # uses 100 of item 1
    payload = documents.from_xml("FORM_D", xml)
    payload["items"][0]["description"] = "Smartphones, corrected description"
    handler = handler_for("FORM_D")
    assert handler is not None
    message = Incoming("m-2", "TH", "VN", "FORM_D", reference, 2, payload, vn.clock.now())
    with vn.transaction() as s:
        handler(s, message)
    with vn.transaction() as s:
        cert = get_certificate(s, reference)
        assert cert is not None and cert.version == 2
        assert [(i.item_number, i.description, i.used_quantity) for i in cert.items] == [
            (1, "Smartphones, corrected description", Decimal(100))
        ]


def test_only_the_importing_country_asks_for_verification(
    nodes: dict[str, Node], relay: Relay
) -> None:
    """At the issuer, a request about a certificate that went to VN, from SG: refused."""
    th = nodes["TH"]
    reference = sent_to_vn(th, relay)
    payload = {"request_id": "0b9e4c1e-6f0a-4c59-9d34-1c8f1a3b2c77", "reference": reference,
               "country": "SG", "authority": "Singapore Customs", "issued_at": th.clock.now(),
               "reasons": [{"code": "verification", "text": "curious"}]}  # fmt: skip
    incoming = Incoming("m-1", "SG", "TH", "FORM_D_VERIFICATION_REQUEST", payload["request_id"],
                        1, payload, th.clock.now())  # fmt: skip
    handler = handler_for("FORM_D_VERIFICATION_REQUEST")
    assert handler is not None
    with pytest.raises(InvalidInput) as refused, th.transaction() as s:
        handler(s, incoming)
    assert [e.code for e in refused.value.errors] == ["not_importing_country"]
    with th.transaction() as s:
        assert s.scalars(select(VerificationRequest)).all() == []
