"""The daily roll-up the dashboards read: a closed day's kept figures are the figures computed
from its declarations, and stay so when those declarations change after the day is over."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from onewindow.analytics.service import tables
from onewindow.declarations import service, statistics
from onewindow.declarations.context import context
from onewindow.declarations.models import DayFigure, RolledDay
from onewindow.declarations.schemas import DocumentCheck, InspectionFindings, Opening, Payment
from onewindow.declarations.statistics import Clearance, Period
from onewindow.kit.auth import SYSTEM
from onewindow.kit.clock import FixedClock
from onewindow.kit.node import Node
from onewindow.risk.service import create_profile

from .test_dashboard import OFFICER, declaration

DAY1 = datetime(2026, 11, 20, tzinfo=UTC)  # the node's clock starts on it, at 08:00
PERIOD = Period(DAY1 - timedelta(days=2), DAY1 + timedelta(days=3))


def live(node: Node, period: Period) -> statistics.Figures:
    """Every figure computed from the declarations, none read from the roll-up."""
    with node.transaction() as s:
        return statistics.figures(s, period, period.start.date())


def rolled(node: Node, period: Period) -> statistics.Figures:
    """As the dashboards get them: closed days brought up to date and read back."""
    today = node.clock.now().date()
    with node.transaction() as s:
        if statistics.stale(s, period, today):
            statistics.refresh(s, period, today)
    with node.transaction() as s:
        assert not statistics.stale(s, period, today)
        return statistics.figures(s, period, today)


def kept_days(node: Node) -> list[str]:
    with node.transaction() as s:
        return [d.isoformat() for d in s.scalars(select(RolledDay.day).order_by(RolledDay.day))]


def test_kept_days_add_up_to_the_declarations_and_follow_their_changes(
    node: Node, clock: FixedClock
) -> None:
    ctx = context(node)
    with node.transaction() as s:
        create_profile(s, name="laptops", lane="red", reason="undervalued", hs_prefix="8471")
        green = service.lodge(s, SYSTEM, [declaration() for _ in range(3)], ctx)
        red = service.lodge(s, SYSTEM, [declaration("VNSGN", "84713020") for _ in range(3)], ctx)
        due = service.get(s, SYSTEM, green[0]).total_due
        service.pay(s, SYSTEM, green[0], Payment(method="paid", reference="P1", amount=due), ctx)
    clock.advance(days=1)  # day 1 is over: its figures are kept when first asked for
    with node.transaction() as s:
        service.lodge(s, SYSTEM, [declaration("VNSGN")], ctx)
    first = rolled(node, PERIOD)
    assert first == live(node, PERIOD)
    assert first.lanes == {"green": 4, "red": 3} and first.hits_by_lane == {}
    assert kept_days(node) == ["2026-11-18", "2026-11-19", "2026-11-20"]  # today is not kept
    with node.transaction() as s:
        assert s.scalar(select(func.count()).select_from(DayFigure)) > 0

    # Day 2: officers inspect two of day 1's red declarations, one is released, a trader pays.
    with node.transaction() as s:
        for number, result in zip(red[:2], ("irregularity", "compliant"), strict=True):
            service.open_control(s, OFFICER, number, Opening(), ctx)
            service.record_inspection(s, OFFICER, number, InspectionFindings(result=result), ctx)
        paid = service.get(s, SYSTEM, red[1])
        pay = Payment(method="paid", reference="P2", amount=paid.total_due)
        service.pay(s, SYSTEM, red[1], pay, ctx)
        service.release(s, OFFICER, red[1], ctx)
    second = rolled(node, PERIOD)
    assert second == live(node, PERIOD)
    assert second != first
    assert second.hits_by_lane["red"] == statistics.Hits(controlled=2, hits=1)
    assert second.hits_by_source["profile laptops"].controlled == 2
    assert second.clearance["red"].released == 1
    assert sum(second.revenue.values()) == sum(first.revenue.values()) + paid.total_due

    # Day 3 begins: day 2 is kept too, and an office's figures are its own.
    clock.advance(days=1)
    assert rolled(node, PERIOD) == live(node, PERIOD)
    saigon = Period(PERIOD.start, PERIOD.end, "VNSGN")
    assert rolled(node, saigon) == live(node, saigon)
    assert rolled(node, saigon).lanes == {"green": 1, "red": 3}
    assert kept_days(node)[-1] == "2026-11-21"


def test_a_document_check_after_the_day_is_counted_on_the_dashboard(
    node: Node, clock: FixedClock
) -> None:
    """The same through the page's own path (analytics.service.tables)."""
    ctx = context(node)
    with node.transaction() as s:
        create_profile(s, name="phones", lane="yellow", reason="check", hs_prefix="8517")
        (number,) = service.lodge(s, SYSTEM, [declaration()], ctx)
    clock.advance(days=1)
    (before,) = tables(node, PERIOD, ["hits-by-lane"])
    assert before.rows == []
    with node.transaction() as s:
        service.open_control(s, OFFICER, number, Opening(), ctx)
        service.document_check(s, OFFICER, number, DocumentCheck(decision="accept"), ctx)
    (after,) = tables(node, PERIOD, ["hits-by-lane"])
    assert [row[:3] for row in after.rows] == [("yellow", 1, 0)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clearance_percentiles_are_within_their_bucket_of_the_exact_ones(seed: int) -> None:
    rng = random.Random(seed)
    times = sorted(rng.lognormvariate(9, 1.5) for _ in range(501))
    found = Clearance()
    for t in times:
        found.add(t)
    assert found.released == 501
    assert found.mean_s == pytest.approx(sum(times) / 501, abs=0.5)
    for q in (0.5, 0.9):
        exact = times[round(q * 500)]
        assert found.percentile(q) == pytest.approx(exact, rel=2 ** (1 / 32) - 1 + 1e-9)
    assert math.isclose(Clearance().percentile(0.5), 0.0)
