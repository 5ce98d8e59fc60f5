"""The dashboards' figures: each chart a table (its columns and rows), for a period and an
office. The charts, the tables and the CSV downloads are drawn from the same rows, and the
declarations' rows from declarations.statistics' daily roll-up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from onewindow import exchange
from onewindow.declarations import statistics
from onewindow.declarations.statistics import LANES, Clearance, Figures, Hits, Period
from onewindow.kit.db import write_transaction
from onewindow.kit.i18n import N_
from onewindow.kit.node import Node
from onewindow.origin.statistics import utilisation


@dataclass(frozen=True)
class Table:
    """One chart's figures: `bars` are what the chart draws, (label, value) pairs."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    bars: list[tuple[str, float]]
    over_time: bool = False  # columns by day rather than bars by name
    unit: str = ""  # shown after the title, untranslated (a currency)


def _hours(seconds: float) -> Decimal:
    return round(Decimal(seconds) / 3600, 2)


def _percent(share: float | Decimal) -> Decimal:
    return round(Decimal(share) * 100, 1)


def per_day(session: Session, found: Figures, period: Period, currency: str) -> Table:
    rows = [(day, office, n) for (day, office), n in sorted(found.per_day.items())]
    totals: dict[str, int] = defaultdict(int)
    for day, _, count in rows:
        totals[day] += count
    return Table(
        "per-day",
        N_("Declarations lodged per day"),
        (N_("Day"), N_("Office"), N_("Declarations")),
        rows,
        [(day, float(n)) for day, n in totals.items()],
        over_time=True,
    )


def lanes(session: Session, found: Figures, period: Period, currency: str) -> Table:
    counted = [(lane, found.lanes[lane]) for lane in LANES if found.lanes[lane]]
    total = sum(n for _, n in counted) or 1
    rows = [(lane, n, _percent(n / total)) for lane, n in counted]
    return Table(
        "lanes", N_("Declarations by lane"), (N_("Lane"), N_("Declarations"), N_("Share %")), rows,
        [(lane, float(n)) for lane, n in counted],
    )  # fmt: skip


def _hit_table(name: str, title: str, key: str, found: dict[str, Hits]) -> Table:
    rows = [(k, h.controlled, h.hits, _percent(h.rate)) for k, h in found.items()]
    return Table(
        name, title, (key, N_("Controlled"), N_("Irregularities"), N_("Hit rate %")), rows,
        [(k, float(_percent(h.rate))) for k, h in found.items()],
    )  # fmt: skip


def hits_by_lane(session: Session, found: Figures, period: Period, currency: str) -> Table:
    ordered = {k: found.hits_by_lane[k] for k in LANES if k in found.hits_by_lane}
    return _hit_table("hits-by-lane", N_("Hit rate of controls by lane"), N_("Lane"), ordered)


def hits_by_source(session: Session, found: Figures, period: Period, currency: str) -> Table:
    return _hit_table(
        "hits-by-source", N_("Hit rate by what targeted it (profile, model, random)"),
        N_("Targeted by"), dict(sorted(found.hits_by_source.items())),
    )  # fmt: skip


def revenue(session: Session, found: Figures, period: Period, currency: str) -> Table:
    rows = sorted(
        ((tax, ch, amount) for (tax, ch), amount in found.revenue.items()),
        key=lambda r: (-r[2], r[0], r[1]),
    )
    by_chapter: dict[str, Decimal] = defaultdict(Decimal)
    for _, chapter, amount in rows:
        by_chapter[chapter] += amount
    top = sorted(by_chapter.items(), key=lambda kv: -kv[1])[:15]
    return Table(
        "revenue", N_("Revenue by tax and HS chapter"),
        (N_("Tax"), N_("HS chapter"), N_("Amount")), rows,
        [(ch, float(v)) for ch, v in top], unit=currency,
    )  # fmt: skip


def clearance(session: Session, found: Figures, period: Period, currency: str) -> Table:
    by_lane = dict(sorted(found.clearance.items()))
    if by_lane:
        every = Clearance()
        for each in by_lane.values():
            every.merge(each)
        by_lane = {"all": every, **by_lane}
    rows = [
        (lane, c.released, _hours(c.percentile(0.5)), _hours(c.percentile(0.9)), _hours(c.mean_s))
        for lane, c in by_lane.items()
    ]
    return Table(
        "clearance", N_("Clearance time, lodged to released (hours)"),
        (N_("Lane"), N_("Released"), N_("Median h"), N_("90th percentile h"), N_("Mean h")), rows,
        [(lane, float(p90)) for lane, _, _, p90, _ in rows],
    )  # fmt: skip


def form_d(session: Session, found: Figures, period: Period, currency: str) -> Table:
    used = utilisation(session, period.start.date(), period.end.date())
    rows = [(country, status, n, _percent(share)) for country, status, n, share in used]
    return Table(
        "form-d", N_("Form D issued in the period: quantities used"),
        (N_("Exporting country"), N_("Status"), N_("Certificates"), N_("Used %")), rows,
        [(f"{c} {s}", float(share)) for c, s, _, share in rows],
    )  # fmt: skip


def messages(session: Session, found: Figures, period: Period, currency: str) -> Table:
    rows = [tuple(r) for r in exchange.stats(session)]  # partner, document, direction, status, n
    per_partner: dict[str, int] = defaultdict(int)
    for row in rows:
        per_partner[row[0]] += row[-1]
    return Table(
        "messages", N_("Messages exchanged per partner (all time)"),
        (N_("Partner"), N_("Document"), N_("Direction"), N_("Status"), N_("Messages")), rows,
        [(p, float(n)) for p, n in per_partner.items()],
    )  # fmt: skip


CHARTS: dict[str, Callable[[Session, Figures, Period, str], Table]] = {
    "per-day": per_day,
    "lanes": lanes,
    "hits-by-lane": hits_by_lane,
    "hits-by-source": hits_by_source,
    "revenue": revenue,
    "clearance": clearance,
    "form-d": form_d,
    "messages": messages,
}


def tables(node: Node, period: Period, names: list[str]) -> list[Table]:
    """The charts `names` for the period: the kept figures of its days brought up to date
    first if they need it (a short write of its own), then read with today's."""
    today = node.clock.now().date()
    with node.transaction() as session:
        stale = statistics.stale(session, period, today)
    if stale:
        with write_transaction(node.sessions) as session:
            statistics.refresh(session, period, today)
    with node.transaction() as session:
        found = statistics.figures(session, period, today)
        return [CHARTS[name](session, found, period, node.settings.currency) for name in names]
