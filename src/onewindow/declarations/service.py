"""Declaration use cases: lodge (validate, number, assess duties and risk), officer actions,
payment, release, amendment, cancellation and clearance reports. Every transition is audited."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from onewindow import audit
from onewindow.auth import Principal, Role
from onewindow.db import insert_many
from onewindow.declarations import acdd, repository, workflow
from onewindow.declarations.assessment import parse
from onewindow.declarations.lodging import (
    ENTITY,
    Context,
    child_rows,
    lodge,
    lodge_each,
    plan_all,
    row_values,
    use_certificates,
)
from onewindow.declarations.models import Control, Declaration, DeclarationItem, TaxLineRow
from onewindow.declarations.schemas import (
    Cancellation,
    DocumentCheck,
    InspectionFindings,
    Payment,
)
from onewindow.errors import FieldError, Forbidden, InvalidInput, NotFound, invalid
from onewindow.origin import CertificateItem

__all__ = ["Context", "lodge", "lodge_each"]
log = logging.getLogger("onewindow.declarations")


def get(session: Session, actor: Principal, number: str, lock: bool = False) -> Declaration:
    decl = repository.by_number(session, number, lock=lock)
    if decl is None or not _may_see(actor, decl):
        # A trader learns nothing of other traders' declarations, not even that they exist.
        raise NotFound(f"declaration {number} not found")
    return decl


def _may_see(actor: Principal, decl: Declaration) -> bool:
    if actor.role is not Role.TRADER:
        return True
    return actor.party_id in (decl.declarant_id, decl.importer_id)


def search(session: Session, actor: Principal, **filters: Any) -> list[Declaration]:
    party = actor.party_id if actor.role is Role.TRADER else None
    return repository.search(session, party_id=party, **filters)


def _transition(
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


def _act(session: Session, actor: Principal, number: str, action: str) -> Declaration:
    decl = get(session, actor, number, lock=True)
    spec = workflow.check(action, decl.status)
    actor.require(*spec.roles)
    return decl


def _after_controls(decl: Declaration) -> str:
    return workflow.PAID if decl.total_due == 0 else workflow.AWAITING_PAYMENT


def document_check(
    session: Session, actor: Principal, number: str, data: DocumentCheck, ctx: Context
) -> Declaration:
    decl = _act(session, actor, number, "document_check")
    now = ctx.clock.now()
    decl.controls.append(
        Control(
            kind="document_check", officer=actor.name, result=data.decision, note=data.note, at=now
        )
    )
    to = workflow.INSPECTION if data.decision == "inspect" else _after_controls(decl)
    _transition(
        session, decl, actor, now, to, f"document_check_{data.decision}", {"note": data.note}
    )
    return decl


def record_inspection(
    session: Session, actor: Principal, number: str, data: InspectionFindings, ctx: Context
) -> Declaration:
    decl = _act(session, actor, number, "inspection")
    now = ctx.clock.now()
    before = decl.total_due
    declared = []  # what the trader declared: the risk model learns from these, not the fix
    if data.corrections:
        document = dict(decl.document)
        items = [dict(i) for i in document["items"]]
        for c in data.corrections:
            if c.item > len(items):
                raise invalid("corrections.item", "unknown_item", f"there is no item {c.item}")
            declared.append(
                {"item": c.item, "field": c.field, "value": items[c.item - 1].get(c.field)}
            )
            items[c.item - 1][c.field] = c.value
        _reassess(session, decl, document | {"items": items}, ctx)
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
    _transition(
        session, decl, actor, now, _after_controls(decl), f"inspection_{data.result}", detail
    )
    return decl


def _reassess(session: Session, decl: Declaration, document: dict[str, Any], ctx: Context) -> None:
    """Recompute a stored declaration from a changed document (amendment or findings)."""
    doc, errors = parse(document)
    if doc is not None and doc.type != decl.type:
        errors.append(FieldError("type", "immutable", "the type of a declaration cannot change"))
    if doc is not None and doc.office != decl.office:
        errors.append(
            FieldError("office", "immutable", "the office of a declaration cannot change")
        )
    if errors or doc is None:
        raise InvalidInput(errors)
    old_plan_items = [
        (i.certificate_item_id, i.quantity) for i in decl.items if i.preference_granted
    ]
    for item_id, quantity in old_plan_items:
        if item_id is not None:
            row = session.get(CertificateItem, item_id)
            if row is not None:
                row.used_quantity -= quantity
    [(plan, errors)] = plan_all(session, [doc], ctx)
    if plan is None:
        raise InvalidInput(errors)
    session.execute(delete(TaxLineRow).where(TaxLineRow.declaration_id == decl.id))
    session.execute(delete(DeclarationItem).where(DeclarationItem.declaration_id == decl.id))
    items, taxes = child_rows(decl.id, plan)
    insert_many(session, DeclarationItem, items)
    if taxes:
        insert_many(session, TaxLineRow, taxes)
    use_certificates(session, plan, +1)
    for key, value in row_values(plan).items():
        setattr(decl, key, value)
    decl.version += 1
    session.expire(decl, ["items", "taxes"])


def amend(
    session: Session, actor: Principal, number: str, document: dict[str, Any], ctx: Context
) -> Declaration:
    decl = _act(session, actor, number, "amend")
    if actor.role is Role.TRADER and document.get("declarant", {}).get("id") != actor.party_id:
        raise Forbidden(f"{actor.name} may amend only as declarant {actor.party_id}")
    _reassess(session, decl, document, ctx)
    _transition(
        session,
        decl,
        actor,
        ctx.clock.now(),
        decl.status,
        "amended",
        {"version": decl.version, "total_due": str(decl.total_due)},
    )
    return decl


def pay(
    session: Session, actor: Principal, number: str, data: Payment, ctx: Context
) -> Declaration:
    decl = _act(session, actor, number, "pay")
    if data.method == "paid" and data.amount != decl.total_due:
        raise invalid(
            "amount", "wrong_amount", f"the amount due is {decl.total_due} {decl.national_currency}"
        )
    if data.method == "guarantee" and data.amount < decl.total_due:
        raise invalid(
            "amount", "insufficient_guarantee", f"the guarantee must cover {decl.total_due}"
        )
    now = ctx.clock.now()
    decl.payment_method, decl.payment_reference = data.method, data.reference
    _transition(
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
        _transition(session, decl, system, now, workflow.RELEASED, "released")
        acdd.on_released(session, decl, ctx.partners, now)
    return decl


def release(session: Session, actor: Principal, number: str, ctx: Context) -> Declaration:
    decl = _act(session, actor, number, "release")
    _transition(session, decl, actor, ctx.clock.now(), workflow.RELEASED, "released")
    acdd.on_released(session, decl, ctx.partners, ctx.clock.now())
    return decl


def cancel(
    session: Session, actor: Principal, number: str, data: Cancellation, ctx: Context
) -> Declaration:
    decl = _act(session, actor, number, "cancel")
    for item in decl.items:
        if item.preference_granted and item.certificate_item_id is not None:
            row = session.get(CertificateItem, item.certificate_item_id)
            if row is not None:
                row.used_quantity -= item.quantity
    _transition(
        session,
        decl,
        actor,
        ctx.clock.now(),
        workflow.CANCELLED,
        "cancelled",
        {"reason": data.reason},
    )
    return decl


def history(session: Session, actor: Principal, number: str) -> list[audit.AuditEvent]:
    decl = get(session, actor, number)
    return audit.trail(session, ENTITY, decl.number)
