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

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

from onewindow.kit.errors import FieldError, InvalidInput, NotFound, Text, invalid
from onewindow.kit.money import round_money
from onewindow.tariff.duty import Rates, item_taxes, to_national
from onewindow.tariff.models import PartnerLine, PartnerRate, PartnerSchedule
from onewindow.tariff.publishing import Home
from onewindow.tariff.service import TariffBook


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
        raise _unpublished(country, on)
    return found


def _unpublished(country: str, on: date) -> InvalidInput:
    message = Text(
        "{country} has published no tariff in force on {on}", country=country, on=on.isoformat()
    )
    return invalid("country", "no_published_tariff", message)


# Built once: building a statement costs more than running it on a small table.
_NEWER = aliased(PartnerSchedule)
_IN_FORCE = (  # each partner's version in force on the day, with its official rates
    select(
        PartnerSchedule.id, PartnerSchedule.country, PartnerSchedule.currency,
        PartnerRate.currency, PartnerRate.rate,
    )
    .outerjoin(PartnerRate, PartnerRate.schedule_id == PartnerSchedule.id)
    .where(
        PartnerSchedule.country.in_(bindparam("countries", expanding=True)),
        PartnerSchedule.version == select(func.max(_NEWER.version)).where(
            _NEWER.country == PartnerSchedule.country, _NEWER.effective_date <= bindparam("on")
        ).scalar_subquery(),
    )
)  # fmt: skip
_LINES = select(
    PartnerLine.schedule_id, PartnerLine.code, PartnerLine.mfn_rate, PartnerLine.atiga_rate,
    PartnerLine.vat_rate,
).where(
    PartnerLine.schedule_id.in_(bindparam("schedules", expanding=True)),
    PartnerLine.code.in_(bindparam("codes", expanding=True)),
)  # fmt: skip


def _partners(
    session: Session, countries: Sequence[str], codes: set[str], on: date
) -> dict[str, _Schedule]:
    """The versions of the partners' schedules in force on `on`, with the lines of `codes`:
    two queries whatever the number of partners (one more per 500 codes). Read anew on every
    call, so a version received a moment ago is used at once, in every process of the node."""
    if not countries:
        return {}
    found: dict[int, _Schedule] = {}
    by_country: dict[str, _Schedule] = {}
    params = {"countries": sorted(set(countries)), "on": on}
    for schedule_id, country, national, currency, rate in session.execute(_IN_FORCE, params):
        if schedule_id not in found:
            found[schedule_id] = by_country[country] = _Schedule(national, {}, {})
        if currency is not None:
            found[schedule_id].rates[currency] = rate
    wanted = sorted(codes)
    for start in range(0, len(wanted) if found else 0, 500):
        params = {"schedules": sorted(found), "codes": wanted[start : start + 500]}
        for schedule_id, code, mfn, atiga, vat in session.execute(_LINES, params):
            found[schedule_id].lines[code] = Rates(mfn, atiga, vat)
    return by_country


def _own(book: TariffBook, home: Home, items: Sequence[Goods], on: date) -> _Schedule:
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


def _due(
    country: str, schedule: _Schedule, items: Sequence[Goods], on: date, preference: bool
) -> Due:
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
        book = TariffBook(session, (i.hs_code for i in items), (i.currency for i in items))
        return _due(country, _own(book, home, items, on), items, on, preference)
    schedule = _partners(session, [country], {i.hs_code for i in items}, on).get(country)
    if schedule is None:
        raise _unpublished(country, on)
    return _due(country, schedule, items, on, preference)


def import_taxes_in(
    session: Session,
    countries: Sequence[str],
    items: Sequence[Goods],
    on: date,
    *,
    home: Home,
    currency: str,
    preference: bool = False,
) -> dict[str, Decimal]:
    """For each of `countries`, in order, `import_taxes` converted to `currency` as `convert`
    does: the same amounts and the same errors (those of the first country that has one), from
    four queries (the partners' versions in force and their lines, this node's lines and
    rates) instead of up to five per country."""
    partners = _partners(
        session, [c for c in countries if c != home.country], {i.hs_code for i in items}, on
    )
    codes = [i.hs_code for i in items] if home.country in countries else []
    wanted = [i.currency for i in items] + [s.currency for s in partners.values()] + [currency]
    book = TariffBook(session, codes, wanted)
    out: dict[str, Decimal] = {}
    for country in countries:
        if country == home.country:
            schedule = _own(book, home, items, on)
        elif country in partners:
            schedule = partners[country]
        else:
            raise _unpublished(country, on)
        due = _due(country, schedule, items, on, preference)
        out[country] = _convert(due, currency, on, home, book).amount
    return out


def convert(session: Session, due: Due, to: str, on: date, *, home: Home) -> Due:
    """`due` in currency `to`, at this node's own official rates in force on `on` (national
    currency per unit), rounded to `to`'s minor unit. NotFound if a rate is missing."""
    if due.currency == to:
        return due
    return _convert(due, to, on, home, TariffBook(session, (), (due.currency, to)))


def _convert(due: Due, to: str, on: date, home: Home, book: TariffBook) -> Due:
    def rate(currency: str) -> Decimal:
        found = book.rate(currency, on)
        if found is None:
            raise NotFound(
                Text(
                    "no official exchange rate for {currency} on {on}",
                    currency=currency,
                    on=on.isoformat(),
                )
            )
        return found

    if due.currency == to:
        return due
    national = due.amount if due.currency == home.currency else due.amount * rate(due.currency)
    if to == home.currency:
        return Due(to, round_money(national, to))
    return Due(to, round_money(national / rate(to), to))
