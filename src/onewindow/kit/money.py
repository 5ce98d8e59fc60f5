"""Money is Decimal, rounded half-up to the currency's minor unit (VND has none)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import iso4217


@lru_cache(maxsize=512)
def minor_unit(currency: str) -> int:
    try:
        exponent = iso4217.Currency(currency).exponent
    except ValueError as exc:
        raise KeyError(currency) from exc
    return exponent or 0


def is_currency(code: str) -> bool:
    try:
        minor_unit(code)
    except KeyError:
        return False
    return True


@lru_cache(maxsize=16)
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(_quantum(minor_unit(currency)), rounding=ROUND_HALF_UP)
