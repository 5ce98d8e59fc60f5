"""Declaration use cases: lodge (validate, number, assess duties and risk), officer actions,
payment, release, amendment, cancellation and clearance reports. Every transition is audited."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from onewindow import audit
from onewindow.auth import Principal, Role
from onewindow.clock import Clock
from onewindow.db import table
from onewindow.declarations import repository, workflow
from onewindow.declarations.assessment import Plan, assess, parse
from onewindow.declarations.models import Control, Declaration, DeclarationItem, TaxLineRow
from onewindow.declarations.schemas import (
    Cancellation,
    DeclarationCreate,
    DocumentCheck,
    InspectionFindings,
    Payment,
)
from onewindow.errors import FieldError, Forbidden, InvalidInput, NotFound, invalid
from onewindow.origin import Certificate, CertificateItem, get_certificate
from onewindow.risk import Selectivity, Subject, SubjectItem
from onewindow.tariff import TariffBook

log = logging.getLogger("onewindow.declarations")
ENTITY = "declaration"


@dataclass
class Context:
    """What lodging needs from the node besides the session."""

    country: str
    currency: str
    clock: Clock
    selectivity: Selectivity
    max_items: int = 999


def _plan_all(
    session: Session, docs: list[DeclarationCreate], ctx: Context
) -> tuple[list[Plan], list[FieldError]]:
    codes = {i.hs_code for d in docs for i in d.items}
    book = TariffBook(session, codes, {d.invoice.currency for d in docs})
    refs = {i.preference.certificate for d in docs for i in d.items if i.preference}
    certificates: dict[str, Certificate | None] = {
        ref: get_certificate(session, ref) for ref in refs
    }
    claimed: dict[int, Decimal] = {}
    plans, errors = [], []
    for n, doc in enumerate(docs):
        plan, errs = assess(
            doc,
            country=ctx.country,
            currency=ctx.currency,
            book=book,
            certificates=certificates,
            claimed=claimed,
        )
        prefix = f"[{n}]." if len(docs) > 1 else ""
        errors += [FieldError(prefix + e.path, e.code, e.message) for e in errs]
        if plan is not None:
            plans.append(plan)
    return plans, errors


def _subject(plan: Plan) -> Subject:
    doc = plan.doc
    items = tuple(
        SubjectItem(i.hs_code, i.origin, p.value_national, i.net_mass_kg)
        for i, p in zip(doc.items, plan.items, strict=True)
    )
    return Subject(
        doc.type,
        doc.office,
        doc.importer.id,
        doc.declarant.id,
        doc.exporter.name,
        doc.country_of_export,
        plan.goods_date,
        items,
    )


def _row_values(plan: Plan) -> dict[str, Any]:
    totals = plan.totals
    doc = plan.doc
    return {
        "type": doc.type,
        "office": doc.office,
        "declarant_id": doc.declarant.id,
        "importer_id": doc.importer.id,
        "importer_name": doc.importer.name,
        "exporter_name": doc.exporter.name,
        "country_of_export": doc.country_of_export,
        "country_of_destination": doc.country_of_destination,
        "goods_date": plan.goods_date,
        "currency": doc.invoice.currency,
        "exchange_rate": plan.exchange_rate,
        "total_value": totals["customs_value"],
        "total_duty": totals["IMPORT_DUTY"],
        "total_vat": totals["VAT"],
        "total_due": totals["total_due"],
        "document": doc.model_dump(mode="json", exclude_none=True),
    }


def _child_rows(decl_id: int, plan: Plan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items, taxes = [], []
    for item, p in zip(plan.doc.items, plan.items, strict=True):
        items.append(
            {
                "declaration_id": decl_id,
                "seq": p.seq,
                "hs_code": item.hs_code,
                "description": item.description,
                "origin": item.origin,
                "quantity": item.quantity,
                "unit": item.unit,
                "net_mass_kg": item.net_mass_kg,
                "gross_mass_kg": item.gross_mass_kg,
                "customs_value": item.customs_value,
                "value_national": p.value_national,
                "preference_certificate": item.preference.certificate if item.preference else None,
                "preference_granted": p.preference_granted,
                "preference_reason": p.preference_reason,
                "certificate_item_id": p.certificate_item_id,
            }
        )
        for t in p.taxes:
            taxes.append(
                {
                    "declaration_id": decl_id,
                    "item_seq": p.seq,
                    "tax": t.tax,
                    "base": t.base,
                    "rate": t.rate,
                    "amount": t.amount,
                    "rate_kind": t.rate_kind,
                }
            )
    return items, taxes


def _use_certificates(session: Session, plan: Plan, sign: int) -> None:
    for item, p in zip(plan.doc.items, plan.items, strict=True):
        if p.preference_granted and p.certificate_item_id is not None:
            row = session.get(CertificateItem, p.certificate_item_id)
            if row is not None:
                row.used_quantity += sign * item.quantity
                row.certificate.status = "utilised" if row.used_quantity > 0 else "received"


def lodge(session: Session, actor: Principal, raws: Sequence[Any], ctx: Context) -> list[str]:
    """Lodge declarations; all are stored or, on any error, none. Returns their numbers."""
    docs, errors = [], []
    for n, raw in enumerate(raws):
        doc, errs = (raw, []) if isinstance(raw, DeclarationCreate) else parse(raw)
        prefix = f"[{n}]." if len(raws) > 1 else ""
        errors += [FieldError(prefix + e.path, e.code, e.message) for e in errs]
        if doc is not None:
            if len(doc.items) > ctx.max_items:
                errors.append(
                    FieldError(prefix + "items", "too_many", f"at most {ctx.max_items} items")
                )
            if actor.role is Role.TRADER and actor.party_id != doc.declarant.id:
                raise Forbidden(f"{actor.name} may lodge only as declarant {actor.party_id}")
            docs.append(doc)
    if errors:
        raise InvalidInput(errors)
    plans, errors = _plan_all(session, docs, ctx)
    if errors:
        raise InvalidInput(errors)

    now = ctx.clock.now()
    assessments = ctx.selectivity.assess(session, [_subject(p) for p in plans])
    numbers: list[str] = []
    by_office: dict[str, list[int]] = {}
    for index, plan in enumerate(plans):
        by_office.setdefault(plan.doc.office, []).append(index)
    allocated: dict[int, str] = {}
    for office, indexes in by_office.items():
        for index, number in zip(
            indexes,
            repository.allocate_numbers(session, office, now.year, len(indexes)),
            strict=True,
        ):
            allocated[index] = number

    rows, events = [], []
    for index, (plan, risk) in enumerate(zip(plans, assessments, strict=True)):
        number = allocated[index]
        numbers.append(number)
        status = workflow.lane_status(risk.lane)
        released = None
        if risk.lane == "green" and plan.totals["total_due"] == 0:
            status, released = workflow.RELEASED, now
        rows.append(
            _row_values(plan)
            | {
                "number": number,
                "version": 1,
                "status": status,
                "channel": risk.lane,
                "national_currency": ctx.currency,
                "risk_score": risk.score,
                "risk_reasons": list(risk.reasons),
                "random_pick": risk.random,
                "lodged_at": now,
                "released_at": released,
            }
        )
        base = {"at": now, "actor": actor.name, "entity_type": ENTITY, "entity_id": number}
        events.append(
            base
            | {
                "action": "declaration.registered",
                "from_status": None,
                "to_status": workflow.REGISTERED,
                "detail": None,
            }
        )
        events.append(
            base
            | {
                "action": f"declaration.channel_{risk.lane}",
                "from_status": workflow.REGISTERED,
                "to_status": status,
                "detail": {"reasons": list(risk.reasons), "score": risk.score},
            }
        )
    ids = repository.insert_declarations(session, rows)
    items, taxes = [], []
    for decl_id, plan in zip(ids, plans, strict=True):
        i, t = _child_rows(decl_id, plan)
        items += i
        taxes += t
        _use_certificates(session, plan, +1)
    session.execute(insert(table(DeclarationItem)), items)
    if taxes:
        session.execute(insert(table(TaxLineRow)), taxes)
    audit.record_many(session, events)
    log.info("declaration.lodged count=%d", len(numbers))
    return numbers


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
    if data.corrections:
        document = dict(decl.document)
        items = [dict(i) for i in document["items"]]
        for c in data.corrections:
            if c.item > len(items):
                raise invalid("corrections.item", "unknown_item", f"there is no item {c.item}")
            items[c.item - 1][c.field] = c.value
        _reassess(session, decl, document | {"items": items}, ctx)
    detail = {
        "corrections": [c.model_dump() for c in data.corrections],
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
    plans, errors = _plan_all(session, [doc], ctx)
    if errors:
        raise InvalidInput(errors)
    plan = plans[0]
    session.execute(delete(TaxLineRow).where(TaxLineRow.declaration_id == decl.id))
    session.execute(delete(DeclarationItem).where(DeclarationItem.declaration_id == decl.id))
    items, taxes = _child_rows(decl.id, plan)
    session.execute(insert(table(DeclarationItem)), items)
    if taxes:
        session.execute(insert(table(TaxLineRow)), taxes)
    _use_certificates(session, plan, +1)
    for key, value in _row_values(plan).items():
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
        _transition(
            session,
            decl,
            Principal("system", Role.ADMINISTRATOR),
            now,
            workflow.RELEASED,
            "released",
        )
    return decl


def release(session: Session, actor: Principal, number: str, ctx: Context) -> Declaration:
    decl = _act(session, actor, number, "release")
    _transition(session, decl, actor, ctx.clock.now(), workflow.RELEASED, "released")
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
