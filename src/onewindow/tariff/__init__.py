"""Tariff: the national schedule (AHTN lines over HS 2022), exchange rates, duty calculation;
the schedule and rates published to partners, and the import taxes due in a partner's
country at the version it published."""

from onewindow.tariff.duty import Rates, TaxLine, item_taxes, to_national, totals
from onewindow.tariff.models import ExchangeRate, PartnerSchedule, Publication, TariffLine
from onewindow.tariff.publishing import Home, partner_schedules, publish
from onewindow.tariff.service import (
    TariffBook,
    import_rates,
    import_schedule,
    line_in_force,
    rate_in_force,
)
from onewindow.tariff.taxes import (
    Due,
    Goods,
    convert,
    import_taxes,
    import_taxes_in,
    schedule_in_force,
)

__all__ = [
    "Due",
    "ExchangeRate",
    "Goods",
    "Home",
    "PartnerSchedule",
    "Publication",
    "Rates",
    "TariffBook",
    "TariffLine",
    "TaxLine",
    "convert",
    "import_rates",
    "import_schedule",
    "import_taxes",
    "import_taxes_in",
    "item_taxes",
    "line_in_force",
    "partner_schedules",
    "publish",
    "rate_in_force",
    "schedule_in_force",
    "to_national",
    "totals",
]
