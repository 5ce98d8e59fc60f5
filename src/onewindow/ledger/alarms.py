"""Alarms raised by witnessing, and their acknowledgement by an operator.

An alarm is evidence that a partner showed this node a log inconsistent with what it saw
before: a fork, rewritten history, a bad signature. It is never deleted. An operator who has
looked into it acknowledges the partner's open alarms with a note saying what was found; the
partner's witness status then leaves ALARM until a new alarm comes in.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.auth import Principal, Role
from onewindow.kit.errors import NotFound, Text, invalid
from onewindow.ledger.models import WitnessedHead

NOTE_MAX = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # line breaks and tabs are fine


def list_alarms(
    session: Session, partner: str | None = None, open_only: bool = False
) -> list[WitnessedHead]:
    """Alarms, newest first."""
    stmt = select(WitnessedHead).where(WitnessedHead.alarm.is_(True))
    if partner is not None:
        stmt = stmt.where(WitnessedHead.partner_country == partner)
    if open_only:
        stmt = stmt.where(WitnessedHead.acknowledged_at.is_(None))
    stmt = stmt.order_by(WitnessedHead.received_at.desc(), WitnessedHead.id.desc())
    return list(session.scalars(stmt))


def acknowledge(
    session: Session, actor: Principal, partner: str, note: str, now: datetime
) -> list[WitnessedHead]:
    """Mark every open alarm of the partner as looked into, by a supervisor or administrator,
    with a note; audited. Returns the alarms acknowledged."""
    actor.require(Role.SUPERVISOR, Role.ADMINISTRATOR)
    note = note.strip()
    if not note:
        message = Text("say what was found when the alarm was looked into")
        raise invalid("note", "required", message)
    if len(note) > NOTE_MAX:
        message = Text(
            "at most {limit} characters ({given} given)", limit=NOTE_MAX, given=len(note)
        )
        raise invalid("note", "too_long", message)
    if _CONTROL.search(note):
        raise invalid("note", "control_characters", Text("control characters are not allowed"))
    rows = list_alarms(session, partner, open_only=True)
    if not rows:
        raise NotFound(Text("no open alarm for partner {partner}", partner=partner))
    for row in rows:
        row.acknowledged_at, row.acknowledged_by, row.acknowledgement = now, actor.name, note
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action="ledger.alarm_acknowledged",
        entity_type="ledger_partner",
        entity_id=partner,
        from_status="ALARM",
        to_status="acknowledged",
        detail={"alarms": [row.id for row in rows], "note": note},
    )
    session.flush()
    return rows
