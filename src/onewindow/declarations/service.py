"""Declaration use cases: lodge (validate, number, assess duties and risk), officer actions,
payment, release, amendment, cancellation and clearance reports. Every transition is audited.
Who may do what is checked here (see access.py), so the API and the CLI cannot differ."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onewindow import origin
from onewindow.declarations import acdd, repository, workflow
from onewindow.declarations.access import (
    act,
    get,
    officer_acted,
    require_declarant,
    require_reader,
    require_untouched,
    transition,
)
from onewindow.declarations.amendments import (
    amend,
    decide_amendment,
    reassess,
    request_amendment,
    requests,
)
from onewindow.declarations.lodging import (
    ENTITY,
    Context,
    lodge,
    lodge_each,
    preview,
    stored_claims,
)
from onewindow.declarations.models import Control, Declaration
from onewindow.declarations.proofs import DocumentProof, document_proofs
from onewindow.declarations.readmodel import clearance_report
from onewindow.declarations.schemas import (
    Cancellation,
    DocumentCheck,
    InspectionFindings,
    Opening,
    Payment,
    QueueEntry,
)
from onewindow.kit import audit
from onewindow.kit.auth import Principal, Role
from onewindow.kit.errors import Conflict, FieldError, Forbidden, InvalidInput, Text, invalid
from onewindow.kit.money import round_money

__all__ = [
    "Context",
    "DocumentProof",
    "amend",
    "decide_amendment",
    "document_proofs",
    "get",
    "lodge",
    "lodge_each",
    "preview",
    "request_amendment",
    "requests",
]


def search(session: Session, actor: Principal, **filters: Any) -> list[Declaration]:
    require_reader(actor)
    party = actor.party_id if actor.role is Role.TRADER else None
    return repository.search(session, party_id=party, **filters)


def actions(actor: Principal, decl: Declaration) -> frozenset[str]:
    """What `actor` may do to `decl` now (its status, the role, whether an officer acted):
    the pages offer these and no other."""
    allowed = set()
    for name, action in workflow.ACTIONS.items():
        if decl.status in action.allowed_from and actor.role in action.roles:
            allowed.add(name)
    if actor.role is Role.TRADER:
        if actor.party_id != decl.declarant_id:
            return frozenset()
        if officer_acted(decl):
            allowed -= {"amend", "cancel"}
        else:
            allowed -= {"request_amendment"}
    if any(c.kind == "opened" and c.result == decl.status for c in decl.controls):
        allowed.discard("open")
    return frozenset(allowed)


def counts(session: Session, actor: Principal) -> dict[str, int]:
    """How many declarations `actor` may read are in each status."""
    require_reader(actor)
    party = actor.party_id if actor.role is Role.TRADER else None
    return repository.count_by_status(session, party)


# What waits for an officer: a yellow declaration's document check, a red one's inspection.
QUEUE = (workflow.DOCUMENT_CHECK, workflow.INSPECTION)


def _customs_only(actor: Principal, what: Text) -> None:
    require_reader(actor)
    if actor.role is Role.TRADER:
        raise Forbidden(Text("{name} (trader) may not read {what}", name=actor.name, what=what))


def queue(
    session: Session,
    actor: Principal,
    *,
    now: datetime,
    office: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[QueueEntry]:
    """The declarations waiting for an officer, oldest first (of one office, or all), with
    how long each has waited since lodging and who has taken it in hand."""
    _customs_only(actor, Text("the officers' queue"))
    rows = repository.queue(session, QUEUE, office, limit, offset)
    # Taken in hand for its current status: an opening during the document check does not
    # hold the inspection that follows it.
    in_hand = {
        (c.declaration_id, c.result): c for c in repository.openings(session, [r.id for r in rows])
    }
    out = []
    for r in rows:
        taken = in_hand.get((r.id, r.status))
        out.append(
            QueueEntry(
                number=r.number,
                type=r.type,
                status=r.status,
                channel=r.channel,
                office=r.office,
                declarant_id=r.declarant_id,
                importer_name=r.importer_name,
                lodged_at=r.lodged_at,
                waiting_seconds=max((now - r.lodged_at).total_seconds(), 0.0),
                in_hand_by=taken.officer if taken else None,
                in_hand_since=taken.at if taken else None,
            )
        )
    return out


def queue_offices(session: Session, actor: Principal) -> list[str]:
    """The offices whose queues may be asked for: those that lodge declarations."""
    _customs_only(actor, Text("the officers' queue"))
    return repository.offices(session)


def _after_controls(decl: Declaration) -> str:
    return workflow.PAID if decl.total_due == 0 else workflow.AWAITING_PAYMENT


def open_control(
    session: Session, actor: Principal, number: str, data: Opening, ctx: Context
) -> Declaration:
    """An officer takes the declaration in hand: from now on its trader may only ask."""
    decl = act(session, actor, number, "open")
    taken = [c for c in decl.controls if c.kind == "opened" and c.result == decl.status]
    if taken:
        raise Conflict(
            Text(
                "{number} is already in hand: {officer} took it at {at}",
                number=number,
                officer=taken[0].officer,
                at=taken[0].at,
            )
        )
    now = ctx.clock.now()
    decl.controls.append(
        Control(kind="opened", officer=actor.name, result=decl.status, note=data.note, at=now)
    )
    transition(session, decl, actor, now, decl.status, f"{decl.status}_opened", {"note": data.note})
    return decl


def document_check(
    session: Session, actor: Principal, number: str, data: DocumentCheck, ctx: Context
) -> Declaration:
    decl = act(session, actor, number, "document_check")
    now = ctx.clock.now()
    decl.controls.append(
        Control(
            kind="document_check", officer=actor.name, result=data.decision, note=data.note, at=now
        )
    )
    to = workflow.INSPECTION if data.decision == "inspect" else _after_controls(decl)
    transition(
        session, decl, actor, now, to, f"document_check_{data.decision}", {"note": data.note}
    )
    return decl


def record_inspection(
    session: Session, actor: Principal, number: str, data: InspectionFindings, ctx: Context
) -> Declaration:
    decl = act(session, actor, number, "inspection")
    now = ctx.clock.now()
    before = decl.total_due
    declared = []  # what the trader declared: the risk model learns from these, not the fix
    if data.corrections:
        document = dict(decl.document)
        items = [dict(i) for i in document["items"]]
        for n, c in enumerate(data.corrections):
            if c.item > len(items):
                raise invalid(
                    f"corrections.{n}.item",
                    "unknown_item",
                    Text(
                        "there is no item {item}: the declaration has {items}",
                        item=c.item,
                        items=len(items),
                    ),
                )
            declared.append(
                {"item": c.item, "field": c.field, "value": items[c.item - 1].get(c.field)}
            )
            items[c.item - 1][c.field] = c.value
        try:
            reassess(session, decl, document | {"items": items}, ctx, amending=False)
        except InvalidInput as exc:
            raise InvalidInput(_as_corrections(exc.errors, data)) from None
    detail = {
        "corrections": [c.model_dump() for c in data.corrections],
        "declared": declared,
        "due_before": str(before),
        "due_after": str(decl.total_due),
    }
    decl.controls.append(
        Control(
            kind="inspection",
            officer=actor.name,
            result=data.result,
            note=data.note,
            detail=detail,
            at=now,
        )
    )
    transition(
        session, decl, actor, now, _after_controls(decl), f"inspection_{data.result}", detail
    )
    return decl


_ITEM_FIELD = re.compile(r"^items\.(\d+)\.(\w+)")


def _as_corrections(errors: list[FieldError], data: InspectionFindings) -> list[FieldError]:
    """A corrected value the reassessment refuses, named as the correction that set it
    (`corrections.0.value`), not as the item field the officer never typed."""
    out = []
    for e in errors:
        found = _ITEM_FIELD.match(e.path)
        row = max(  # the last correction of that field is the one applied
            (
                n
                for n, c in enumerate(data.corrections)
                if found and c.item == int(found.group(1)) + 1 and c.field == found.group(2)
            ),
            default=None,
        )
        out.append(
            FieldError(f"corrections.{row}.value", e.code, e.message) if row is not None else e
        )
    return out


def pay(
    session: Session, actor: Principal, number: str, data: Payment, ctx: Context
) -> Declaration:
    decl = act(session, actor, number, "pay")
    due = f"{round_money(decl.total_due, decl.national_currency)} {decl.national_currency}"
    if data.method == "paid" and data.amount != decl.total_due:
        raise invalid("amount", "wrong_amount", Text("the amount due is {due}", due=due))
    if data.method == "guarantee" and data.amount < decl.total_due:
        message = Text("the guarantee must cover {due}", due=due)
        raise invalid("amount", "insufficient_guarantee", message)
    now = ctx.clock.now()
    decl.payment_method, decl.payment_reference = data.method, data.reference
    transition(
        session,
        decl,
        actor,
        now,
        workflow.PAID,
        "paid",
        {"method": data.method, "reference": data.reference, "amount": str(data.amount)},
    )
    if decl.channel == "green":
        # Green means no officer looks at it: paid is cleared.
        system = Principal("system", Role.ADMINISTRATOR)
        transition(session, decl, system, now, workflow.RELEASED, "released")
        acdd.on_released(session, decl, ctx.partners, now)
    return decl


def release(session: Session, actor: Principal, number: str, ctx: Context) -> Declaration:
    decl = act(session, actor, number, "release")
    transition(session, decl, actor, ctx.clock.now(), workflow.RELEASED, "released")
    acdd.on_released(session, decl, ctx.partners, ctx.clock.now())
    return decl


def cancel(
    session: Session, actor: Principal, number: str, data: Cancellation, ctx: Context
) -> Declaration:
    decl = act(session, actor, number, "cancel")
    require_declarant(actor, decl, Text("cancel"))
    require_untouched(actor, decl, Text("cancel"), Text("ask the customs office to cancel it"))
    origin.unuse(session, stored_claims(decl))
    transition(
        session,
        decl,
        actor,
        ctx.clock.now(),
        workflow.CANCELLED,
        "cancelled",
        {"reason": data.reason},
    )
    return decl


def cancel_acdd(
    session: Session, actor: Principal, number: str, reason: str, now: datetime
) -> Declaration:
    """Withdraw the ACDD sent for a released export: a customs decision, officials only."""
    actor.require(*workflow.OFFICIALS)
    decl = get(session, actor, number, lock=True)
    acdd.cancel(session, decl, reason, now)
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action="declaration.acdd_cancelled",
        entity_type=ENTITY,
        entity_id=decl.number,
        from_status=decl.status,
        to_status=decl.status,
        detail={"reason": reason},
    )
    return decl


def history(session: Session, actor: Principal, number: str) -> list[audit.AuditEvent]:
    decl = get(session, actor, number)
    return audit.trail(session, ENTITY, decl.number)


def clearance(session: Session, actor: Principal, since: datetime, end: datetime) -> dict[str, Any]:
    """Clearance times per channel: for customs, not for traders."""
    _customs_only(actor, Text("clearance reports"))
    return clearance_report(repository.released_between(session, since, end))
