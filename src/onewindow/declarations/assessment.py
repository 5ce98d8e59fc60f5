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

from onewindow.declarations.schemas import DeclarationCreate
from onewindow.kit.codes import INCOTERMS, UNITS, is_country, is_currency, is_locode
from onewindow.kit.errors import FieldError, Text, from_validation
from onewindow.origin import Certificate, Claim, decide
from onewindow.tariff import TariffBook, TaxLine, item_taxes, to_national


@dataclass
class ItemPlan:
    seq: int
    value_national: Decimal
    taxes: list[TaxLine]
    preference_granted: bool | None = None
    preference_reason: str | None = None
    certificate_item_id: int | None = None

    @property
    def duty(self) -> TaxLine | None:
        """The import duty line (an export item has none)."""
        for line in self.taxes:
            if line.tax == "IMPORT_DUTY":
                return line
        return None


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
    """Codes against the code lists, and what an import or an export needs. These checks run
    for every declaration lodged, so a message is built only when one fails."""
    errors: list[FieldError] = []

    def fail(path: str, code: str, message: Text) -> None:
        errors.append(FieldError(path, code, message))

    if not (doc.office.startswith(country) and is_locode(doc.office)):
        message = Text(
            "{office} is not a customs office of {country}", office=doc.office, country=country
        )
        fail("office", "unknown_office", message)
    for path, value in (
        ("country_of_export", doc.country_of_export),
        ("country_of_destination", doc.country_of_destination),
        ("importer.country", doc.importer.country),
        ("exporter.country", doc.exporter.country),
    ):
        if value is not None and not is_country(value):
            fail(
                path,
                "unknown_country",
                Text("{code} is not an ISO 3166 alpha-2 country", code=value),
            )
    invoice = doc.invoice
    if not is_currency(invoice.currency):
        fail(
            "invoice.currency",
            "unknown_currency",
            Text("{code} is not an ISO 4217 currency", code=invoice.currency),
        )
    if invoice.incoterm is not None and invoice.incoterm not in INCOTERMS:
        fail(
            "invoice.incoterm",
            "unknown_incoterm",
            Text("{code} is not an Incoterms 2020 rule", code=invoice.incoterm),
        )
    for path in ("port_of_loading", "port_of_discharge"):
        value = getattr(doc.transport, path)
        if value is not None and not is_locode(value):
            fail(
                f"transport.{path}", "unknown_place", Text("{code} is not a UN/LOCODE", code=value)
            )
    if doc.type == "EX":
        if doc.country_of_export != country:
            message = Text("an export declared here leaves {country}", country=country)
            fail("country_of_export", "not_this_country", message)
        if doc.country_of_destination is None:
            message = Text("an export needs the country of destination")
            fail("country_of_destination", "required", message)
    for path, message in _IMPORT_NEEDS if doc.type == "IM" else _EXPORT_NEEDS:
        section, name = path.split(".")
        if getattr(getattr(doc, section), name) is None:
            fail(path, "required", message)
    for n, item in enumerate(doc.items):
        if not is_country(item.origin):
            fail(
                f"items.{n}.origin",
                "unknown_country",
                Text("{code} is not an ISO 3166 alpha-2 country", code=item.origin),
            )
        if item.unit not in UNITS:
            message = Text("{code} is not a UN/ECE Rec 20 unit", code=item.unit)
            fail(f"items.{n}.unit", "unknown_unit", message)
        if item.gross_mass_kg < item.net_mass_kg:
            message = Text("gross mass is less than net mass")
            fail(f"items.{n}.gross_mass_kg", "mass_inconsistent", message)
        if item.preference is not None and doc.type != "IM":
            message = Text("a preference is claimed on imports only")
            fail(f"items.{n}.preference", "not_import", message)
    return errors


_IMPORT_NEEDS = (
    ("importer.id", Text("an import needs the importer's id")),
    ("transport.arrival_date", Text("an import needs the arrival date")),
)
_EXPORT_NEEDS = (
    ("exporter.id", Text("an export needs the exporter's id")),
    ("transport.departure_date", Text("an export needs the departure date")),
)


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
                Text(
                    "no official rate for {currency} on {on}", currency=doc.invoice.currency, on=on
                ),
            )
        )
    in_force = []
    for n, item in enumerate(doc.items):
        rates = book.in_force(item.hs_code, on)
        if rates is None:
            code = "not_in_force" if book.known(item.hs_code) else "unknown_tariff_code"
            errors.append(
                FieldError(
                    f"items.{n}.hs_code",
                    code,
                    Text("no tariff line {code} in force on {on}", code=item.hs_code, on=on),
                )
            )
        in_force.append(rates)
    if errors or rate is None:
        return None, errors

    plan = Plan(doc, on, rate)
    for n, (item, rates) in enumerate(zip(doc.items, in_force, strict=True)):
        assert rates is not None
        value = to_national(item.customs_value, rate, currency)
        granted, reason, cert_item = None, None, None
        if item.preference is not None:
            ref = item.preference.certificate
            claim = Claim(ref, doc.importer.id or "", item.origin, item.hs_code, item.quantity, on)
            decision = decide(certificates.get(ref), claim, Decimal(0))
            if decision.granted and decision.item_id is not None:
                taken = claimed.get(decision.item_id, Decimal(0))
                decision = decide(certificates.get(ref), claim, taken)
            if decision.granted and rates.atiga is None:
                decision = type(decision)(False, f"tariff line {item.hs_code} has no ATIGA rate")
            granted, reason, cert_item = decision.granted, decision.reason, decision.item_id
            if granted and cert_item is not None:
                claimed[cert_item] = claimed.get(cert_item, Decimal(0)) + item.quantity
        taxes = []
        if doc.type == "IM":
            taxes = item_taxes(value, rates, bool(granted), currency)
        plan.items.append(ItemPlan(n + 1, value, taxes, granted, reason, cert_item))
    return plan, []
