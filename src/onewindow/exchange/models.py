"""Exchange tables: the outbox of messages to partners, the inbox of messages from them, the
latest version applied per document, the issuer bound to each Form D reference, and the
partner directory.

Outgoing and incoming messages live apart because their lives differ: an outgoing message is
retried until a signed receipt comes back, an incoming one is written once with the receipt
this node signed for it. `next_attempt_at` is NULL once an outgoing message is settled, so the
delivery worker's index holds only the messages still to send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base, UTCDateTime

OUT_STATUSES = ("queued", "sent", "delivered", "processed", "rejected", "failed")
IN_STATUSES = ("processed", "received", "superseded", "rejected")
PENDING = ("queued", "sent")


def _check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


class OutgoingMessage(Base):
    """A document queued for a partner (the transactional outbox) and what became of it."""

    __tablename__ = "exchange_outgoing"
    __table_args__ = (
        CheckConstraint(_check(OUT_STATUSES), name="status"),
        Index("ix_exchange_outgoing_next_attempt_at", "next_attempt_at"),
        Index("ix_exchange_outgoing_receiver_status", "receiver", "status"),
    )

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(2))
    receiver: Mapped[str] = mapped_column(String(2))
    document_type: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[bytes] = mapped_column(LargeBinary)  # the validated document XML
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The time to live runs from here: the creation, or an operator's retry.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The signed envelope, kept from the first attempt so that every retry sends the same bytes.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The partner's signed receipt: proof that it received the message (non-repudiation).
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    receipt_status: Mapped[str | None] = mapped_column(String(30))
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IncomingMessage(Base):
    """A verified message from a partner, stored once with the receipt signed for it; a
    duplicate is answered with that same receipt."""

    __tablename__ = "exchange_incoming"
    __table_args__ = (
        CheckConstraint(_check(IN_STATUSES), name="status"),
        Index("ix_exchange_incoming_sender_status", "sender", "status"),
        Index("ix_exchange_incoming_document", "document_id", "document_type"),
    )

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(2))
    receiver: Mapped[str] = mapped_column(String(2))
    document_type: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # by the sender's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(16))
    envelope: Mapped[bytes] = mapped_column(LargeBinary)  # as signed by the sender
    receipt: Mapped[bytes] = mapped_column(LargeBinary)  # as signed by this node
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class AppliedVersion(Base):
    """The latest version of each document taken from each partner: an older or equal
    version arriving later is acknowledged but not applied."""

    __tablename__ = "exchange_versions"

    sender: Mapped[str] = mapped_column(String(2), primary_key=True)
    document_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(36))


class DocumentIssuer(Base):
    """The country that issued each document whose references are one space for all
    issuers (Form D), bound by the first message applied: a message about that reference
    naming another issuer is refused (see `issuers`)."""

    __tablename__ = "exchange_issuers"

    document_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(2))
    message_id: Mapped[str] = mapped_column(String(36))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Partner(Base):
    """The partners this node knows, mirrored from its configuration so that `send` can refuse
    an unknown receiver inside the caller's transaction. Removed partners stay, inactive,
    because their messages do."""

    __tablename__ = "exchange_partners"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    endpoint: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    key_ids: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
