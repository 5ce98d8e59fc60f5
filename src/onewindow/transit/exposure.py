"""The import duties and taxes goods in transit could owe in a country of their itinerary:
what a transit guarantee must cover there (ACTS takes the highest over the countries).

The goods are declared under HS codes of six (or eight) digits, and a country's schedule may
split a subheading into national lines with different rates: the highest rates among the
lines in force under the code are taken, as the most that could be due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onewindow.kit.errors import NotFound, Text
from onewindow.tariff import Rates, TariffLine, item_taxes, rate_in_force, to_national


@dataclass(frozen=True)
class Goods:
    hs_code: str
    value: Decimal
    currency: str


def taxes_in(
    session: Session, country: str, goods: list[Goods], on: date, here: str, currency: str
) -> tuple[str, Decimal]:
    """(currency, amount) of the duties and taxes due in `country` on `goods` entered there
    `on` that day. This node (`here`, `currency`) uses its own schedule."""
    if country != here:
        raise NotFound(
            Text("{country} has published no tariff in force on {on}", country=country, on=on)
        )
    total = Decimal(0)
    for each in goods:
        rates = _highest(session, each.hs_code, on)
        rate = (
            Decimal(1) if each.currency == currency else rate_in_force(session, each.currency, on)
        )
        value = to_national(each.value, rate, currency)
        total += sum(
            (line.amount for line in item_taxes(value, rates, False, currency)), Decimal(0)
        )
    return currency, total


def _highest(session: Session, code: str, on: date) -> Rates:
    stmt = select(TariffLine.mfn_rate, TariffLine.vat_rate).where(
        TariffLine.code.startswith(code),
        TariffLine.valid_from <= on,
        or_(TariffLine.valid_to.is_(None), TariffLine.valid_to >= on),
    )
    found = session.execute(stmt).all()
    if not found:
        raise NotFound(Text("no tariff line under {code} is in force on {on}", code=code, on=on))
    return Rates(mfn=max(r.mfn_rate for r in found), atiga=None, vat=max(r.vat_rate for r in found))
