"""The tariff domain's exchange document: a member state's schedule and rates as it publishes
them to its partners (`TARIFF_SCHEDULE`, XSD in `xsd/`). One document per version, the whole
schedule in force on its effective date; a partner keeps every version it received.
"""

from __future__ import annotations

from pathlib import Path

from onewindow.exchange.documents import DocumentType, Issuance
from onewindow.exchange.mapping import DATE, DATETIME, DECIMAL, INT, F, group

XSD = Path(__file__).with_name("xsd")
SCHEDULE = "TARIFF_SCHEDULE"

SCHEDULE_FIELDS = (
    F("country", "CountryCode"),
    F("version", "VersionNumeric", INT),
    F("effective_date", "EffectiveDate", DATE),
    F("issued_at", "IssueDateTime", DATETIME),
    F("currency", "CurrencyCode"),
    group(
        "rates",
        "ExchangeRate",
        F("currency", "CurrencyCode"),
        F("rate", "Rate", DECIMAL),
        many=True,
        optional=True,
    ),
    group(
        "lines",
        "Line",
        F("code", "Code"),
        F("unit", "Unit"),
        F("mfn", "MFN", DECIMAL),
        F("atiga", "ATIGA", DECIMAL, optional=True),
        F("vat", "VAT", DECIMAL),
        many=True,
    ),
)

# Only a country publishes its own tariff: the gateway refuses a schedule whose CountryCode
# is not the signer's (`not_issuer`) before the handler sees it. Each country's versions are
# one document (`<CC>-TARIFF`), so the gateway's version check per document applies too.
TARIFF_SCHEDULE = DocumentType(
    SCHEDULE,
    XSD / "tariff_schedule.xsd",
    "urn:onewindow:xsd:tariff-schedule:1",
    "TariffSchedule",
    SCHEDULE_FIELDS,
    issuance=Issuance("country", SCHEDULE, "country", "country"),
)
DOCUMENT_TYPES = (TARIFF_SCHEDULE,)


def document_id(country: str) -> str:
    """The exchange's id of a country's schedule: one document, its versions numbered."""
    return f"{country}-TARIFF"
