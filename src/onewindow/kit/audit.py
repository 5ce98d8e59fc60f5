"""The audit trail: who did what, when, to which record, from which status to which."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from onewindow.kit.db import Base, UTCDateTime, insert_many


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    event = {
        "at": at,
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "from_status": from_status,
        "to_status": to_status,
        "detail": detail,
    }
    record_many(session, [event])


def record_many(session: Session, events: list[dict[str, Any]]) -> None:
    """Batch insert; each event has the keyword arguments of `record`."""
    if events:
        insert_many(session, AuditEvent, events)


def trail(session: Session, entity_type: str, entity_id: str) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(stmt))
