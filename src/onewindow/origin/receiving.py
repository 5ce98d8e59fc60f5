"""The importing side of e-Form D, and the notices each side receives from the other.

Handlers run inside the exchange's receiving transaction; raising InvalidInput rejects the
message with coded reasons (the sender sees them on its signed receipt)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.exchange import Incoming, register_batch_scope, register_handler
from onewindow.kit.auth import Principal
from onewindow.kit.db import jsonable
from onewindow.kit.errors import (
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Text,
    invalid,
)
from onewindow.ledger import gathered
from onewindow.logged import logged, send_logged
from onewindow.origin.models import Certificate, VerificationRequest
from onewindow.origin.service import (
    AUTHORITIES,
    CUSTOMS,
    OFFICIALS,
    form_d_items,
    get_certificate,
)

log = logging.getLogger("onewindow.origin")
VALIDITY = timedelta(days=365)
RESULTS = ("confirmed", "partially_confirmed", "not_confirmed")


def on_form_d(session: Session, message: Incoming) -> None:
    """A Form D from the exporting country: store it for preference claims (or update it).
    The gateway has checked that the sender issued it (the exporter's country, and the
    reference bound to its first issuer)."""
    data = message.payload
    cert = get_certificate(session, data["reference"])
    if cert is not None and cert.source != "exchange":
        raise InvalidInput([FieldError("reference", "conflict", "reference already used here")])
    issue_date: date = data["certification"]["issue_date"]
    if cert is None:
        cert = Certificate(reference=data["reference"], source="exchange", scheme="ATIGA")
        session.add(cert)
    elif cert.status in ("cancelled", "replaced"):
        raise InvalidInput([FieldError("reference", cert.status, f"certificate is {cert.status}")])
    consignee = data["consignee"]
    cert.exporting_country = message.sender
    cert.importing_country = message.receiver
    cert.exporter_name = data["exporter"]["name"]
    cert.importer_id = consignee.get("id") or ""
    cert.importer_name = consignee["name"]
    cert.issue_date, cert.valid_until = issue_date, issue_date + VALIDITY
    cert.status, cert.recorded_at, cert.version = "received", message.received_at, message.version
    cert.document = jsonable(data)
    used = {i.item_number: i.used_quantity for i in cert.items}
    if cert.items:  # a new version: its items replace the old ones (whose use is kept)
        for item in list(cert.items):
            session.delete(item)
        session.flush()
    cert.items = form_d_items(data["items"], used)
    log.info("origin.form_d_received reference=%s from=%s", cert.reference, message.sender)


def on_status(session: Session, message: Incoming) -> None:
    """A status notice: utilised / rejected (to the issuer), cancelled / replaced (to the
    importing side)."""
    data = message.payload
    cert = get_certificate(session, data["reference"])
    if cert is None:
        raise InvalidInput(
            [
                FieldError(
                    "reference",
                    "unknown_certificate",
                    f"certificate {data['reference']} is not known here",
                )
            ]
        )
    status = data["status"]
    reasons = "; ".join(r.get("text") or r["code"] for r in data.get("reasons", []))
    if status in ("utilised", "rejected"):
        if cert.source != "issued" or cert.importing_country != message.sender:
            raise InvalidInput(
                [
                    FieldError(
                        "status", "not_importing_country", "only the importing country reports use"
                    )
                ]
            )
        if cert.status in ("cancelled", "replaced"):
            return  # a late notice about a certificate withdrawn since: nothing to change
        # A rejection does not undo an earlier utilisation: utilised wins.
        if status == "utilised" or cert.status != "utilised":
            cert.status, cert.status_reason = status, reasons or data.get("declaration_id")
        for item in data.get("items", []):
            for row in cert.items:
                if row.item_number == item["item_number"] and status == "utilised":
                    row.used_quantity += item["quantity"]
    elif status in ("cancelled", "replaced"):
        if cert.exporting_country != message.sender:
            raise InvalidInput([FieldError("status", "not_issuer", "only the issuer withdraws")])
        cert.status, cert.status_reason = status, reasons or None
        cert.replaced_by = data.get("replacement_reference")
    log.info("origin.form_d_status reference=%s status=%s", cert.reference, status)


@dataclass(frozen=True)
class ClaimOutcome:
    """What a declaration did with a certificate it claimed, for the notice to the issuer."""

    reference: str
    declaration: str
    granted: bool
    reason: str
    item_id: int | None  # the certificate item the claim was granted against
    quantity: Decimal
    unit: str


def report_claims(session: Session, outcomes: list[ClaimOutcome], *, now: datetime) -> None:
    """Tell issuing countries what became of their certificates (box 4): one notice per
    certificate and declaration. Certificates recorded by hand have no one to tell."""
    grouped: dict[tuple[str, str], list[ClaimOutcome]] = {}
    for outcome in outcomes:
        grouped.setdefault((outcome.reference, outcome.declaration), []).append(outcome)
    references = sorted({reference for reference, _ in grouped})
    exchanged = {
        cert.reference: cert
        for start in range(0, len(references), 900)
        for cert in session.scalars(
            select(Certificate).where(
                Certificate.reference.in_(references[start : start + 900]),
                Certificate.source == "exchange",
            )
        )
    }
    for (reference, declaration), group in grouped.items():
        cert = exchanged.get(reference)
        if cert is None:
            continue
        numbers = {item.id: item.item_number for item in cert.items}
        granted = [
            {"item_number": numbers[o.item_id], "quantity": o.quantity, "unit": o.unit}
            for o in group
            if o.granted and o.item_id is not None and o.item_id in numbers
        ]
        notice: dict[str, Any] = {
            "reference": reference,
            "issuer_country": cert.exporting_country,
            "issued_at": now,
            "declaration_id": declaration,
        }
        if granted:
            notice["status"] = "utilised"
            notice["items"] = granted
        else:
            notice["status"] = "rejected"
            notice["reasons"] = [
                {"code": "preference_not_given", "text": o.reason[:300]} for o in group
            ]
        send_logged(
            session,
            sender=cert.importing_country,
            receiver=cert.exporting_country,
            document_type="FORM_D_STATUS",
            document_id=f"{reference}/{declaration}",
            version=1,
            payload=notice,
            now=now,
        )


def request_verification(
    session: Session,
    actor: Principal,
    reference: str,
    reason: str,
    *,
    country: str,
    authority: str | None = None,
    now: datetime,
) -> VerificationRequest:
    """Customs of this (importing) country ask the issuing country to verify the origin of a
    certificate received from it; `authority` defaults to "Customs <country>"."""
    actor.require(*CUSTOMS)
    if not reason.strip():
        raise invalid("reason", "required", Text("say what makes the origin doubtful"))
    cert = get_certificate(session, reference)
    if cert is None or cert.source != "exchange":
        raise NotFound(
            Text(
                "certificate {reference} was not received through the exchange",
                reference=reference,
            )
        )
    request = VerificationRequest(
        request_id=str(uuid.uuid4()),
        reference=reference,
        requesting_country=country,
        issuer_country=cert.exporting_country,
        reason=reason[:500],
        status="open",
        requested_at=now,
    )
    session.add(request)
    send_logged(
        session,
        sender=country,
        receiver=cert.exporting_country,
        document_type="FORM_D_VERIFICATION_REQUEST",
        document_id=request.request_id,
        version=1,
        payload={
            "request_id": request.request_id,
            "reference": reference,
            "country": country,
            "authority": authority or f"Customs {country}",
            "issued_at": now,
            "reasons": [{"code": "verification", "text": reason[:300]}],
        },
        now=now,
    )
    return request


def on_verification_request(session: Session, message: Incoming) -> None:
    data = message.payload
    cert = get_certificate(session, data["reference"])
    if cert is None or cert.source != "issued":
        raise InvalidInput(
            [FieldError("reference", "unknown_certificate", "no such certificate was issued here")]
        )
    if cert.importing_country != message.sender:  # only where the certificate went may ask
        raise InvalidInput(
            [FieldError("country", "not_importing_country", "the certificate went elsewhere")]
        )
    reason = "; ".join(r.get("text") or r["code"] for r in data.get("reasons", []))
    session.add(
        VerificationRequest(
            request_id=data["request_id"],
            reference=data["reference"],
            requesting_country=message.sender,
            issuer_country=message.receiver,
            reason=reason or "-",
            status="open",
            requested_at=message.received_at,
        )
    )


def answer_verification(
    session: Session,
    actor: Principal,
    request_id: str,
    result: str,
    note: str,
    *,
    authority: str,
    now: datetime,
) -> VerificationRequest:
    """The issuing authority answers a request received about a certificate issued here."""
    actor.require(*AUTHORITIES)
    errors = []
    if result not in RESULTS:
        message = Text("answer one of {results}", results=", ".join(RESULTS))
        errors.append(FieldError("result", "unknown", message))
    if not note.strip():
        errors.append(FieldError("note", "required", Text("say what was checked and found")))
    if errors:
        raise InvalidInput(errors)
    request = session.scalar(
        select(VerificationRequest).where(VerificationRequest.request_id == request_id)
    )
    cert = get_certificate(session, request.reference) if request is not None else None
    if request is None or cert is None or cert.source != "issued":
        # A request this node sent is answered by the issuer it went to, not here.
        raise NotFound(
            Text(
                "no verification request {request_id} about a certificate issued here",
                request_id=request_id,
            )
        )
    if request.status != "open":
        raise InvalidTransition(
            Text(
                "request {request_id} was already answered ({result})",
                request_id=request_id,
                result=request.status,
            )
        )
    request.status, request.answer, request.answered_at = result, note[:500], now
    send_logged(
        session,
        sender=request.issuer_country,
        receiver=request.requesting_country,
        document_type="FORM_D_VERIFICATION_RESPONSE",
        document_id=request_id,
        version=1,
        payload={
            "request_id": request_id,
            "reference": request.reference,
            "country": request.issuer_country,
            "authority": authority,
            "issued_at": now,
            "result": result,
            "reasons": [{"code": result, "text": note[:300]}],
        },
        now=now,
    )
    return request


def on_verification_response(session: Session, message: Incoming) -> None:
    data = message.payload
    request = session.scalar(
        select(VerificationRequest).where(VerificationRequest.request_id == data["request_id"])
    )
    if request is None:
        raise InvalidInput([FieldError("request_id", "unknown_request", "no such request here")])
    # Only the country asked answers, and about the certificate it was asked about.
    if request.issuer_country != message.sender or request.reference != data["reference"]:
        raise InvalidInput(
            [FieldError("request_id", "not_issuer", "this request went to another issuer")]
        )
    request.status, request.answered_at = data["result"], message.received_at
    request.answer = "; ".join(r.get("text") or r["code"] for r in data.get("reasons", []))


def verifications(
    session: Session,
    actor: Principal,
    *,
    country: str,
    reference: str | None = None,
    limit: int = 100,
) -> tuple[list[VerificationRequest], list[VerificationRequest]]:
    """The verification requests at this node (of `country`), newest first: those received
    about certificates issued here, and those sent to issuers (with their answers); of one
    certificate if `reference` is given; at most `limit` of each."""
    actor.require(*OFFICIALS)

    def where(*conditions: Any) -> list[VerificationRequest]:
        stmt = select(VerificationRequest).where(*conditions)
        if reference is not None:
            stmt = stmt.where(VerificationRequest.reference == reference)
        return list(session.scalars(stmt.order_by(VerificationRequest.id.desc()).limit(limit)))

    return (
        where(VerificationRequest.issuer_country == country),
        where(VerificationRequest.requesting_country == country),
    )


def answerable(actor: Principal, request: VerificationRequest, country: str) -> bool:
    """Whether `actor` may answer `request` now, at the node of `country`."""
    return (
        actor.role in AUTHORITIES and request.status == "open" and request.issuer_country == country
    )


def verification(session: Session, actor: Principal, request_id: str) -> VerificationRequest:
    actor.require(*OFFICIALS)
    found = session.scalar(
        select(VerificationRequest).where(VerificationRequest.request_id == request_id)
    )
    if found is None:
        raise NotFound(Text("no verification request {request_id}", request_id=request_id))
    return found


def register() -> None:
    register_batch_scope("ledger", gathered)  # a received batch is logged in one append
    register_handler("FORM_D", logged(on_form_d))
    register_handler("FORM_D_STATUS", logged(on_status))
    register_handler("FORM_D_VERIFICATION_REQUEST", logged(on_verification_request))
    register_handler("FORM_D_VERIFICATION_RESPONSE", logged(on_verification_response))
