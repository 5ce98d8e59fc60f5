"""The import duties and taxes goods would owe in a country, at that country's own rates: this
node's schedule for its own country, a partner's published version in force on the day for
a partner. What the transit domain reserves on a guarantee (ACTS: the highest of these over
the itinerary, converted to the guarantee's currency with `convert`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit.errors import FieldError, InvalidInput, Text, invalid
from onewindow.kit.money import round_money
from onewindow.tariff.duty import Rates, item_taxes, to_national
from onewindow.tariff.models import PartnerLine, PartnerRate, PartnerSchedule
from onewindow.tariff.publishing import Home
from onewindow.tariff.service import TariffBook, rate_in_force


@dataclass(frozen=True)
class Goods:
    """One item: its national line, customs value and the value's currency. `quantity` is
    for specific rates; the schedules carry ad valorem rates only so far."""

    hs_code: str
    value: Decimal
    currency: str
    quantity: Decimal | None = None


class Due(NamedTuple):
    """An amount in a currency: `currency, amount = import_taxes(...)`."""

    currency: str
    amount: Decimal


class _Schedule:
    """One country's rates and official exchange rates on one day."""

    def __init__(self, currency: str, lines: dict[str, Rates], rates: dict[str, Decimal]):
        self.currency, self.lines, self.rates = currency, lines, rates

    def rate(self, currency: str) -> Decimal | None:
        return Decimal(1) if currency == self.currency else self.rates.get(currency)


def schedule_in_force(session: Session, country: str, on: date) -> PartnerSchedule:
    """The version of `country`'s published schedule in force on `on`: the highest version
    whose effective date has come. InvalidInput (`no_published_tariff`) if there is none."""
    found = session.scalar(
        select(PartnerSchedule)
        .where(PartnerSchedule.country == country, PartnerSchedule.effective_date <= on)
        .order_by(PartnerSchedule.version.desc())
        .limit(1)
    )
    if found is None:
        message = Text(
            "{country} has published no tariff in force on {on}", country=country, on=on.isoformat()
        )
        raise invalid("country", "no_published_tariff", message)
    return found


def _partner(session: Session, country: str, codes: set[str], on: date) -> _Schedule:
    version = schedule_in_force(session, country, on)
    wanted = sorted(codes)
    lines: dict[str, Rates] = {}
    for start in range(0, len(wanted), 500):
        stmt = select(PartnerLine).where(
            PartnerLine.schedule_id == version.id, PartnerLine.code.in_(wanted[start : start + 500])
        )
        for line in session.scalars(stmt):
            lines[line.code] = Rates(line.mfn_rate, line.atiga_rate, line.vat_rate)
    stmt_rates = select(PartnerRate).where(PartnerRate.schedule_id == version.id)
    rates = {r.currency: r.rate for r in session.scalars(stmt_rates)}
    return _Schedule(version.currency, lines, rates)


def _own(session: Session, home: Home, items: Sequence[Goods], on: date) -> _Schedule:
    book = TariffBook(session, (i.hs_code for i in items), (i.currency for i in items))
    lines: dict[str, Rates] = {}
    rates: dict[str, Decimal] = {}
    for item in items:
        found = book.in_force(item.hs_code, on)
        if found is not None:
            lines[item.hs_code] = found
        rate = book.rate(item.currency, on)
        if rate is not None:
            rates[item.currency] = rate
    return _Schedule(home.currency, lines, rates)


def import_taxes(
    session: Session,
    country: str,
    items: Sequence[Goods],
    on: date,
    *,
    home: Home,
    preference: bool = False,
) -> Due:
    """Import duty and VAT that `items` would owe in `country` on `on`, in its national
    currency: at this node's schedule and official rates if `country` is `home`'s, else at
    the partner's published version in force that day. MFN rates unless `preference`
    (ATIGA where the line has a rate). InvalidInput naming each problem: no version in force
    (`country`), a line or an exchange rate missing from it (`items[n].hs_code`,
    `items[n].currency`)."""
    if country == home.country:
        schedule = _own(session, home, items, on)
    else:
        schedule = _partner(session, country, {i.hs_code for i in items}, on)
    errors: list[FieldError] = []
    total = Decimal(0)
    for n, item in enumerate(items):
        rates = schedule.lines.get(item.hs_code)
        exchange = schedule.rate(item.currency)
        if rates is None:
            message = Text("{country} has no tariff line {code} in force on {on}",
                           country=country, code=item.hs_code, on=on.isoformat())  # fmt: skip
            errors.append(FieldError(f"items[{n}].hs_code", "no_tariff_line", message))
        if exchange is None:
            message = Text("{country} has no official rate for {currency} on {on}",
                           country=country, currency=item.currency, on=on.isoformat())  # fmt: skip
            errors.append(FieldError(f"items[{n}].currency", "no_exchange_rate", message))
        if rates is None or exchange is None:
            continue
        value = to_national(item.value, exchange, schedule.currency)
        total += sum(
            (t.amount for t in item_taxes(value, rates, preference, schedule.currency)), Decimal(0)
        )
    if errors:
        raise InvalidInput(errors)
    return Due(schedule.currency, total)


def convert(session: Session, due: Due, to: str, on: date, *, home: Home) -> Due:
    """`due` in currency `to`, at this node's own official rates in force on `on` (national
    currency per unit), rounded to `to`'s minor unit. NotFound if a rate is missing."""
    if due.currency == to:
        return due
    national = (
        due.amount
        if due.currency == home.currency
        else due.amount * rate_in_force(session, due.currency, on)
    )
    if to == home.currency:
        return Due(to, round_money(national, to))
    return Due(to, round_money(national / rate_in_force(session, to, on), to))
