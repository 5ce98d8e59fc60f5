"""The dashboards' figures: each chart a table (its columns and rows), for a period and an
office. The charts, the tables and the CSV downloads are drawn from the same rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from onewindow import exchange
from onewindow.declarations import statistics
from onewindow.declarations.statistics import Period
from onewindow.kit.i18n import N_
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


def per_day(session: Session, period: Period, currency: str) -> Table:
    rows = statistics.per_day(session, period)
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


def lanes(session: Session, period: Period, currency: str) -> Table:
    found = statistics.lanes(session, period)
    total = sum(n for _, n in found) or 1
    rows = [(lane, n, _percent(n / total)) for lane, n in found]
    return Table(
        "lanes", N_("Declarations by lane"), (N_("Lane"), N_("Declarations"), N_("Share %")), rows,
        [(lane, float(n)) for lane, n in found],
    )  # fmt: skip


def _hit_table(name: str, title: str, key: str, found: dict[str, statistics.Hits]) -> Table:
    rows = [(k, h.controlled, h.hits, _percent(h.rate)) for k, h in found.items()]
    return Table(
        name, title, (key, N_("Controlled"), N_("Irregularities"), N_("Hit rate %")), rows,
        [(k, float(_percent(h.rate))) for k, h in found.items()],
    )  # fmt: skip


def _hit_rates(
    session: Session, period: Period
) -> tuple[dict[str, statistics.Hits], dict[str, statistics.Hits]]:
    """The hit rates of the period, asked once per session: two charts draw them."""
    key = ("analytics.hit_rates", period)
    if key not in session.info:
        session.info[key] = statistics.hit_rates(session, period)
    found: tuple[dict[str, statistics.Hits], dict[str, statistics.Hits]] = session.info[key]
    return found


def hits_by_lane(session: Session, period: Period, currency: str) -> Table:
    by_lane, _ = _hit_rates(session, period)
    lanes: tuple[str, ...] = ("green", "yellow", "red", "blue")
    ordered = {k: by_lane[k] for k in lanes if k in by_lane}
    return _hit_table("hits-by-lane", N_("Hit rate of controls by lane"), N_("Lane"), ordered)


def hits_by_source(session: Session, period: Period, currency: str) -> Table:
    _, by_source = _hit_rates(session, period)
    return _hit_table(
        "hits-by-source", N_("Hit rate by what targeted it (profile, model, random)"),
        N_("Targeted by"), by_source,
    )  # fmt: skip


def revenue(session: Session, period: Period, currency: str) -> Table:
    rows = statistics.revenue(session, period)
    by_chapter: dict[str, Decimal] = defaultdict(Decimal)
    for _, chapter, amount in rows:
        by_chapter[chapter] += amount
    top = sorted(by_chapter.items(), key=lambda kv: -kv[1])[:15]
    return Table(
        "revenue", N_("Revenue by tax and HS chapter"),
        (N_("Tax"), N_("HS chapter"), N_("Amount")), rows,
        [(ch, float(v)) for ch, v in top], unit=currency,
    )  # fmt: skip


def clearance(session: Session, period: Period, currency: str) -> Table:
    report = statistics.clearance(session, period)
    rows = [
        (lane, r["released"], _hours(r["p50_s"]), _hours(r["p90_s"]), _hours(r["mean_s"]))
        for lane, r in report.items()
    ]
    return Table(
        "clearance", N_("Clearance time, lodged to released (hours)"),
        (N_("Lane"), N_("Released"), N_("Median h"), N_("90th percentile h"), N_("Mean h")), rows,
        [(lane, float(p90)) for lane, _, _, p90, _ in rows],
    )  # fmt: skip


def form_d(session: Session, period: Period, currency: str) -> Table:
    found = utilisation(session, period.start.date(), period.end.date())
    rows = [(country, status, n, _percent(share)) for country, status, n, share in found]
    return Table(
        "form-d", N_("Form D issued in the period: quantities used"),
        (N_("Exporting country"), N_("Status"), N_("Certificates"), N_("Used %")), rows,
        [(f"{c} {s}", float(used)) for c, s, _, used in rows],
    )  # fmt: skip


def messages(session: Session, period: Period, currency: str) -> Table:
    rows = [tuple(r) for r in exchange.stats(session)]  # partner, document, direction, status, n
    per_partner: dict[str, int] = defaultdict(int)
    for row in rows:
        per_partner[row[0]] += row[-1]
    return Table(
        "messages", N_("Messages exchanged per partner (all time)"),
        (N_("Partner"), N_("Document"), N_("Direction"), N_("Status"), N_("Messages")), rows,
        [(p, float(n)) for p, n in per_partner.items()],
    )  # fmt: skip


CHARTS: dict[str, Callable[[Session, Period, str], Table]] = {
    "per-day": per_day,
    "lanes": lanes,
    "hits-by-lane": hits_by_lane,
    "hits-by-source": hits_by_source,
    "revenue": revenue,
    "clearance": clearance,
    "form-d": form_d,
    "messages": messages,
}
