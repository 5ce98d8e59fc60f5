"""Customs control holds against the trader (issue 10, items 1 and 3): every amendment is
assessed for risk again and its channel never goes down; once an officer has acted the trader
may only ask; officers' corrections stick; only the declarant changes a declaration."""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from onewindow.declarations import service, workflow
from onewindow.declarations.context import context
from onewindow.declarations.readmodel import to_read
from onewindow.declarations.schemas import (
    AmendmentDecision,
    AmendmentRequestCreate,
    DeclarationCreate,
    DeclarationRead,
    DocumentCheck,
    InspectionFindings,
    Opening,
    Payment,
)
from onewindow.kit import i18n
from onewindow.kit.auth import SYSTEM, Principal, Role
from onewindow.kit.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OfficerActed,
)
from onewindow.kit.node import Node
from onewindow.risk import Opinion, Selectivity, Subject, Targets, create_profile
from onewindow.risk.lanes import lanes

OFFICER = Principal("officer1", Role.OFFICER)
TRADER = Principal("saigon", Role.TRADER, "0101234567")
BROKER = Principal("broker", Role.TRADER, "0300000001")
ORIGIN = Principal("moc", Role.ISSUING_AUTHORITY)
Doc = Callable[..., dict[str, Any]]
Lodge = Callable[..., DeclarationRead]


def act(node: Node, fn: Any, actor: Principal, number: str, *args: Any) -> DeclarationRead:
    with node.transaction() as s:
        decl = fn(s, actor, number, *args, context(node))
        s.flush()
        return to_read(service.get(s, SYSTEM, decl.number), SYSTEM)


def profile(node: Node, name: str, lane: str, **criteria: Any) -> None:
    with node.transaction() as s:
        create_profile(s, name=name, lane=lane, reason=f"{name} reason", **criteria)


def cigarettes(doc: Doc) -> dict[str, Any]:
    """The smartphone declaration turned into 500,000 cigarettes declared at USD 1."""
    changed = doc()
    changed["items"] = [
        {
            "hs_code": "24022020",
            "description": "Cigarettes",
            "origin": "TH",
            "quantity": "500000",
            "unit": "PCE",
            "net_mass_kg": "500",
            "gross_mass_kg": "600",
            "customs_value": "1.00",
        }
    ]
    return changed


def pay_due(node: Node, number: str, actor: Principal = TRADER) -> DeclarationRead:
    with node.transaction() as s:
        due = service.get(s, SYSTEM, number).total_due
    return act(node, service.pay, actor, number, Payment(method="paid", reference="P1", amount=due))


def test_phones_amended_to_cigarettes_are_not_waved_through(
    node: Node, doc: Doc, lodge: Lodge
) -> None:
    profile(node, "tobacco", "yellow", hs_prefix="2402")
    d = lodge(doc(), TRADER)
    assert (d.channel, d.status) == ("green", "awaiting_payment")
    amended = act(node, service.amend, TRADER, d.number, cigarettes(doc))
    assert amended.channel in ("yellow", "red")
    assert amended.status in ("document_check", "inspection")
    assert amended.risk is not None and any("tobacco" in r for r in amended.risk.reasons)
    with pytest.raises(InvalidTransition):  # not released on payment: an officer looks first
        pay_due(node, d.number)
    with node.transaction() as s:
        trail = service.history(s, SYSTEM, d.number)
    raised = [e for e in trail if e.action == f"declaration.channel_{amended.channel}"]
    assert raised[-1].from_status == "awaiting_payment"
    assert raised[-1].to_status == amended.status
    assert raised[-1].detail is not None and raised[-1].detail["from_channel"] == "green"


class Model:
    """A model that finds tobacco risky, with its version in the reasons as the real one."""

    def opinions(self, subjects: list[Subject]) -> list[Opinion]:
        return [
            Opinion(0.97, ("scored by model m-2", "HS 240220: +0.9"))
            if any(i.hs_code.startswith("2402") for i in s.items)
            else Opinion(0.01, ("scored by model m-2",))
            for s in subjects
        ]


def test_an_amendment_is_scored_again_by_the_active_model(
    node: Node, doc: Doc, lodge: Lodge
) -> None:
    lanes(node).selectivity = Selectivity(Targets(0.0, 0.0, 0.0), Model(), rng=random.Random(1))
    d = lodge(doc(), TRADER)
    assert d.risk is not None and d.risk.score == 0.01
    amended = act(node, service.amend, TRADER, d.number, cigarettes(doc))
    assert amended.risk is not None and amended.risk.score == 0.97
    assert "scored by model m-2" in amended.risk.reasons
    assert "HS 240220: +0.9" in amended.risk.reasons
    assert amended.risk.random is False
    with node.transaction() as s:
        amended_event = [e for e in service.history(s, SYSTEM, d.number)][-1]
    assert amended_event.action == "declaration.amended"
    assert amended_event.detail is not None
    assert amended_event.detail["risk"]["before"]["score"] == 0.01
    assert amended_event.detail["risk"]["after"]["score"] == 0.97


def test_the_channel_never_goes_down_on_amendment(node: Node, doc: Doc, lodge: Lodge) -> None:
    profile(node, "phones", "yellow", hs_prefix="8517")
    d = lodge(doc(), TRADER)
    assert (d.channel, d.status) == ("yellow", "document_check")
    laptops = doc()
    laptops["items"][0] |= {"hs_code": "84713020", "description": "Laptops"}
    del laptops["items"][0]["preference"]
    amended = act(node, service.amend, TRADER, d.number, laptops)
    assert (amended.channel, amended.status) == ("yellow", "document_check")
    assert amended.risk is not None and "never goes down" in amended.risk.reasons[0]


def test_once_an_officer_takes_it_in_hand_the_trader_may_only_ask(
    node: Node, doc: Doc, lodge: Lodge
) -> None:
    profile(node, "phones", "yellow", hs_prefix="8517")
    d = lodge(doc(), TRADER)
    cheaper = doc()
    cheaper["items"][0]["customs_value"] = "19000.00"
    assert act(node, service.amend, TRADER, d.number, cheaper).version == 2  # not yet acted
    with pytest.raises(Forbidden):  # a trader does not open checks
        act(node, service.open_control, TRADER, d.number, Opening())
    opened = act(node, service.open_control, OFFICER, d.number, Opening(note="papers"))
    assert opened.status == "document_check"
    assert [(c.kind, c.result, c.officer) for c in opened.controls] == [
        ("opened", "document_check", "officer1")
    ]
    with pytest.raises(Conflict):
        act(node, service.open_control, OFFICER, d.number, Opening())
    with pytest.raises(OfficerActed) as refused:
        act(node, service.amend, TRADER, d.number, doc())
    assert refused.value.code == "officer_acted" and "amendment request" in refused.value.detail
    with pytest.raises(OfficerActed):
        act(
            node,
            service.cancel,
            TRADER,
            d.number,
            service.Cancellation(reason="changed my mind"),
        )
    with node.transaction() as s:
        actions = [e.action for e in service.history(s, SYSTEM, d.number)]
    assert "declaration.document_check_opened" in actions


def test_the_lock_outlives_the_status(node: Node, doc: Doc, lodge: Lodge) -> None:
    """Acted is what is on record, not a status: a check accepted and the duty paid later,
    the trader is still locked out (payment does not reopen amendment)."""
    profile(node, "phones", "yellow", hs_prefix="8517")
    d = lodge(doc(), TRADER)
    act(node, service.document_check, OFFICER, d.number, DocumentCheck(decision="accept"))
    with pytest.raises(OfficerActed):
        act(node, service.amend, TRADER, d.number, doc())


def _inspected(node: Node, doc: Doc, lodge: Lodge) -> DeclarationRead:
    """A yellow declaration sent to inspection, its value corrected up by the officer."""
    profile(node, "phones", "yellow", hs_prefix="8517")
    d = lodge(doc(), TRADER)
    act(node, service.document_check, OFFICER, d.number, DocumentCheck(decision="inspect"))
    findings = InspectionFindings.model_validate(
        {
            "result": "irregularity",
            "corrections": [{"item": 1, "field": "customs_value", "value": "30000.00"}],
        }
    )
    return act(node, service.record_inspection, OFFICER, d.number, findings)


def test_a_corrected_value_sticks(node: Node, doc: Doc, lodge: Lodge) -> None:
    after = _inspected(node, doc, lodge)
    due = after.totals["total_due"]
    back_down = doc()  # the value as first declared: 20000.00
    with pytest.raises(OfficerActed):  # the trader directly
        act(node, service.amend, TRADER, after.number, back_down)
    with pytest.raises(InvalidInput) as direct:  # an official directly
        act(node, service.amend, OFFICER, after.number, back_down)
    assert direct.value.errors[0].path == "items.0.customs_value"
    assert direct.value.errors[0].code == "corrected_by_officer"
    with node.transaction() as s, pytest.raises(InvalidInput) as asked:  # by request
        service.request_amendment(
            s,
            TRADER,
            after.number,
            AmendmentRequestCreate(reason="typo", document=DeclarationCreate(**back_down)),
            context(node),
        )
    assert asked.value.errors[0].path == "document.items.0.customs_value"
    dropped = doc(items=[])
    dropped["items"] = [cigarettes(doc)["items"][0], cigarettes(doc)["items"][0]]
    with pytest.raises(InvalidInput):  # another item in the corrected one's place
        act(node, service.amend, OFFICER, after.number, dropped)
    with node.transaction() as s:
        now = service.get(s, SYSTEM, after.number)
        assert now.total_due == due and now.version == after.version


def test_an_accepted_request_applies_the_amendment_and_keeps_the_correction(
    node: Node, doc: Doc, lodge: Lodge
) -> None:
    after = _inspected(node, doc, lodge)
    kept = doc()
    kept["items"][0] |= {"customs_value": "30000", "description": "Smartphones, 128 GB"}
    asked = AmendmentRequestCreate(reason="description", document=DeclarationCreate(**kept))
    with node.transaction() as s:
        request = service.request_amendment(s, TRADER, after.number, asked, context(node))
        request_id = request.id
        assert request.status == "pending" and request.version == after.version
    with node.transaction() as s, pytest.raises(Conflict):  # one pending request at a time
        service.request_amendment(s, TRADER, after.number, asked, context(node))
    with node.transaction() as s, pytest.raises(Forbidden):  # traders do not decide
        service.decide_amendment(
            s, TRADER, after.number, request_id, AmendmentDecision(decision="accept"), context(node)
        )
    with node.transaction() as s:
        decided = service.decide_amendment(
            s,
            OFFICER,
            after.number,
            request_id,
            AmendmentDecision(decision="accept", note="ok"),
            context(node),
        )
        assert (decided.status, decided.decided_by) == ("accepted", "officer1")
    with node.transaction() as s, pytest.raises(Conflict):
        service.decide_amendment(
            s,
            OFFICER,
            after.number,
            request_id,
            AmendmentDecision(decision="refuse", note="x"),
            context(node),
        )
    with node.transaction() as s:
        decl = service.get(s, SYSTEM, after.number)
        assert decl.items[0].description == "Smartphones, 128 GB"
        assert decl.total_due == after.totals["total_due"] and decl.version == after.version + 1
        assert [r.status for r in service.requests(s, TRADER, after.number)] == ["accepted"]
        actions = [e.action for e in service.history(s, SYSTEM, after.number)]
    assert actions[-3:] == [
        "declaration.amendment_requested",
        "declaration.amended",
        "declaration.amendment_accepted",
    ]


def test_a_refusal_needs_a_note_and_changes_nothing(node: Node, doc: Doc, lodge: Lodge) -> None:
    after = _inspected(node, doc, lodge)
    kept = doc()
    kept["items"][0]["customs_value"] = "30000.00"
    kept["items"][0]["quantity"] = "90"
    with node.transaction() as s:
        request_id = service.request_amendment(
            s,
            TRADER,
            after.number,
            AmendmentRequestCreate(reason="short", document=DeclarationCreate(**kept)),
            context(node),
        ).id
    with node.transaction() as s, pytest.raises(InvalidInput) as bare:
        service.decide_amendment(
            s,
            OFFICER,
            after.number,
            request_id,
            AmendmentDecision(decision="refuse"),
            context(node),
        )
    assert bare.value.errors[0].path == "note"
    with node.transaction() as s:
        service.decide_amendment(
            s,
            OFFICER,
            after.number,
            request_id,
            AmendmentDecision(decision="refuse", note="the count was verified"),
            context(node),
        )
    with node.transaction() as s:
        decl = service.get(s, SYSTEM, after.number)
        assert decl.items[0].quantity == Decimal(100) and decl.version == after.version
    with node.transaction() as s, pytest.raises(NotFound):
        service.decide_amendment(
            s, OFFICER, after.number, 999, AmendmentDecision(decision="accept"), context(node)
        )


def broker_doc(doc: Doc) -> dict[str, Any]:
    """Lodged by a customs broker for the importer 0101234567."""
    return doc(declarant={"id": BROKER.party_id, "name": "Hai Phong Brokers"})


def test_only_the_declarant_changes_a_declaration(node: Node, doc: Doc, lodge: Lodge) -> None:
    d = lodge(broker_doc(doc), BROKER)
    with node.transaction() as s:  # the importer may read it
        assert service.get(s, TRADER, d.number).number == d.number
    takeover = doc()  # names the importer as declarant
    with pytest.raises(Forbidden):
        act(node, service.amend, TRADER, d.number, takeover)
    with pytest.raises(Forbidden):
        act(node, service.cancel, TRADER, d.number, service.Cancellation(reason="mine"))
    with node.transaction() as s, pytest.raises(Forbidden):
        service.request_amendment(
            s,
            TRADER,
            d.number,
            AmendmentRequestCreate(reason="mine", document=DeclarationCreate(**takeover)),
            context(node),
        )
    for actor in (BROKER, OFFICER):  # nobody changes the declarant by amendment
        with pytest.raises(InvalidInput) as changed:
            act(node, service.amend, actor, d.number, takeover)
        assert [(e.path, e.code) for e in changed.value.errors] == [("declarant.id", "immutable")]
    with node.transaction() as s:
        assert service.get(s, SYSTEM, d.number).declarant_id == BROKER.party_id
    assert act(node, service.amend, BROKER, d.number, broker_doc(doc)).version == 2


def test_the_issuing_authority_has_no_business_with_declarations(
    node: Node, doc: Doc, lodge: Lodge
) -> None:
    d = lodge(doc(), TRADER)
    with node.transaction() as s, pytest.raises(Forbidden):
        service.lodge(s, ORIGIN, [doc()], context(node))
    with node.transaction() as s:
        for read in (
            lambda: service.get(s, ORIGIN, d.number),
            lambda: service.history(s, ORIGIN, d.number),
            lambda: service.search(
                s, ORIGIN, status=None, channel=None, type_=None, office=None, limit=5, offset=0
            ),
            lambda: service.clearance(s, ORIGIN, node.clock.now(), node.clock.now()),
        ):
            with pytest.raises(Forbidden):
                read()
        with pytest.raises(Forbidden):
            service.clearance(s, TRADER, node.clock.now(), node.clock.now())


def test_an_acdd_is_cancelled_by_officials_only(
    nodes: dict[str, Node], relay: Callable[[str, str], list[str]], doc: Doc
) -> None:
    vn = nodes["VN"]
    export = doc(
        type="EX",
        country_of_export="VN",
        country_of_destination="TH",
        exporter={"id": "0101234567", "name": "Saigon Logistics JSC", "country": "VN"},
        importer={"name": "Bangkok Retail Co.", "address": "1 Silom Road", "country": "TH"},
        transport={"mode": "1", "departure_date": "2026-11-10", "port_of_discharge": "THLCH"},
    )
    del export["items"][0]["preference"]
    with vn.transaction() as s:
        number = service.lodge(s, TRADER, [export], context(vn))[0]
    assert relay("VN", "TH") == ["ACDD"]
    with vn.transaction() as s, pytest.raises(Forbidden):
        service.cancel_acdd(s, TRADER, number, "split", vn.clock.now())
    assert relay("VN", "TH") == []
    with vn.transaction() as s:
        service.cancel_acdd(s, OFFICER, number, "split", vn.clock.now())
        assert service.history(s, SYSTEM, number)[-1].action == "declaration.acdd_cancelled"
    assert relay("VN", "TH") == ["ACDD_CANCELLATION"]


@pytest.mark.parametrize("action", sorted(workflow.ACTIONS))
def test_refusals_read_as_english(action: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        workflow.check(action, "cancelled")
    message = refused.value.detail
    assert message.startswith("cannot ") and " a declaration that is cancelled; " in message
    assert "_" not in message.split(";")[0]  # no `document_check`, `inspection` as verbs


def test_the_inspection_refusal_says_what_was_refused() -> None:
    with pytest.raises(InvalidTransition) as refused:
        workflow.check("inspection", "released")
    assert refused.value.detail == (
        "cannot record inspection findings on a declaration that is released; "
        "allowed when it is inspection"
    )
    i18n.use("vi")  # a page translates it, the action's words with it
    try:
        assert i18n.gettext(refused.value.detail) == (
            "không thể ghi kết quả kiểm tra thực tế của tờ khai đang ở trạng thái released; "
            "chỉ được khi tờ khai ở trạng thái inspection"
        )
    finally:
        i18n.use("en")
