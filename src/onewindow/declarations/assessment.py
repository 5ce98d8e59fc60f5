"""Checks and computes one declaration against reference data already loaded. No I/O: the
caller passes the tariff book, the certificates claimed and the node's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from onewindow.codes import INCOTERMS, UNITS, is_country, is_currency, is_locode
from onewindow.declarations.schemas import DeclarationCreate
from onewindow.errors import FieldError, from_validation
from onewindow.origin import Certificate, Claim, decide
from onewindow.tariff import Rates, TariffBook, TaxLine, item_taxes, to_national


@dataclass
class ItemPlan:
    seq: int
    value_national: Decimal
    taxes: list[TaxLine]
    preference_granted: bool | None = None
    preference_reason: str | None = None
    certificate_item_id: int | None = None


@dataclass
class Plan:
    """A valid declaration with everything computed, ready to be stored."""

    doc: DeclarationCreate
    goods_date: date
    exchange_rate: Decimal
    items: list[ItemPlan] = field(default_factory=list)

    @cached_property  # items are complete once the plan is returned; asked for several times
    def totals(self) -> dict[str, Decimal]:
        out = {"IMPORT_DUTY": Decimal(0), "VAT": Decimal(0)}
        for item in self.items:
            for line in item.taxes:
                out[line.tax] += line.amount
        out["customs_value"] = sum((i.value_national for i in self.items), Decimal(0))
        out["total_due"] = out["IMPORT_DUTY"] + out["VAT"]
        return out


def parse(raw: Any) -> tuple[DeclarationCreate | None, list[FieldError]]:
    """Structure and types, with every error's path (e.g. `items.0.quantity`)."""
    try:
        return DeclarationCreate.model_validate(raw), []
    except ValidationError as exc:
        return None, from_validation(exc.errors(include_url=False))


def goods_date_of(doc: DeclarationCreate) -> date | None:
    return doc.transport.arrival_date if doc.type == "IM" else doc.transport.departure_date


def _codes(doc: DeclarationCreate, country: str) -> list[FieldError]:
    errors: list[FieldError] = []

    def need(ok: bool, path: str, code: str, message: str) -> None:
        if not ok:
            errors.append(FieldError(path, code, message))

    need(
        doc.office.startswith(country) and is_locode(doc.office),
        "office",
        "unknown_office",
        f"{doc.office} is not a customs office of {country}",
    )
    for path, value in (
        ("country_of_export", doc.country_of_export),
        ("country_of_destination", doc.country_of_destination),
        ("importer.country", doc.importer.country),
        ("exporter.country", doc.exporter.country),
    ):
        need(
            value is None or is_country(value),
            path,
            "unknown_country",
            f"{value} is not an ISO 3166 alpha-2 country",
        )
    need(
        is_currency(doc.invoice.currency),
        "invoice.currency",
        "unknown_currency",
        f"{doc.invoice.currency} is not an ISO 4217 currency",
    )
    need(
        doc.invoice.incoterm is None or doc.invoice.incoterm in INCOTERMS,
        "invoice.incoterm",
        "unknown_incoterm",
        f"{doc.invoice.incoterm} is not an Incoterms 2020 rule",
    )
    for path in ("port_of_loading", "port_of_discharge"):
        value = getattr(doc.transport, path)
        need(
            value is None or is_locode(value),
            f"transport.{path}",
            "unknown_place",
            f"{value} is not a UN/LOCODE",
        )
    if doc.type == "IM":
        need(
            doc.importer.id is not None,
            "importer.id",
            "required",
            "an import needs the importer's id",
        )
        need(
            doc.transport.arrival_date is not None,
            "transport.arrival_date",
            "required",
            "an import needs the arrival date",
        )
    else:
        need(
            doc.country_of_export == country,
            "country_of_export",
            "not_this_country",
            f"an export declared here leaves {country}",
        )
        need(
            doc.country_of_destination is not None,
            "country_of_destination",
            "required",
            "an export needs the country of destination",
        )
        need(
            doc.exporter.id is not None,
            "exporter.id",
            "required",
            "an export needs the exporter's id",
        )
        need(
            doc.transport.departure_date is not None,
            "transport.departure_date",
            "required",
            "an export needs the departure date",
        )
    for n, item in enumerate(doc.items):
        need(
            is_country(item.origin),
            f"items.{n}.origin",
            "unknown_country",
            f"{item.origin} is not an ISO 3166 alpha-2 country",
        )
        need(
            item.unit in UNITS,
            f"items.{n}.unit",
            "unknown_unit",
            f"{item.unit} is not a UN/ECE Rec 20 unit",
        )
        need(
            item.gross_mass_kg >= item.net_mass_kg,
            f"items.{n}.gross_mass_kg",
            "mass_inconsistent",
            "gross mass is less than net mass",
        )
        need(
            item.preference is None or doc.type == "IM",
            f"items.{n}.preference",
            "not_import",
            "a preference is claimed on imports only",
        )
    return errors


def assess(
    doc: DeclarationCreate,
    *,
    country: str,
    currency: str,
    book: TariffBook,
    certificates: Mapping[str, Certificate | None],
    claimed: dict[int, Decimal],
) -> tuple[Plan | None, list[FieldError]]:
    """Validate codes and reference data, then compute value, preference and taxes per item.
    `claimed` tracks certificate quantities taken by earlier declarations of the same batch."""
    errors = _codes(doc, country)
    on = goods_date_of(doc)
    if errors or on is None:
        return None, errors
    if doc.invoice.currency == currency:
        rate: Decimal | None = Decimal(1)
    else:
        rate = book.rate(doc.invoice.currency, on)
    if rate is None:
        errors.append(
            FieldError(
                "invoice.currency",
                "no_exchange_rate",
                f"no official rate for {doc.invoice.currency} on {on}",
            )
        )
    lines = []
    for n, item in enumerate(doc.items):
        line = book.line(item.hs_code, on)
        if line is None:
            code = "not_in_force" if book.known(item.hs_code) else "unknown_tariff_code"
            errors.append(
                FieldError(
                    f"items.{n}.hs_code", code, f"no tariff line {item.hs_code} in force on {on}"
                )
            )
        lines.append(line)
    if errors or rate is None:
        return None, errors

    plan = Plan(doc, on, rate)
    for n, (item, line) in enumerate(zip(doc.items, lines, strict=True)):
        assert line is not None
        value = to_national(item.customs_value, rate, currency)
        granted, reason, cert_item = None, None, None
        if item.preference is not None:
            ref = item.preference.certificate
            claim = Claim(ref, doc.importer.id or "", item.origin, item.hs_code, item.quantity, on)
            decision = decide(certificates.get(ref), claim, Decimal(0))
            if decision.granted and decision.item_id is not None:
                taken = claimed.get(decision.item_id, Decimal(0))
                decision = decide(certificates.get(ref), claim, taken)
            if decision.granted and line.atiga_rate is None:
                decision = type(decision)(False, f"tariff line {line.code} has no ATIGA rate")
            granted, reason, cert_item = decision.granted, decision.reason, decision.item_id
            if granted and cert_item is not None:
                claimed[cert_item] = claimed.get(cert_item, Decimal(0)) + item.quantity
        taxes = []
        if doc.type == "IM":
            rates = Rates(line.mfn_rate, line.atiga_rate, line.vat_rate)
            taxes = item_taxes(value, rates, bool(granted), currency)
        plan.items.append(ItemPlan(n + 1, value, taxes, granted, reason, cert_item))
    return plan, []
