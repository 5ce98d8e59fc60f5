"""Documents exchanged on the record: sent through the exchange and logged in the ledger.

The glue between the two shared services, which know nothing of each other: a document this
node originates is logged as issued in the same transaction that queues it for a partner; a
document a partner sent is logged as received before its domain's handler applies it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onewindow.exchange import Incoming, documents, send_many
from onewindow.exchange.handlers import Handler
from onewindow.ledger import LeafEntry, log_entry


def document_sha256(document_type: str, payload: dict[str, Any]) -> str:
    """The hash the ledger keeps: SHA-256 of the document's XML as exchanged."""
    return hashlib.sha256(documents.to_xml(document_type, payload)).hexdigest()


def log_document(
    session: Session,
    *,
    kind: str,
    document_type: str,
    document_id: str,
    version: int,
    issuer: str,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    digest = document_sha256(document_type, payload)
    entry = LeafEntry(document_type, document_id, version, issuer, digest, now, kind)
    log_entry(session, entry)


def send_logged(
    session: Session,
    *,
    sender: str,
    receiver: str,
    document_type: str,
    document_id: str,
    version: int,
    payload: dict[str, Any],
    now: datetime,
) -> str:
    """Queue a document this node originates for a partner, and log it as issued."""
    return send_logged_to(
        session, sender=sender, receivers=[receiver], document_type=document_type,
        document_id=document_id, version=version, payload=payload, now=now,
    )[0]  # fmt: skip


def send_logged_to(
    session: Session,
    *,
    sender: str,
    receivers: Sequence[str],
    document_type: str,
    document_id: str,
    version: int,
    payload: dict[str, Any],
    now: datetime,
) -> list[str]:
    """Queue a document this node originates for several partners, and log it as issued
    once: one document, built and validated once, whatever the number of its receivers.
    The message ids, in the receivers' order."""
    queued = send_many(
        session, sender=sender, receivers=receivers, document_type=document_type,
        document_id=document_id, version=version, payload=payload, now=now,
    )  # fmt: skip
    digest = hashlib.sha256(queued.document).hexdigest()
    log_entry(
        session, LeafEntry(document_type, document_id, version, sender, digest, now, "issued")
    )
    return queued.message_ids


def logged(handler: Handler) -> Handler:
    """A handler whose documents are logged as received before they are applied (a document
    the handler rejects rolls back with its log entry)."""

    def apply(session: Session, message: Incoming) -> None:
        log_document(
            session,
            kind="received",
            document_type=message.document_type,
            document_id=message.document_id,
            version=message.version,
            issuer=message.sender,
            payload=message.payload,
            now=message.received_at,
        )
        handler(session, message)

    apply.__name__ = handler.__name__
    return apply
