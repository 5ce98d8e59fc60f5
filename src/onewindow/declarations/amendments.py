"""Amendments: the whole document again, duties reassessed and risk assessed again as at
lodging (a lane never goes down: a trader must not fish for green by amending), officers'
corrections kept. Once an officer has acted, a trader may only ask (an amendment request that
an officer accepts, which applies it, or refuses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onewindow import origin
from onewindow.declarations import acdd, workflow
from onewindow.declarations.access import (
    act,
    get,
    require_declarant,
    require_untouched,
    transition,
)
from onewindow.declarations.assessment import Plan, parse
from onewindow.declarations.lodging import (
    Context,
    child_rows,
    claims,
    plan_all,
    row_values,
    stored_claims,
    subject,
)
from onewindow.declarations.models import (
    AmendmentRequest,
    Declaration,
    DeclarationItem,
    TaxLineRow,
)
from onewindow.declarations.schemas import (
    AmendmentDecision,
    AmendmentRequestCreate,
    DeclarationCreate,
    ItemCreate,
)
from onewindow.kit.auth import Principal
from onewindow.kit.db import insert_many
from onewindow.kit.errors import Conflict, FieldError, InvalidInput, NotFound, Text, invalid
from onewindow.risk.selectivity import RANK

ASK_INSTEAD = Text(
    "file an amendment request (the amended document and why) for an officer to decide"
)


def reassess(
    session: Session, decl: Declaration, document: dict[str, Any], ctx: Context, *, amending: bool
) -> Plan:
    """Recompute a stored declaration from a changed document (amendment or findings)."""
    doc, errors = parse(document)
    if doc is not None:
        errors += immutable(decl, doc) + acdd.missing(doc, ctx.partners)
        if amending:
            errors += corrections_kept(decl, doc)
    if errors or doc is None:
        raise InvalidInput(errors)
    # What this declaration held is free again while its new version is decided.
    origin.unuse(session, stored_claims(decl))
    [(plan, errors)] = plan_all(session, [doc], ctx)
    if plan is None:
        raise InvalidInput(errors)
    session.execute(delete(TaxLineRow).where(TaxLineRow.declaration_id == decl.id))
    session.execute(delete(DeclarationItem).where(DeclarationItem.declaration_id == decl.id))
    items, taxes = child_rows(decl.id, plan)
    insert_many(session, DeclarationItem, items)
    if taxes:
        insert_many(session, TaxLineRow, taxes)
    origin.use(session, claims([plan]))
    for key, value in row_values(plan).items():
        setattr(decl, key, value)
    decl.version += 1
    session.expire(decl, ["items", "taxes"])
    return plan


def immutable(decl: Declaration, doc: DeclarationCreate) -> list[FieldError]:
    """What an amendment cannot change: the kind of declaration, where, and who declares it
    (else an importer could name itself declarant and lock the broker out)."""
    errors = []
    for path, old, new in (
        ("type", decl.type, doc.type),
        ("office", decl.office, doc.office),
        ("declarant.id", decl.declarant_id, doc.declarant.id),
    ):
        if old != new:
            message = Text("the {path} of a declaration cannot change ({old})", path=path, old=old)
            errors.append(FieldError(path, "immutable", message))
    return errors


def _corrections(decl: Declaration) -> dict[tuple[int, str], str]:
    """The officers' corrections in force, by (item, field): the latest finding wins."""
    found: dict[tuple[int, str], str] = {}
    for control in decl.controls:
        if control.kind == "inspection":
            for c in (control.detail or {}).get("corrections", []):
                found[(int(c["item"]), str(c["field"]))] = str(c["value"])
    return found


def corrections_kept(decl: Declaration, doc: DeclarationCreate) -> list[FieldError]:
    """An amendment may not undo what an officer's findings corrected: each corrected field
    must hold the corrected value (compared as parsed, so 30000 equals 30000.00)."""
    errors = []
    for (item, field), value in sorted(_corrections(decl).items()):
        path = f"items.{item - 1}"
        if item > len(doc.items):
            message = Text("item {item} was corrected by an officer", item=item)
            errors.append(FieldError(path, "corrected_by_officer", message))
            continue
        declared = doc.items[item - 1]
        try:
            fixed = ItemCreate.model_validate(declared.model_dump(mode="json") | {field: value})
            same = getattr(fixed, field) == getattr(declared, field)
        except ValidationError:
            same = False
        if not same:
            errors.append(
                FieldError(
                    f"{path}.{field}",
                    "corrected_by_officer",
                    Text(
                        "an officer's findings set item {item} {field} to {value}; it stands",
                        item=item,
                        field=field,
                        value=value,
                    ),
                )
            )
    return errors


def _risk(decl: Declaration) -> dict[str, Any]:
    return {
        "channel": decl.channel,
        "score": decl.risk_score,
        "reasons": list(decl.risk_reasons),
        "random": decl.random_pick,
    }


def _rescore(
    session: Session, decl: Declaration, plan: Plan, ctx: Context, actor: Principal, now: datetime
) -> None:
    """Risk again, through the same selectivity as lodging; the lane never goes down."""
    [risk] = ctx.selectivity.assess(
        session, [subject(plan, decl.pre_arrival, decl.lodged_at.date())]
    )
    before, old = _risk(decl), decl.channel
    raised = RANK.get(risk.lane, 0) > RANK.get(old, 0)
    reasons = list(risk.reasons)
    if not raised and risk.lane != old:
        reasons.insert(0, f"channel {old} kept: a channel never goes down on amendment")
    decl.risk_score, decl.risk_reasons = risk.score, reasons
    decl.random_pick = risk.random if raised or risk.lane == old else decl.random_pick
    if raised:
        decl.channel = risk.lane
    detail: dict[str, Any] = {"version": decl.version, "total_due": str(decl.total_due)}
    detail["risk"] = {"before": before, "after": _risk(decl)}
    transition(session, decl, actor, now, decl.status, "amended", detail)
    if raised:
        to = workflow.lane_status(risk.lane)
        channel = {"from_channel": old, "reasons": reasons, "score": risk.score}
        transition(session, decl, actor, now, to, f"channel_{risk.lane}", channel)


def _apply(
    session: Session, decl: Declaration, document: dict[str, Any], ctx: Context, actor: Principal
) -> Declaration:
    plan = reassess(session, decl, document, ctx, amending=True)
    _rescore(session, decl, plan, ctx, actor, ctx.clock.now())
    return decl


def amend(
    session: Session, actor: Principal, number: str, document: dict[str, Any], ctx: Context
) -> Declaration:
    decl = act(session, actor, number, "amend")
    require_declarant(actor, decl, Text("amend"))
    require_untouched(actor, decl, Text("amend"), ASK_INSTEAD)
    return _apply(session, decl, document, ctx, actor)


def request_amendment(
    session: Session, actor: Principal, number: str, data: AmendmentRequestCreate, ctx: Context
) -> AmendmentRequest:
    decl = act(session, actor, number, "request_amendment")
    require_declarant(actor, decl, Text("request an amendment of"))
    if _pending(session, decl) is not None:
        raise Conflict(
            Text(
                "{number} has an amendment request waiting for an officer; wait for the decision",
                number=number,
            )
        )
    errors = immutable(decl, data.document) + corrections_kept(decl, data.document)
    if errors:
        raise InvalidInput([FieldError(f"document.{e.path}", e.code, e.message) for e in errors])
    now = ctx.clock.now()
    request = AmendmentRequest(
        declaration_id=decl.id,
        version=decl.version,
        document=data.document.model_dump(mode="json", exclude_none=True),
        reason=data.reason,
        status="pending",
        requested_by=actor.name,
        requested_at=now,
    )
    session.add(request)
    session.flush()
    _record(session, decl, actor, now, "amendment_requested", request, {"reason": data.reason})
    return request


def requests(session: Session, actor: Principal, number: str) -> list[AmendmentRequest]:
    decl = get(session, actor, number)
    stmt = (
        select(AmendmentRequest)
        .where(AmendmentRequest.declaration_id == decl.id)
        .order_by(AmendmentRequest.id)
    )
    return list(session.scalars(stmt))


def decide_amendment(
    session: Session,
    actor: Principal,
    number: str,
    request_id: int,
    data: AmendmentDecision,
    ctx: Context,
) -> AmendmentRequest:
    decl = act(session, actor, number, "decide_amendment")
    # An id beyond the column's range would make PostgreSQL fail the query: it is just unknown.
    request = (
        session.get(AmendmentRequest, request_id, with_for_update=True)
        if 0 < request_id < 2**31
        else None
    )
    if request is None or request.declaration_id != decl.id:
        raise NotFound(Text("no amendment request {id} on {number}", id=request_id, number=number))
    if request.status != "pending":
        raise Conflict(_decided(request_id, request.status))
    if data.decision == "refuse" and not data.note:
        raise invalid("note", "required", Text("say why the amendment is refused"))
    now = ctx.clock.now()
    if data.decision == "accept":
        _apply(session, decl, request.document, ctx, actor)
    request.status = "accepted" if data.decision == "accept" else "refused"
    request.decided_by, request.decided_at, request.note = actor.name, now, data.note
    _record(session, decl, actor, now, f"amendment_{request.status}", request, {"note": data.note})
    return request


def _decided(request_id: int, status: str) -> Text:
    """A request decided already, said as a whole sentence for each decision."""
    if status == "accepted":
        return Text("amendment request {id} was already accepted", id=request_id)
    if status == "refused":
        return Text("amendment request {id} was already refused", id=request_id)
    return Text("amendment request {id} was already {status}", id=request_id, status=status)


def _pending(session: Session, decl: Declaration) -> AmendmentRequest | None:
    return session.scalar(
        select(AmendmentRequest).where(
            AmendmentRequest.declaration_id == decl.id, AmendmentRequest.status == "pending"
        )
    )


def _record(
    session: Session,
    decl: Declaration,
    actor: Principal,
    now: datetime,
    action: str,
    request: AmendmentRequest,
    detail: dict[str, Any],
) -> None:
    transition(session, decl, actor, now, decl.status, action, {"request": request.id, **detail})
