"""The import duties and taxes goods would owe in a country, at that country's own rates: this
node's schedule for its own country, a partner's published version in force on the day for
a partner. What the transit domain reserves on a guarantee (ACTS: the highest of these over
the itinerary, converted to the guarantee's currency with `convert`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, func, or_, select
from sqlalchemy.orm import Session

from onewindow.kit.errors import FieldError, InvalidInput, NotFound, Text, invalid
from onewindow.kit.money import round_money
from onewindow.tariff.duty import Rates, item_taxes, to_national
from onewindow.tariff.models import (
    ExchangeRate,
    PartnerLine,
    PartnerRate,
    PartnerSchedule,
    TariffLine,
)
from onewindow.tariff.publishing import Home


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


# Built once, in Core on the tables: building an ORM statement costs more than running it
# on tables this small.
def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_VERSIONS, _PLINES, _PRATES = _table(PartnerSchedule), _table(PartnerLine), _table(PartnerRate)
_LINES, _RATES = _table(TariffLine), _table(ExchangeRate)
_NEWER = _VERSIONS.alias("newer")
_IN_FORCE = (  # each partner's version in force on the day, with its official rates
    select(
        _VERSIONS.c.id, _VERSIONS.c.country, _VERSIONS.c.currency, _PRATES.c.currency,
        _PRATES.c.rate,
    )
    .select_from(_VERSIONS.outerjoin(_PRATES, _PRATES.c.schedule_id == _VERSIONS.c.id))
    .where(
        _VERSIONS.c.country.in_(bindparam("countries", expanding=True)),
        _VERSIONS.c.version == select(func.max(_NEWER.c.version)).where(
            _NEWER.c.country == _VERSIONS.c.country, _NEWER.c.effective_date <= bindparam("on")
        ).scalar_subquery(),
    )
)  # fmt: skip
_PARTNER_LINES = select(
    _PLINES.c.schedule_id, _PLINES.c.code, _PLINES.c.mfn_rate, _PLINES.c.atiga_rate,
    _PLINES.c.vat_rate,
).where(
    _PLINES.c.schedule_id.in_(bindparam("schedules", expanding=True)),
    _PLINES.c.code.in_(bindparam("codes", expanding=True)),
)  # fmt: skip
# This node's lines and rates in force on the day, oldest first: the last one read wins.
_OWN_LINES = (
    select(_LINES.c.code, _LINES.c.mfn_rate, _LINES.c.atiga_rate, _LINES.c.vat_rate)
    .where(
        _LINES.c.code.in_(bindparam("codes", expanding=True)),
        _LINES.c.valid_from <= bindparam("on"),
        or_(_LINES.c.valid_to.is_(None), _LINES.c.valid_to >= bindparam("on")),
    )
    .order_by(_LINES.c.valid_from)
)
_OWN_RATES = (
    select(_RATES.c.currency, _RATES.c.rate)
    .where(
        _RATES.c.currency.in_(bindparam("currencies", expanding=True)),
        _RATES.c.valid_from <= bindparam("on"),
    )
    .order_by(_RATES.c.valid_from)
)


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
        for schedule_id, code, mfn, atiga, vat in session.execute(_PARTNER_LINES, params):
            found[schedule_id].lines[code] = Rates(mfn, atiga, vat)
    return by_country


def _own(
    session: Session, home: Home, codes: Iterable[str], currencies: Iterable[str], on: date
) -> _Schedule:
    """This node's lines of `codes` and official rates of `currencies` in force on `on`."""
    lines: dict[str, Rates] = {}
    wanted = sorted(set(codes))
    for start in range(0, len(wanted), 500):
        params = {"codes": wanted[start : start + 500], "on": on}
        for code, mfn, atiga, vat in session.execute(_OWN_LINES, params):
            lines[code] = Rates(mfn, atiga, vat)
    params = {"currencies": sorted(set(currencies)), "on": on}
    rates: dict[str, Decimal] = {c: rate for c, rate in session.execute(_OWN_RATES, params)}
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
        own = _own(session, home, [i.hs_code for i in items], [i.currency for i in items], on)
        return _due(country, own, items, on, preference)
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
    own = _own(session, home, codes, wanted, on)
    out: dict[str, Decimal] = {}
    for country in countries:
        if country == home.country:
            schedule = own
        elif country in partners:
            schedule = partners[country]
        else:
            raise _unpublished(country, on)
        due = _due(country, schedule, items, on, preference)
        out[country] = _convert(due, currency, on, home, own.rates).amount
    return out


def convert(session: Session, due: Due, to: str, on: date, *, home: Home) -> Due:
    """`due` in currency `to`, at this node's own official rates in force on `on` (national
    currency per unit), rounded to `to`'s minor unit. NotFound if a rate is missing."""
    if due.currency == to:
        return due
    rates = _own(session, home, (), (due.currency, to), on).rates
    return _convert(due, to, on, home, rates)


def _convert(due: Due, to: str, on: date, home: Home, rates: Mapping[str, Decimal]) -> Due:
    def rate(currency: str) -> Decimal:
        found = rates.get(currency)
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
