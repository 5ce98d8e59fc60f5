"""Documents exchanged on the record: sent through the exchange and logged in the ledger.

The glue between the two shared services, which know nothing of each other: a document this
node originates is logged as issued in the same transaction that queues it for a partner; a
document a partner sent is logged as received before its domain's handler applies it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onewindow.exchange import Incoming, documents, send
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
    log_document(
        session,
        kind="issued",
        document_type=document_type,
        document_id=document_id,
        version=version,
        issuer=sender,
        payload=payload,
        now=now,
    )
    return send(
        session,
        sender=sender,
        receiver=receiver,
        document_type=document_type,
        document_id=document_id,
        version=version,
        payload=payload,
        now=now,
    )


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
