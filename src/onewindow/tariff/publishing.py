"""Each node publishes its schedule and rates to its partners; each keeps what they publish.

A publication is the whole schedule in force on its effective date (every line's MFN, ATIGA
and VAT rates) with the official exchange rates in force that day, as one signed document
(`TARIFF_SCHEDULE`) sent to every partner or the ones named, logged in the ledger as issued
once. Versions are numbered per publishing country, 1, 2, 3...; on the receiving side a
version is kept beside the earlier ones, and the version in force on a day is the highest
whose effective date has come (a new version replaces the old from its effective date; a
computation for a past day still uses what was in force then).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from onewindow.exchange import (
    Incoming,
    register_batch_scope,
    register_handler,
    send_many,
    to_xml,
)
from onewindow.exchange.repository import partner_active, partners
from onewindow.exchange.xmlsafe import MAX_BYTES
from onewindow.kit.auth import Principal, Role
from onewindow.kit.codes import UNITS
from onewindow.kit.config import Settings
from onewindow.kit.db import insert_many
from onewindow.kit.errors import FieldError, InvalidInput, Text, invalid
from onewindow.kit.money import is_currency
from onewindow.ledger import LeafEntry, gathered, log_entry
from onewindow.logged import logged
from onewindow.tariff.documents import SCHEDULE, document_id
from onewindow.tariff.models import (
    ExchangeRate,
    PartnerLine,
    PartnerRate,
    PartnerSchedule,
    Publication,
    TariffLine,
)
from onewindow.tariff.nomenclature import is_subheading

log = logging.getLogger("onewindow.tariff")
PUBLISHERS = (Role.SUPERVISOR, Role.ADMINISTRATOR)
# The envelope around the document (header, signature, an embedded certificate) takes a few
# kilobytes of the exchange's limit; keep a margin for it.
ENVELOPE_MARGIN = 16 * 1024
MAX_DOCUMENT_BYTES = MAX_BYTES - ENVELOPE_MARGIN
MAX_REPORTED = 20  # line errors listed in a refusal


@dataclass(frozen=True)
class Home:
    """This node as the tariff sees it: its country and national currency."""

    country: str
    currency: str

    @classmethod
    def of(cls, settings: Settings) -> Home:
        return cls(settings.country, settings.currency)


# ---- publishing ----


def _plain(value: Decimal) -> Decimal:
    """10.0000 as 10: the stored scale says nothing, and 10,000 lines pay for every digit."""
    return Decimal(format(value.normalize(), "f"))


def snapshot(session: Session, on: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The lines and the official rates in force on `on`, as the document carries them."""
    stmt = (
        select(TariffLine)
        .where(
            TariffLine.valid_from <= on,
            or_(TariffLine.valid_to.is_(None), TariffLine.valid_to >= on),
        )
        .order_by(TariffLine.code, TariffLine.valid_from.desc())
    )
    lines: dict[str, dict[str, Any]] = {}
    for line in session.scalars(stmt):
        if line.code in lines:  # an older version, overlapped by a later one
            continue
        row: dict[str, Any] = {"code": line.code, "unit": line.unit, "mfn": _plain(line.mfn_rate)}
        if line.atiga_rate is not None:
            row["atiga"] = _plain(line.atiga_rate)
        row["vat"] = _plain(line.vat_rate)
        lines[line.code] = row
    rates: dict[str, Decimal] = {}
    stmt_rates = (
        select(ExchangeRate)
        .where(ExchangeRate.valid_from <= on)
        .order_by(ExchangeRate.currency, ExchangeRate.valid_from.desc())
    )
    for rate in session.scalars(stmt_rates):
        rates.setdefault(rate.currency, _plain(rate.rate))
    return list(lines.values()), [{"currency": c, "rate": r} for c, r in rates.items()]


def _receivers(session: Session, home: Home, to: Sequence[str] | None) -> list[str]:
    if not to:
        found = [p.country for p in partners(session) if p.active]
        if not found:
            raise invalid("to", "no_partners", Text("this node has no partner to publish to"))
        return found
    errors = []
    for n, country in enumerate(to):
        if country == home.country:
            message = Text("{country} is this node's own country", country=country)
            errors.append(FieldError(f"to[{n}]", "own_country", message))
        elif not partner_active(session, country):
            message = Text("{country} is not a partner of this node", country=country)
            errors.append(FieldError(f"to[{n}]", "not_partner", message))
    if errors:
        raise InvalidInput(errors)
    return sorted(set(to))


def publish(
    session: Session,
    actor: Principal,
    *,
    home: Home,
    effective: date | None = None,
    to: Sequence[str] | None = None,
    now: datetime,
) -> Publication:
    """Publish the schedule and rates in force on `effective` (today by default) as the next
    version, to every active partner or those in `to`. Refused: a date in the past (partners
    may have computed on those days already), an empty schedule, no partner, or a document
    too large for the exchange."""
    actor.require(*PUBLISHERS)
    today = now.date()
    day = effective or today
    if day < today:
        message = Text(
            "{day} is in the past: a version takes effect from today at the earliest",
            day=day.isoformat(),
        )
        raise invalid("effective", "in_the_past", message)
    receivers = _receivers(session, home, to)
    lines, rates = snapshot(session, day)
    if not lines:
        message = Text("no tariff line is in force on {day}", day=day.isoformat())
        raise invalid("schedule", "empty", message)
    version = (session.scalar(select(func.max(Publication.version))) or 0) + 1
    payload = {
        "country": home.country,
        "version": version,
        "effective_date": day,
        "issued_at": now,
        "currency": home.currency,
        "lines": lines,
    } | ({"rates": rates} if rates else {})
    xml = to_xml(SCHEDULE, payload)
    if len(xml) > MAX_DOCUMENT_BYTES:
        message = Text(
            "{lines} lines make {size} bytes; the exchange carries at most {limit}",
            lines=len(lines),
            size=len(xml),
            limit=MAX_DOCUMENT_BYTES,
        )
        raise invalid("schedule", "too_large", message)
    digest = hashlib.sha256(xml).hexdigest()
    # Logged as issued once, whatever the number of partners it goes to: it is one document.
    log_entry(
        session,
        LeafEntry(
            SCHEDULE, document_id(home.country), version, home.country, digest, now, "issued"
        ),
    )
    send_many(
        session,
        sender=home.country,
        receivers=receivers,
        document_type=SCHEDULE,
        document_id=document_id(home.country),
        version=version,
        payload=payload,
        now=now,
    )  # built once more, not once per partner
    publication = Publication(
        version=version,
        effective_date=day,
        published_at=now,
        currency=home.currency,
        line_count=len(lines),
        rate_count=len(rates),
        size=len(xml),
        document_sha256=digest,
        receivers=",".join(receivers),
    )
    session.add(publication)
    session.flush()
    log.info(
        "tariff.published version=%d effective=%s lines=%d bytes=%d to=%s",
        version,
        day,
        len(lines),
        len(xml),
        publication.receivers,
    )
    return publication


def publications(session: Session, actor: Principal) -> list[Publication]:
    actor.require(Role.OFFICER, *PUBLISHERS)
    return list(session.scalars(select(Publication).order_by(Publication.version.desc())))


# ---- receiving ----


def _check(message: Incoming, held: int) -> list[FieldError]:
    """What is wrong with a partner's schedule beyond its schema (which the gateway checked,
    with its CountryCode being the signer's)."""
    data, country = message.payload, message.sender
    errors: list[FieldError] = []
    if message.document_id != document_id(country):
        text = Text("{country}'s schedule is document {expected}", country=country,
                    expected=document_id(country))  # fmt: skip
        errors.append(FieldError("document_id", "wrong_document", text))
    if data["version"] != message.version:
        text = Text("the document is version {inside}; its envelope says {outside}",
                    inside=data["version"], outside=message.version)  # fmt: skip
        errors.append(FieldError("version", "version_mismatch", text))
    elif data["version"] <= held:
        text = Text("version {version} is not above version {held}, held here",
                    version=data["version"], held=held)  # fmt: skip
        errors.append(FieldError("version", "not_newer", text))
    for path, code in [("currency", data["currency"])] + [
        (f"rates[{n}].currency", r["currency"]) for n, r in enumerate(data.get("rates", []))
    ]:
        if not is_currency(code):
            text = Text("{code} is not an ISO 4217 currency", code=code)
            errors.append(FieldError(path, "unknown_currency", text))
    bad = 0
    for n, line in enumerate(data["lines"]):
        if not is_subheading(line["code"][:6]):
            text = Text("{code} is not a line of an HS 2022 subheading", code=line["code"])
            errors.append(FieldError(f"lines[{n}].code", "unknown_hs", text))
            bad += 1
        elif line["unit"] not in UNITS:
            text = Text("{unit} is not a UN/ECE Rec 20 unit", unit=line["unit"])
            errors.append(FieldError(f"lines[{n}].unit", "unknown_unit", text))
            bad += 1
        if bad >= MAX_REPORTED:
            break
    return errors


def on_schedule(session: Session, message: Incoming) -> None:
    """A partner's schedule and rates: kept as a new version of that partner's, all of it or
    nothing (a refusal stores no line)."""
    country, data = message.sender, message.payload
    held = session.scalar(
        select(func.max(PartnerSchedule.version)).where(PartnerSchedule.country == country)
    )
    errors = _check(message, held or 0)
    if errors:
        raise InvalidInput(errors)
    rates = data.get("rates", [])
    schedule = PartnerSchedule(
        country=country,
        version=data["version"],
        effective_date=data["effective_date"],
        issued_at=data["issued_at"],
        received_at=message.received_at,
        currency=data["currency"],
        line_count=len(data["lines"]),
        rate_count=len(rates),
        message_id=message.message_id,
    )
    session.add(schedule)
    session.flush()
    insert_many(
        session,
        PartnerLine,
        [
            {"schedule_id": schedule.id, "code": line["code"], "unit": line["unit"],
             "mfn_rate": line["mfn"], "atiga_rate": line.get("atiga"), "vat_rate": line["vat"]}
            for line in data["lines"]
        ],
    )  # fmt: skip
    insert_many(
        session,
        PartnerRate,
        [{"schedule_id": schedule.id, "currency": r["currency"], "rate": r["rate"]} for r in rates],
    )
    log.info(
        "tariff.partner_schedule_received country=%s version=%d effective=%s lines=%d",
        country,
        schedule.version,
        schedule.effective_date,
        schedule.line_count,
    )


def partner_schedules(
    session: Session, actor: Principal, country: str | None = None
) -> list[PartnerSchedule]:
    """The versions received, by country and newest first (of one country if given)."""
    actor.require(Role.OFFICER, *PUBLISHERS)
    stmt = select(PartnerSchedule)
    if country is not None:
        stmt = stmt.where(PartnerSchedule.country == country)
    order = (PartnerSchedule.country, PartnerSchedule.version.desc())
    return list(session.scalars(stmt.order_by(*order)))


def register() -> None:
    register_batch_scope("ledger", gathered)  # a received batch is logged in one append
    register_handler(SCHEDULE, logged(on_schedule))
