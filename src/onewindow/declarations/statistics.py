"""Figures over many declarations, for the analysts' dashboards: each a grouped query over
indexed columns (lodging time, office, status), for a period and, if given, one office."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.declarations import workflow
from onewindow.declarations.models import Control, Declaration, DeclarationItem, TaxLineRow
from onewindow.declarations.readmodel import clearance_report


@dataclass(frozen=True)
class Period:
    """Declarations lodged from `start` (included) to `end` (excluded), at `office` if set."""

    start: datetime
    end: datetime
    office: str | None = None


def _within(stmt: Any, period: Period) -> Any:
    stmt = stmt.where(Declaration.lodged_at >= period.start, Declaration.lodged_at < period.end)
    if period.office:
        stmt = stmt.where(Declaration.office == period.office)
    return stmt


def per_day(session: Session, period: Period) -> list[tuple[str, str, int]]:
    """(day, office, declarations lodged), by day then office."""
    day = func.date(Declaration.lodged_at)
    stmt = _within(select(day, Declaration.office, func.count()), period)
    rows = session.execute(stmt.group_by(day, Declaration.office).order_by(day, Declaration.office))
    return [(str(d)[:10], office, n) for d, office, n in rows]


def lanes(session: Session, period: Period) -> list[tuple[str, int]]:
    """(lane, declarations), green to red."""
    stmt = _within(select(Declaration.channel, func.count()), period)
    found = dict(session.execute(stmt.group_by(Declaration.channel)).all())
    return [(lane, found[lane]) for lane in ("green", "yellow", "red", "blue") if lane in found]


@dataclass
class Hits:
    """Declarations whose controls have ended (`controlled`), and those with an irregularity."""

    controlled: int = 0
    hits: int = 0

    @property
    def rate(self) -> float:
        return self.hits / self.controlled if self.controlled else 0.0


def hit_rates(session: Session, period: Period) -> tuple[dict[str, Hits], dict[str, Hits]]:
    """Hit rates of controls by lane, and by what targeted the declaration: each rule profile,
    each model version, the random pick. A declaration is controlled once a document check
    accepted it or an inspection ended; a hit is an inspection that found an irregularity."""
    ended = (
        select(Control.declaration_id, Control.kind, Control.result)
        .where(
            (Control.kind == "inspection")
            | ((Control.kind == "document_check") & (Control.result == "accept"))
        )
        .subquery()
    )
    stmt = _within(
        select(
            Declaration.id,
            Declaration.channel,
            Declaration.risk_reasons,
            Declaration.random_pick,
            ended.c.result,
        ).join(ended, ended.c.declaration_id == Declaration.id),
        period,
    )
    outcome: dict[int, tuple[str, list[str], bool, bool]] = {}
    for id_, channel, reasons, random_pick, result in session.execute(stmt):
        _, _, _, hit = outcome.get(id_, (channel, reasons, random_pick, False))
        outcome[id_] = (channel, reasons or [], bool(random_pick), hit or result == "irregularity")
    by_lane: dict[str, Hits] = {}
    by_source: dict[str, Hits] = {}
    for channel, reasons, random_pick, hit in outcome.values():
        sources = [_source(r) for r in reasons] + (["random pick"] if random_pick else [])
        for key, table in [(channel, by_lane)] + [(s, by_source) for s in dict.fromkeys(sources)]:
            counted = table.setdefault(key, Hits())
            counted.controlled += 1
            counted.hits += hit
    return by_lane, dict(sorted(by_source.items()))


def _source(reason: str) -> str:
    """ "profile phones: why" -> "profile phones"; "scored by model m-9" -> "model m-9"."""
    if reason.startswith("scored by model "):
        return "model " + reason.removeprefix("scored by model ")
    return reason.split(":", 1)[0]


def revenue(session: Session, period: Period) -> list[tuple[str, str, Decimal]]:
    """(tax, HS chapter, amount) assessed on declarations paid or released, largest first."""
    chapter = func.substr(DeclarationItem.hs_code, 1, 2)
    stmt = _within(
        select(TaxLineRow.tax, chapter, func.sum(TaxLineRow.amount))
        .join(Declaration, Declaration.id == TaxLineRow.declaration_id)
        .join(
            DeclarationItem,
            (DeclarationItem.declaration_id == TaxLineRow.declaration_id)
            & (DeclarationItem.seq == TaxLineRow.item_seq),
        )
        .where(Declaration.status.in_((workflow.PAID, workflow.RELEASED))),
        period,
    ).group_by(TaxLineRow.tax, chapter)
    rows = [(tax, ch, Decimal(amount or 0)) for tax, ch, amount in session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))


def clearance(session: Session, period: Period) -> dict[str, Any]:
    """Clearance time percentiles per lane, of the declarations of the period released."""
    stmt = _within(
        select(Declaration.channel, Declaration.lodged_at, Declaration.released_at).where(
            Declaration.released_at.is_not(None)
        ),
        period,
    )
    return clearance_report(
        [(c, lodged, released) for c, lodged, released in session.execute(stmt)]
    )


def statuses(session: Session, period: Period) -> Counter[str]:
    stmt = _within(select(Declaration.status, func.count()), period)
    return Counter(dict(session.execute(stmt.group_by(Declaration.status)).all()))
