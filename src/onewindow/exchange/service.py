"""The gateway's use cases: queue a document for a partner (the outbox), take a partner's
message in and answer it with a signed receipt (see `inbox`), settle an outgoing message from
the receipt that came back, and retry what failed.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from onewindow.exchange import documents, envelope, repository, wakeup
from onewindow.exchange.envelope import ReceiptStatus, Signer
from onewindow.exchange.handlers import (
    Handler,
    Incoming,
    handler_for,
    register_batch_scope,
    register_handler,
    unregister_handler,
)
from onewindow.exchange.inbox import Outcome, apply_verified, receive_many, verify
from onewindow.exchange.models import Partner
from onewindow.exchange.trust import TrustStore
from onewindow.kit import audit
from onewindow.kit.config import PartnerConfig
from onewindow.kit.errors import FieldError, InvalidInput, NotFound, Text, invalid

__all__ = [
    "Handler",
    "Incoming",
    "Outcome",
    "Queued",
    "handler_for",
    "receive",
    "receive_many",
    "register_batch_scope",
    "register_handler",
    "retry",
    "send",
    "send_many",
    "settle",
    "sync_partners",
    "unregister_handler",
]

log = logging.getLogger("onewindow.exchange")
# As the envelope schema's IdentifierType: checked when queuing, not when sealing later.
DOCUMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/._]{0,39}")
_OUT_STATUS = {
    ReceiptStatus.RECEIVED: "processed",
    ReceiptStatus.RECEIVED_WITH_WARNINGS: "delivered",
    ReceiptStatus.REJECTED: "rejected",
}


# ---- partners ----


def sync_partners(
    session: Session,
    partners: Mapping[str, PartnerConfig],
    *,
    now: datetime,
    key_ids: Mapping[str, list[str]] | None = None,
) -> None:
    """Mirror the configured partners into the partner table; partners no longer configured
    become inactive (their messages stay)."""
    known = {p.country: p for p in repository.partners(session)}
    for country, config in partners.items():
        row = known.get(country)
        ids = sorted((key_ids or {}).get(country, []))
        if row is None:
            session.add(
                Partner(
                    country=country,
                    endpoint=config.endpoint,
                    active=True,
                    key_ids=ids,
                    updated_at=now,
                )
            )
        elif (row.endpoint, row.active, row.key_ids) != (config.endpoint, True, ids):
            row.endpoint, row.active, row.key_ids, row.updated_at = config.endpoint, True, ids, now
    for country, row in known.items():
        if country not in partners and row.active:
            row.active, row.updated_at = False, now
    session.flush()


# ---- sending ----


def send(
    session: Session,
    *,
    sender: str,
    receiver: str,
    document_type: str,
    document_id: str,
    version: int,
    payload: Mapping[str, Any],
    now: datetime,
) -> str:
    """Queue a document for a partner in the caller's transaction; return the message id.
    The delivery worker sends it after commit, so a rolled back transaction sends nothing."""
    return send_many(
        session, sender=sender, receivers=[receiver], document_type=document_type,
        document_id=document_id, version=version, payload=payload, now=now,
    ).message_ids[0]  # fmt: skip


class Queued(NamedTuple):
    """What `send_many` queued: a message id per receiver, in their order, and the document
    they all carry (validated XML, as a ledger entry hashes it)."""

    message_ids: list[str]
    document: bytes


def send_many(
    session: Session,
    *,
    sender: str,
    receivers: Sequence[str],
    document_type: str,
    document_id: str,
    version: int,
    payload: Mapping[str, Any],
    now: datetime,
) -> Queued:
    """Queue one document for several partners, as `send` does for each: every receiver is
    checked before anything is queued, the document is built and validated once, and each
    receiver gets its own outgoing message (own id, status, receipt and retries)."""
    if not receivers:
        raise invalid("receivers", "no_receiver", Text("a document needs a receiver"))
    for receiver in receivers:
        if receiver == sender:
            message = Text("{sender} cannot send to itself", sender=sender)
            raise invalid("receiver", "own_country", message)
    active = repository.partners_active(session, receivers)
    for receiver in receivers:
        if not active[receiver]:
            raise NotFound(
                Text(
                    "{receiver} is not a partner of this node: no document can be sent there "
                    "until it joins the federation (`onewindow federation add-node`)",
                    receiver=receiver,
                ),
                receiver=receiver,
            )
    if not DOCUMENT_ID.fullmatch(document_id):
        raise invalid(
            "document_id",
            "invalid_identifier",
            Text(
                "{document_id!r}: 1 to 40 of A-Z a-z 0-9 - / . _, starting alphanumeric",
                document_id=document_id,
            ),
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        message = Text("the version is a whole number from 1")
        raise invalid("version", "invalid_version", message)
    document = documents.serialize(documents.build(document_type, payload))
    ids = []
    for receiver in receivers:
        message_id = str(uuid.uuid4())
        repository.add_outgoing(
            session,
            {
                "message_id": message_id,
                "sender": sender,
                "receiver": receiver,
                "document_type": document_type,
                "document_id": document_id,
                "version": version,
                "document": document,
                "status": "queued",
                "created_at": now,
                "queued_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            },
        )
        log.info(
            "exchange.queued message=%s type=%s id=%s to=%s",
            message_id,
            document_type,
            document_id,
            receiver,
        )
        ids.append(message_id)
    return Queued(ids, document)


def retry(
    session: Session, message_ids: Sequence[str], *, now: datetime, by: str = "system"
) -> list[str]:
    """Queue failed messages again with a fresh time to live, on the audit trail under `by`.
    They are sealed anew: the old envelope may be older than partners accept, and the message
    id keeps retries idempotent."""
    done = []
    for message_id in message_ids:
        message = repository.outgoing(session, message_id)
        if message is None:
            raise NotFound(Text("no outgoing message {message_id}", message_id=message_id))
        if message.status != "failed":
            raise invalid(
                "message_id",
                "not_failed",
                Text(
                    "{message_id} is {status}; only failed messages are retried",
                    message_id=message_id,
                    status=Text(message.status),
                ),
            )
        message.status, message.queued_at, message.next_attempt_at = "queued", now, now
        message.sealed = message.sealed_at = message.completed_at = None
        message.attempts = 0
        done.append(message_id)
    if done:
        wakeup.mark(session)
    audit.record_many(session, [
        {"at": now, "actor": by, "action": "exchange.message_retried",
         "entity_type": "exchange_message", "entity_id": message_id,
         "from_status": "failed", "to_status": "queued", "detail": None}
        for message_id in done
    ])  # fmt: skip
    session.flush()
    return done


def settle(
    message_id: str,
    data: bytes,
    *,
    digest: str,
    trust: TrustStore,
    partner: str,
    now: datetime,
) -> dict[str, Any]:
    """The changes to an outgoing message from the partner's signed receipt for it.
    InvalidInput unless the receipt is signed by `partner` (the addressee), names this
    message and the `digest` of the envelope sent, whatever its status: a rejection
    settles a message as surely as an acceptance, so it must prove as much."""
    signed = envelope.open_receipt(data, trust, now=now, receiver=partner)
    receipt = signed.receipt
    if receipt.message_id != message_id:
        raise invalid("MessageID", "wrong_message", f"a receipt for {receipt.message_id}")
    if receipt.message_digest != digest:
        raise invalid(
            "MessageDigest",
            "wrong_digest" if receipt.message_digest else "no_digest",
            "the receipt does not name the digest of the envelope sent",
        )
    reasons = [{"code": r.code, "text": r.text, "pointer": r.pointer} for r in receipt.reasons]
    return {
        "message_id": message_id,
        "status": _OUT_STATUS[receipt.status],
        "receipt": data,
        "receipt_status": receipt.status.value,
        "reasons": reasons or None,
        "completed_at": now,
        "next_attempt_at": None,
        "last_error": None,
    }


# ---- receiving ----


def receive(
    session: Session,
    envelope_bytes: bytes,
    *,
    trust: TrustStore,
    node_key: Signer,
    country: str,
    now: datetime,
) -> bytes:
    """Take one envelope in and return the signed receipt. InvalidInput when the envelope
    was refused before its signature verified (no receipt is signed then); a handler's
    unexpected error propagates, so the caller's transaction rolls back and the sender
    retries later."""
    checked = verify(envelope_bytes, trust=trust, node_key=node_key, country=country, now=now)
    if isinstance(checked, Outcome) and checked.receipt is None:
        raise InvalidInput(
            [FieldError(r.pointer or "/", r.code, r.text or r.code) for r in checked.reasons]
        )
    outcome = apply_verified(
        session, [(envelope_bytes, checked)], node_key=node_key, now=now, isolate=False
    )[0]
    assert outcome.receipt is not None  # without isolation, failures raise instead
    return outcome.receipt
