"""Duty and tax calculation: pure, Decimal throughout, rounded to the national currency.

Import duty is ad valorem on the customs value in national currency, at the MFN rate or, when
a preference is granted, at the ATIGA rate. VAT is charged on the customs value plus duty.
Export declarations carry no import duty or VAT (export duties are not modelled yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from onewindow.kit.money import round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Rates:
    mfn: Decimal
    atiga: Decimal | None
    vat: Decimal


@dataclass(frozen=True)
class TaxLine:
    tax: str  # IMPORT_DUTY | VAT
    base: Decimal
    rate: Decimal
    amount: Decimal
    rate_kind: str  # MFN | ATIGA | STANDARD


def to_national(value: Decimal, exchange_rate: Decimal, currency: str) -> Decimal:
    return round_money(value * exchange_rate, currency)


def item_taxes(
    value_national: Decimal, rates: Rates, preference_granted: bool, currency: str
) -> list[TaxLine]:
    """The tax lines of one import item whose customs value is already in national currency."""
    if preference_granted and rates.atiga is not None:
        duty_rate, kind = rates.atiga, "ATIGA"
    else:
        duty_rate, kind = rates.mfn, "MFN"
    duty = round_money(value_national * duty_rate / HUNDRED, currency)
    vat_base = value_national + duty
    vat = round_money(vat_base * rates.vat / HUNDRED, currency)
    return [
        TaxLine("IMPORT_DUTY", value_national, duty_rate, duty, kind),
        TaxLine("VAT", vat_base, rates.vat, vat, "STANDARD"),
    ]


def totals(lines: list[TaxLine]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line.tax] = out.get(line.tax, Decimal(0)) + line.amount
    return out
