"""Tariff: the national schedule (AHTN lines over HS 2022), exchange rates, duty calculation."""

from onewindow.tariff.duty import Rates, TaxLine, item_taxes, to_national, totals
from onewindow.tariff.models import ExchangeRate, TariffLine
from onewindow.tariff.service import (
    TariffBook,
    import_rates,
    import_schedule,
    line_in_force,
    rate_in_force,
)

__all__ = [
    "ExchangeRate",
    "Rates",
    "TariffBook",
    "TariffLine",
    "TaxLine",
    "import_rates",
    "import_schedule",
    "item_taxes",
    "line_in_force",
    "rate_in_force",
    "to_national",
    "totals",
]
