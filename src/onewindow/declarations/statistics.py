"""Figures over many declarations, for the analysts' dashboards, for a period and an office.

Each day's figures per office are computed once the day is over and kept (the daily roll-up
in `declaration_day_figures`): a dashboard reads a few rows per day of its period and
computes only today's from the declarations. A day that is over still changes when one of
its declarations does (a control, a payment, a release, an amendment), and each such change
is in the audit trail: `refresh` reads the audit events written since it last ran, and
computes again the day and office of each declaration they touched.

Clearance time percentiles come from a histogram whose buckets are 1/16 of a doubling wide
(4.4 %): a percentile is the middle of its bucket, within 2.2 % of the exact figure. The
count and the mean are exact.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onewindow.declarations import workflow
from onewindow.declarations.lodging import ENTITY
from onewindow.declarations.models import (
    Control,
    DayFigure,
    Declaration,
    DeclarationItem,
    RolledDay,
    RollUp,
    TaxLineRow,
)
from onewindow.kit.audit import AuditEvent
from onewindow.kit.db import insert_many

LANES = ("green", "yellow", "red", "blue")
STEPS = 16  # clearance histogram buckets per doubling of the time


@dataclass(frozen=True)
class Period:
    """Declarations lodged from `start` (included) to `end` (excluded), at `office` if set."""

    start: datetime
    end: datetime
    office: str | None = None


@dataclass
class Hits:
    """Declarations whose controls have ended (`controlled`), and those with an irregularity."""

    controlled: int = 0
    hits: int = 0

    @property
    def rate(self) -> float:
        return self.hits / self.controlled if self.controlled else 0.0


@dataclass
class Clearance:
    """Released declarations' times from lodging to release: how many, their total, and a
    histogram of them."""

    released: int = 0
    seconds: Decimal = Decimal(0)
    buckets: Counter[int] = field(default_factory=Counter)

    def add(self, seconds: float) -> None:
        self.released += 1
        self.seconds += Decimal(round(seconds))
        self.buckets[_bucket(seconds)] += 1

    def merge(self, other: Clearance) -> None:
        self.released += other.released
        self.seconds += other.seconds
        self.buckets.update(other.buckets)

    @property
    def mean_s(self) -> float:
        return float(self.seconds) / self.released if self.released else 0.0

    def percentile(self, q: float) -> float:
        """The time below which a share `q` of the declarations were released (the middle of
        the bucket holding the declaration at rank q × (released - 1), rounded)."""
        rank = min(self.released - 1, max(0, round(q * (self.released - 1))))
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen > rank:
                return _middle(bucket)
        return 0.0


def _bucket(seconds: float) -> int:
    return math.floor(math.log2(seconds) * STEPS) if seconds >= 1 else -1


def _middle(bucket: int) -> float:
    return 0.0 if bucket < 0 else 2 ** ((bucket + 0.5) / STEPS)


@dataclass(frozen=True, slots=True)
class Row:
    """A DayFigure's values; `day` and `office` are None in sums over days and offices."""

    day: date | None
    office: str | None
    figure: str
    key: str
    sub: str = ""
    count: int = 0
    hits: int = 0
    amount: Decimal = Decimal(0)
    buckets: dict[str, int] | None = None


@dataclass
class Figures:
    """The figures the dashboards draw, summed over a period's days and offices."""

    per_day: Counter[tuple[str, str]] = field(default_factory=Counter)  # (day, office)
    lanes: Counter[str] = field(default_factory=Counter)
    hits_by_lane: dict[str, Hits] = field(default_factory=dict)
    hits_by_source: dict[str, Hits] = field(default_factory=dict)
    revenue: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (tax, chapter)
    clearance: dict[str, Clearance] = field(default_factory=dict)  # by lane

    def add(self, row: Row) -> None:
        if row.figure == "lane":
            if row.day is not None and row.office is not None:
                self.per_day[(row.day.isoformat(), row.office)] += row.count
            self.lanes[row.key] += row.count
        elif row.figure in ("hits-lane", "hits-source"):
            table = self.hits_by_lane if row.figure == "hits-lane" else self.hits_by_source
            counted = table.setdefault(row.key, Hits())
            counted.controlled += row.count
            counted.hits += row.hits
        elif row.figure == "revenue":
            key = (row.key, row.sub)
            self.revenue[key] = self.revenue.get(key, Decimal(0)) + Decimal(row.amount)
        elif row.figure == "clearance":
            buckets = Counter({int(b): n for b, n in (row.buckets or {}).items()})
            kept = Clearance(row.count, Decimal(row.amount), buckets)
            self.clearance.setdefault(row.key, Clearance()).merge(kept)


def figures(session: Session, period: Period, today: date) -> Figures:
    """The period's figures: the kept ones of its days before `today` (`refresh` first),
    summed by the database, and today's computed from the declarations."""
    found = Figures()
    midnight = _midnight(today)

    def kept(*columns: Any) -> Any:
        end = min(period.end, midnight).date()
        stmt = select(*columns).where(DayFigure.day >= period.start.date(), DayFigure.day < end)
        return stmt.where(DayFigure.office == period.office) if period.office else stmt

    lanes = kept(DayFigure.day, DayFigure.office, func.sum(DayFigure.count))
    lanes = lanes.where(DayFigure.figure == "lane").group_by(DayFigure.day, DayFigure.office)
    for day, office, n in session.execute(lanes):
        found.per_day[(_day(day).isoformat(), office)] += n
    sums = kept(
        DayFigure.figure, DayFigure.key, DayFigure.sub,
        func.sum(DayFigure.count), func.sum(DayFigure.hits), func.sum(DayFigure.amount),
    ).where(DayFigure.figure != "clearance")  # fmt: skip
    for figure, key, sub, count, hits, amount in session.execute(
        sums.group_by(DayFigure.figure, DayFigure.key, DayFigure.sub)
    ):
        found.add(Row(None, None, figure, key, sub, count, hits, Decimal(amount)))
    times = kept(DayFigure.key, DayFigure.count, DayFigure.amount, DayFigure.buckets)
    for key, count, amount, buckets in session.execute(
        times.where(DayFigure.figure == "clearance")
    ):
        found.add(Row(None, None, "clearance", key, "", count, 0, Decimal(amount), buckets))
    if period.end > midnight:
        for row in _compute(session, max(period.start, midnight), period.end, period.office):
            found.add(row)
    return found


def stale(session: Session, period: Period, today: date) -> bool:
    """Whether `refresh` has work to do for this period: a day of it before `today` is not
    kept, or audit events were written since it last ran."""
    state = session.get(RollUp, 1)
    latest = session.scalar(select(func.max(AuditEvent.id))) or 0
    if state is None or state.last_event < latest:
        return True
    return bool(_missing(session, period, today))


def refresh(session: Session, period: Period, today: date) -> None:
    """Bring the kept figures of the period's days before `today` up to date: compute again
    each kept day and office whose declarations changed since the last refresh, and the
    days not kept yet. One refresh at a time: its first statement locks the roll-up's row
    (on SQLite, the database)."""
    _lock(session)
    state = session.get(RollUp, 1, populate_existing=True)
    assert state is not None
    latest = session.scalar(select(func.max(AuditEvent.id))) or 0
    if state.last_event < latest:
        # Nothing kept yet (the first refresh), nothing to compute again.
        kept = session.scalar(select(RolledDay.day).limit(1)) is not None
        for day, office in _changed(session, state.last_event, latest, today) if kept else []:
            at_office = (DayFigure.day == day) & (DayFigure.office == office)
            session.execute(delete(DayFigure).where(at_office))
            rows = _compute(session, _midnight(day), _midnight(day + timedelta(days=1)), office)
            insert_many(session, DayFigure, [asdict(r) for r in rows])
        state.last_event = latest
    missing = _missing(session, period, today)
    for start, end in _runs(missing):
        rows = _compute(session, _midnight(start), _midnight(end), None)
        insert_many(session, DayFigure, [asdict(r) for r in rows])
    insert_many(session, RolledDay, [{"day": d} for d in missing])


def _lock(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(make(RollUp).values(id=1, last_event=0).on_conflict_do_nothing())
    session.execute(update(RollUp).where(RollUp.id == 1).values(last_event=RollUp.last_event))


def _changed(session: Session, after: int, upto: int, today: date) -> list[tuple[date, str]]:
    """The kept days and offices of the declarations these audit events touched (each kept
    day is computed again, office by office, when one of its declarations changes)."""
    lodged = func.date(Declaration.lodged_at)
    stmt = (
        select(lodged, Declaration.office)
        .join(AuditEvent, AuditEvent.entity_id == Declaration.number)
        .where(AuditEvent.id > after, AuditEvent.id <= upto, AuditEvent.entity_type == ENTITY)
        .where(Declaration.lodged_at < _midnight(today))
        .distinct()
    )
    changed = {(_day(d), office) for d, office in session.execute(stmt)}
    days = {d for d, _ in changed}
    kept = set(session.scalars(select(RolledDay.day).where(RolledDay.day.in_(days))))
    return sorted((d, office) for d, office in changed if d in kept)


def _missing(session: Session, period: Period, today: date) -> list[date]:
    first, end = period.start.date(), min(period.end.date(), today)
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    if not days:
        return []
    kept = select(RolledDay.day).where(RolledDay.day >= first, RolledDay.day < end)
    have = set(session.scalars(kept))
    return [d for d in days if d not in have]


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, day after the last) ranges."""
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and runs[-1][1] == d:
            runs[-1] = (runs[-1][0], d + timedelta(days=1))
        else:
            runs.append((d, d + timedelta(days=1)))
    return runs


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _compute(session: Session, start: datetime, end: datetime, office: str | None) -> list[Row]:
    """The figures of the declarations lodged from `start` to `end`, per day and office, from
    the declarations themselves (not stored: `refresh` stores those of closed days)."""

    def within(stmt: Any) -> Any:
        stmt = stmt.where(Declaration.lodged_at >= start, Declaration.lodged_at < end)
        return stmt.where(Declaration.office == office) if office else stmt

    day = func.date(Declaration.lodged_at)
    rows: list[Row] = []

    def figure(d: Any, office: str, name: str, key: str, sub: str = "", **numbers: Any) -> None:
        rows.append(Row(_day(d), office, name, key, sub, **numbers))

    lodged = within(select(day, Declaration.office, Declaration.channel, func.count()))
    for d, at, lane, n in session.execute(
        lodged.group_by(day, Declaration.office, Declaration.channel)
    ):
        figure(d, at, "lane", lane, count=n)

    for (d, at, name, key), h in _hits(session, within).items():
        figure(d, at, name, key, count=h.controlled, hits=h.hits)

    chapter = func.substr(DeclarationItem.hs_code, 1, 2)
    revenue = within(
        select(day, Declaration.office, TaxLineRow.tax, chapter, func.sum(TaxLineRow.amount))
        .join(Declaration, Declaration.id == TaxLineRow.declaration_id)
        .join(
            DeclarationItem,
            (DeclarationItem.declaration_id == TaxLineRow.declaration_id)
            & (DeclarationItem.seq == TaxLineRow.item_seq),
        )
        .where(Declaration.status.in_((workflow.PAID, workflow.RELEASED)))
    ).group_by(day, Declaration.office, TaxLineRow.tax, chapter)
    for d, at, tax, ch, amount in session.execute(revenue):
        figure(d, at, "revenue", tax, ch, amount=Decimal(amount or 0))

    released = within(
        select(
            day,
            Declaration.office,
            Declaration.channel,
            Declaration.lodged_at,
            Declaration.released_at,
        ).where(Declaration.released_at.is_not(None))
    )
    times: dict[tuple[Any, str, str], Clearance] = defaultdict(Clearance)
    for d, at, lane, lodged_at, released_at in session.execute(released):
        times[(d, at, lane)].add((released_at - lodged_at).total_seconds())
    for (d, at, lane), c in times.items():
        buckets = {str(b): n for b, n in sorted(c.buckets.items())}
        figure(d, at, "clearance", lane, count=c.released, amount=c.seconds, buckets=buckets)
    return rows


def _hits(session: Session, within: Any) -> dict[tuple[Any, str, str, str], Hits]:
    """Hit rates of controls by lane, and by what targeted the declaration: each rule profile,
    each model version, the random pick; per day and office. A declaration is controlled once
    a document check accepted it or an inspection ended; a hit is an inspection that found an
    irregularity."""
    ended = (
        select(Control.declaration_id, Control.result)
        .where(
            (Control.kind == "inspection")
            | ((Control.kind == "document_check") & (Control.result == "accept"))
        )
        .subquery()
    )
    stmt = within(
        select(
            Declaration.id,
            func.date(Declaration.lodged_at),
            Declaration.office,
            Declaration.channel,
            Declaration.risk_reasons,
            Declaration.random_pick,
            ended.c.result,
        ).join(ended, ended.c.declaration_id == Declaration.id)
    )
    outcome: dict[int, tuple[Any, str, str, list[str], bool, bool]] = {}
    for id_, d, office, channel, reasons, random_pick, result in session.execute(stmt):
        before = outcome.get(id_)
        hit = (before[5] if before else False) or result == "irregularity"
        outcome[id_] = (d, office, channel, reasons or [], bool(random_pick), hit)
    found: dict[tuple[Any, str, str, str], Hits] = {}
    for d, office, channel, reasons, random_pick, hit in outcome.values():
        sources = [_source(r) for r in reasons] + (["random pick"] if random_pick else [])
        keys = [("hits-lane", channel)] + [("hits-source", s) for s in dict.fromkeys(sources)]
        for name, key in keys:
            counted = found.setdefault((d, office, name, key), Hits())
            counted.controlled += 1
            counted.hits += hit
    return found


def _source(reason: str) -> str:
    """ "profile phones: why" -> "profile phones"; "scored by model m-9" -> "model m-9"."""
    if reason.startswith("scored by model "):
        return "model " + reason.removeprefix("scored by model ")
    return reason.split(":", 1)[0]
