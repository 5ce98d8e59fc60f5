from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.readmodel import clearance_report, to_read
from onewindow.declarations.repository import released_between
from onewindow.declarations.schemas import (
    Cancellation,
    DocumentCheck,
    InspectionFindings,
    Payment,
)
from onewindow.kit.auth import SYSTEM, Principal, Role
from onewindow.kit.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from onewindow.kit.node import Node
from onewindow.risk import Selectivity, Targets, create_profile
from onewindow.risk.lanes import lanes as lanes_of

OFFICER = Principal("officer1", Role.OFFICER)
TRADER = Principal("saigon", Role.TRADER, "0101234567")
OTHER = Principal("hanoi", Role.TRADER, "0309999999")
Doc = Callable[..., dict[str, Any]]


def act(node: Node, fn: Any, actor: Principal, number: str, *args: Any) -> Any:
    with node.transaction() as s:
        decl = fn(s, actor, number, *args, context(node))
        s.flush()
        return to_read(service.get(s, SYSTEM, decl.number), SYSTEM)


def red_profile(node: Node) -> None:
    with node.transaction() as s:
        create_profile(
            s,
            name="phones-th",
            lane="red",
            hs_prefix="8517",
            origin="TH",
            reason="undervaluation of phones from TH",
        )


def test_green_declaration_is_released_when_paid(node: Node, doc: Doc, lodge: Any) -> None:
    d = lodge(doc(), TRADER)
    assert (d.channel, d.status) == ("green", "awaiting_payment")
    with pytest.raises(InvalidTransition):  # release before payment
        act(node, service.release, OFFICER, d.number)
    with pytest.raises(InvalidInput) as wrong:
        act(
            node,
            service.pay,
            TRADER,
            d.number,
            Payment(method="paid", reference="P1", amount=Decimal(1)),
        )
    assert wrong.value.errors[0].code == "wrong_amount"
    node.clock.advance(seconds=2)  # type: ignore[attr-defined]
    paid = act(
        node,
        service.pay,
        TRADER,
        d.number,
        Payment(method="paid", reference="P1", amount=d.totals["total_due"]),
    )
    assert paid.status == "released" and paid.clearance_seconds == 2.0


def test_red_inspection_with_corrections_reassesses_duty(node: Node, doc: Doc, lodge: Any) -> None:
    red_profile(node)
    d = lodge(doc(), TRADER)
    assert (d.channel, d.status) == ("red", "inspection")
    assert any("phones-th" in r for r in d.risk.reasons)
    with pytest.raises(Forbidden):  # traders do not record findings
        act(
            node,
            service.record_inspection,
            TRADER,
            d.number,
            InspectionFindings(result="compliant"),
        )
    findings = InspectionFindings.model_validate(
        {
            "result": "irregularity",
            "note": "invoice undervalued",
            "corrections": [{"item": 1, "field": "customs_value", "value": "30000.00"}],
        }
    )
    after = act(node, service.record_inspection, OFFICER, d.number, findings)
    assert after.status == "awaiting_payment" and after.version == 2
    assert after.totals["customs_value"] == Decimal(790_500_000)
    assert after.totals["total_due"] > d.totals["total_due"]
    assert after.controls[0].result == "irregularity"
    with node.transaction() as s:
        control = service.get(s, SYSTEM, d.number).controls[0]
        assert control.detail is not None
        assert control.detail["declared"] == [
            {"item": 1, "field": "customs_value", "value": "20000.00"}
        ]
    paid = act(
        node,
        service.pay,
        TRADER,
        d.number,
        Payment(method="guarantee", reference="G1", amount=Decimal(10**9)),
    )
    assert paid.status == "paid"  # red needs an officer's release
    released = act(node, service.release, OFFICER, d.number)
    assert released.status == "released"
    with node.transaction() as s:
        trail = [(e.action, e.actor) for e in service.history(s, SYSTEM, d.number)]
    assert ("declaration.inspection_irregularity", "officer1") in trail
    assert trail[-1] == ("declaration.released", "officer1")


def test_yellow_document_check_can_send_to_inspection(node: Node, doc: Doc, lodge: Any) -> None:
    with node.transaction() as s:
        create_profile(s, name="all-th", lane="yellow", origin="TH", reason="check TH papers")
    d = lodge(doc())
    assert (d.channel, d.status) == ("yellow", "document_check")
    escalated = act(
        node, service.document_check, OFFICER, d.number, DocumentCheck(decision="inspect")
    )
    assert escalated.status == "inspection"


def test_amend_then_cancel_before_payment_but_not_after_release(
    node: Node, doc: Doc, lodge: Any
) -> None:
    d = lodge(doc(), TRADER)
    changed = doc()
    changed["items"][0]["customs_value"] = "10000.00"
    amended = act(node, service.amend, TRADER, d.number, changed)
    assert amended.version == 2 and amended.totals["customs_value"] == Decimal(263_500_000)
    cancelled = act(node, service.cancel, TRADER, d.number, Cancellation(reason="duplicate"))
    assert cancelled.status == "cancelled"
    with pytest.raises(InvalidTransition):
        act(node, service.cancel, TRADER, d.number, Cancellation(reason="again"))


def test_a_trader_cannot_see_or_touch_another_traders_declaration(
    node: Node, doc: Doc, lodge: Any
) -> None:
    d = lodge(doc(), TRADER)
    with node.transaction() as s, pytest.raises(NotFound):
        service.get(s, OTHER, d.number)
    with pytest.raises(NotFound):
        act(node, service.cancel, OTHER, d.number, Cancellation(reason="mine now"))
    with node.transaction() as s:
        assert (
            service.search(
                s, OTHER, status=None, channel=None, type_=None, office=None, limit=10, offset=0
            )
            == []
        )
    with pytest.raises(Forbidden), node.transaction() as s:
        service.lodge(s, OTHER, [doc()], context(node))  # declarant is not hanoi's party


def test_clearance_report_per_channel(node: Node, doc: Doc, lodge: Any) -> None:
    export = doc(
        type="EX",
        country_of_export="VN",
        country_of_destination="SG",
        exporter={"id": "0101234567", "name": "Saigon Logistics", "country": "VN"},
        transport={"mode": "1", "departure_date": "2026-11-20"},
    )
    del export["items"][0]["preference"]
    lodge(export)
    with node.transaction() as s:
        now = node.clock.now()
        report = clearance_report(released_between(s, now.replace(year=2025), now))
    assert report["green"]["released"] == 1 and report["green"]["p50_s"] == 0.0


def test_target_rates_hold_with_random_share(node: Node, doc: Doc) -> None:
    """With 20 % red, 30 % yellow and half of the picks random, rates land near the targets."""

    class Scores:
        def __init__(self) -> None:
            self.rng = random.Random(3)

        def score(self, subjects: list[Any]) -> list[float]:
            return [self.rng.random() for _ in subjects]

    lanes_of(node).selectivity = Selectivity(Targets(0.2, 0.3, 0.5), Scores(), rng=random.Random(5))
    with node.transaction() as s:
        numbers = service.lodge(s, SYSTEM, [doc() for _ in range(1000)], context(node))
        lanes = [service.get(s, SYSTEM, n).channel for n in numbers]
    assert 0.15 < lanes.count("red") / 1000 < 0.25
    assert 0.24 < lanes.count("yellow") / 1000 < 0.36
