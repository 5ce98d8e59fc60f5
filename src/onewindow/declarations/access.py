"""Who may read and act on a declaration, and the audited transition every action ends with.

Reading: every role but the issuing authority (it issues certificates of origin; declarations
are none of its business); a trader only the declarations it is declarant or importer of.
Changing: a trader acts only as the declarant, and not at all once an officer has acted.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onewindow.declarations import repository, workflow
from onewindow.declarations.lodging import ENTITY
from onewindow.declarations.models import Declaration
from onewindow.kit import audit
from onewindow.kit.auth import Principal, Role
from onewindow.kit.errors import Forbidden, NotFound, OfficerActed, Text

log = logging.getLogger("onewindow.declarations")
# Roles kept away from declarations altogether. Named by exclusion so that reading roles
# added later (an analyst) read without a change here.
NO_DECLARATIONS = frozenset({Role.ISSUING_AUTHORITY})


def require_reader(actor: Principal) -> None:
    if actor.role in NO_DECLARATIONS:
        raise Forbidden(
            Text(
                "{name} ({role}) may not read declarations",
                name=actor.name,
                role=actor.role.value,
            )
        )


def get(session: Session, actor: Principal, number: str, lock: bool = False) -> Declaration:
    require_reader(actor)
    decl = repository.by_number(session, number, lock=lock)
    if decl is None or not _may_see(actor, decl):
        # A trader learns nothing of other traders' declarations, not even that they exist.
        raise NotFound(Text("declaration {number} not found", number=number))
    return decl


def _may_see(actor: Principal, decl: Declaration) -> bool:
    if actor.role is not Role.TRADER:
        return True
    return actor.party_id in (decl.declarant_id, decl.importer_id)


def act(session: Session, actor: Principal, number: str, action: str) -> Declaration:
    decl = get(session, actor, number, lock=True)
    spec = workflow.check(action, decl.status)
    actor.require(*spec.roles)
    return decl


def officer_acted(decl: Declaration) -> bool:
    """Every control on record is an officer's (taken in hand, a check, findings); it stays
    on record whatever the status becomes."""
    return bool(decl.controls)


def require_declarant(actor: Principal, decl: Declaration, doing: Text) -> None:
    """A trader changes a declaration only as its declarant (an importer may read it).
    `doing` is what the trader tried, a Text of its own (translated with the message)."""
    if actor.role is Role.TRADER and actor.party_id != decl.declarant_id:
        raise Forbidden(
            Text(
                "{name} may not {doing} {number}: only its declarant {declarant} may",
                name=actor.name,
                doing=doing,
                number=decl.number,
                declarant=decl.declarant_id,
            )
        )


def require_untouched(actor: Principal, decl: Declaration, doing: Text, instead: Text) -> None:
    """Once an officer has acted, what the trader declared is evidence: no more changes."""
    if actor.role is Role.TRADER and officer_acted(decl):
        raise OfficerActed(
            Text(
                "an officer has acted on {number}: the trader may no longer {doing} it; {instead}",
                number=decl.number,
                doing=doing,
                instead=instead,
            ),
            number=decl.number,
        )


def transition(
    session: Session,
    decl: Declaration,
    actor: Principal,
    now: datetime,
    to: str,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action=f"declaration.{action}",
        entity_type=ENTITY,
        entity_id=decl.number,
        from_status=decl.status,
        to_status=to,
        detail=detail,
    )
    decl.status = to
    if to == workflow.RELEASED:
        decl.released_at = now
    log.info("declaration.%s number=%s status=%s", action, decl.number, to)
