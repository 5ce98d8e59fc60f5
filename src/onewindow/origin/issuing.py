"""The exporting side of e-Form D: the issuing authority issues, cancels and replaces
certificates; the exporter authorises transmission to the importing country's node; the
importing side's notices (utilised, rejected) and verification requests come back here.
Every certificate issued or revoked is logged in the node's ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onewindow.exchange import documents, send
from onewindow.kit.auth import Principal, Role
from onewindow.kit.config import Settings
from onewindow.kit.db import jsonable
from onewindow.kit.errors import (
    FieldError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Text,
    invalid,
)
from onewindow.logged import log_document, send_logged
from onewindow.origin import criteria
from onewindow.origin.models import Certificate, CertificateSequence
from onewindow.origin.service import AUTHORITIES, CUSTOMS, WITHDRAWN, exporter_id, form_d_items
from onewindow.origin.settings import OriginSettings
from onewindow.tariff.nomenclature import is_subheading

log = logging.getLogger("onewindow.origin")
VALIDITY = timedelta(days=365)  # ATIGA: 12 months from issue


def _next_reference(session: Session, country: str, year: int) -> str:
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(make(CertificateSequence).values(year=year, last=0).on_conflict_do_nothing())
    last = session.execute(
        update(CertificateSequence)
        .where(CertificateSequence.year == year)
        .values(last=CertificateSequence.last + 1)
        .returning(CertificateSequence.last)
    ).scalar_one()
    return f"{country}-{year}-{last:06d}"


@dataclass(frozen=True)
class Issuer:
    """Who issues Form D at this node: its country, and box 12's authority and place."""

    country: str
    authority: str
    place: str

    @classmethod
    def of(cls, settings: Settings) -> Issuer:
        box12 = OriginSettings.of(settings)
        return cls(settings.country, box12.issuing_authority, box12.issuing_place)


def issue(
    session: Session,
    actor: Principal,
    application: dict[str, Any],
    *,
    issuer: Issuer,
    now: datetime,
) -> Certificate:
    """Issue a Form D from an exporter's application (boxes 1 to 13 but the reference and
    the certification, which the authority adds)."""
    actor.require(*AUTHORITIES)
    country = issuer.country
    if not isinstance(application, dict):
        message = Text("the application is a JSON object")
        raise InvalidInput([FieldError("body", "type", message)])
    data = dict(application)
    data["reference"] = "XX-0000-000000"  # a placeholder so the schema check can run first
    data["certification"] = {
        "authority": issuer.authority,
        "issue_date": now.date(),
        "place": issuer.place,
    }
    data = documents.from_xml("FORM_D", documents.to_xml("FORM_D", data))  # checks the schema
    _check_hs(data["items"])
    criteria.check_form_d(data)  # criteria, FOB values, cumulation, retroactive issue
    if data["exporter"]["country"] != country:
        raise InvalidInput(
            [
                FieldError(
                    "exporter.country",
                    "not_this_country",
                    Text("a Form D issued here is for exports from {country}", country=country),
                )
            ]
        )
    data["reference"] = _next_reference(session, country, now.year)
    consignee = data["consignee"]
    cert = Certificate(
        reference=data["reference"],
        scheme="ATIGA",
        exporting_country=country,
        importing_country=data["declaration"]["importing_country"],
        exporter_name=data["exporter"]["name"],
        importer_id=consignee.get("id") or "",
        importer_name=consignee["name"],
        issue_date=now.date(),
        valid_until=now.date() + VALIDITY,
        status="issued",
        source="issued",
        recorded_at=now,
        document=jsonable(data),
        version=1,
    )
    cert.items = form_d_items(data["items"])
    session.add(cert)
    session.flush()
    log_document(
        session,
        kind="issued",
        document_type="FORM_D",
        document_id=cert.reference,
        version=1,
        issuer=country,
        payload=data,
        now=now,
    )
    log.info("origin.form_d_issued reference=%s", cert.reference)
    return cert


def _check_hs(items: list[dict[str, Any]]) -> None:
    """Box 7 names goods by their HS code, whose first six digits every member state reads
    alike: they must be an HS 2022 subheading (the national digits after them are the
    exporting country's own)."""
    errors = [
        FieldError(
            f"items[{n}].hs_code",
            "unknown_hs",
            Text("{code} is not an HS 2022 subheading", code=item["hs_code"][:6]),
        )
        for n, item in enumerate(items)
        if not is_subheading(item["hs_code"][:6])
    ]
    if errors:
        raise InvalidInput(errors)


def application_of(cert: Certificate) -> dict[str, Any]:
    """The application a Form D issued here was made from: its boxes but the reference and
    what the authorities add (box 4 by the importing side, box 12 by the issuer)."""
    added = ("reference", "official_use", "certification")
    return {k: v for k, v in (cert.document or {}).items() if k not in added}


def issued(session: Session, reference: str) -> Certificate:
    cert = session.scalar(
        select(Certificate).where(
            Certificate.reference == reference, Certificate.source == "issued"
        )
    )
    if cert is None:
        raise NotFound(Text("no certificate {reference} was issued here", reference=reference))
    return cert


def transmit(session: Session, actor: Principal, reference: str, *, now: datetime) -> Certificate:
    """The exporter authorises transmission: the Form D goes to the importing country's node."""
    cert = issued(session, reference)
    if actor.role is Role.TRADER and actor.party_id != exporter_id(cert):
        raise Forbidden(Text("only the exporter named in box 1 may authorise transmission"))
    if actor.role not in (Role.TRADER, *AUTHORITIES):
        raise Forbidden(Text("transmission is authorised by the exporter or the issuing authority"))
    if cert.status != "issued":
        raise InvalidTransition(
            Text(
                "certificate {reference} is {status}, not issued",
                reference=reference,
                status=Text(cert.status),
            )
        )
    send(
        session,
        sender=cert.exporting_country,
        receiver=cert.importing_country,
        document_type="FORM_D",
        document_id=reference,
        version=cert.version,
        payload=cert.document or {},
        now=now,
    )
    cert.status, cert.transmitted_at = "transmitted", now
    return cert


def _notice(cert: Certificate, status: str, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "reference": cert.reference,
        "status": status,
        "issuer_country": cert.exporting_country,
        "issued_at": now,
    } | extra


def cancel(
    session: Session, actor: Principal, reference: str, reason: str, *, now: datetime
) -> Certificate:
    actor.require(*AUTHORITIES)
    if not reason.strip():
        raise invalid("reason", "required", Text("say why the certificate is cancelled"))
    cert = issued(session, reference)
    if cert.status in WITHDRAWN:
        raise InvalidTransition(
            Text(
                "certificate {reference} is already {status}",
                reference=reference,
                status=Text(cert.status),
            )
        )
    cert.status_reason = reason
    _withdraw(session, cert, "cancelled", now, reasons=[{"code": "cancelled", "text": reason}])
    return cert


def replace(
    session: Session,
    actor: Principal,
    reference: str,
    application: dict[str, Any],
    *,
    issuer: Issuer,
    now: datetime,
) -> Certificate:
    actor.require(*AUTHORITIES)
    old = issued(session, reference)
    if old.status in WITHDRAWN:
        raise InvalidTransition(
            Text(
                "certificate {reference} is already {status}",
                reference=reference,
                status=Text(old.status),
            )
        )
    new = issue(session, actor, application, issuer=issuer, now=now)
    old.replaced_by = new.reference
    _withdraw(session, old, "replaced", now, replacement_reference=new.reference)
    return new


def _withdraw(
    session: Session, cert: Certificate, status: str, now: datetime, **notice: Any
) -> None:
    """Cancel or replace: log the revocation, and tell the importing node if it has the
    certificate, so that it refuses later claims."""
    cert.status = status
    _revoke(session, cert, now)
    if cert.transmitted_at is not None:
        send_logged(
            session,
            sender=cert.exporting_country,
            receiver=cert.importing_country,
            document_type="FORM_D_STATUS",
            document_id=f"{cert.reference}/{status}",
            version=1,
            payload=_notice(cert, status, now, **notice),
            now=now,
        )


def _revoke(session: Session, cert: Certificate, now: datetime) -> None:
    log_document(
        session,
        kind="revoked",
        document_type="FORM_D",
        document_id=cert.reference,
        version=cert.version,
        issuer=cert.exporting_country,
        payload=cert.document or {},
        now=now,
    )


def actions(actor: Principal, cert: Certificate) -> frozenset[str]:
    """What `actor` may do with `cert` now, as the use cases above (and
    `receiving.request_verification`) allow it: the pages offer these, and each use case
    checks again."""
    allowed: set[str] = set()
    if cert.source == "issued":
        exporter = actor.role is Role.TRADER and actor.party_id == exporter_id(cert)
        if cert.status == "issued" and (actor.role in AUTHORITIES or exporter):
            allowed.add("transmit")
        if cert.status not in WITHDRAWN and actor.role in AUTHORITIES:
            allowed |= {"cancel", "replace"}
    elif cert.source == "exchange" and actor.role in CUSTOMS:
        allowed.add("verify")
    return frozenset(allowed)


def certificates(
    session: Session, source: str | None = None, limit: int = 100
) -> list[Certificate]:
    stmt = select(Certificate).order_by(Certificate.id.desc()).limit(limit)
    if source:
        stmt = stmt.where(Certificate.source == source)
    return list(session.scalars(stmt))
