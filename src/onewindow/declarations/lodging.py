"""Lodging: validate, number, compute duties, assess risk and store declarations, many at a
time (one transaction, reference data loaded once, rows inserted in bulk)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from onewindow import origin
from onewindow.declarations import acdd, repository, workflow
from onewindow.declarations.assessment import Plan, assess, parse
from onewindow.declarations.models import Declaration, DeclarationItem, PreArrival, TaxLineRow
from onewindow.declarations.schemas import DeclarationCreate
from onewindow.kit import audit
from onewindow.kit.auth import Principal, Role
from onewindow.kit.clock import Clock
from onewindow.kit.db import insert_many
from onewindow.kit.errors import (
    FieldError,
    Forbidden,
    InvalidInput,
    OneWindowError,
    Text,
    invalid,
)
from onewindow.kit.runtime import collector_paused
from onewindow.origin import Certificate, get_certificate
from onewindow.origin.receiving import ClaimOutcome, report_claims
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
    partners: frozenset[str] = frozenset()  # countries whose nodes this node exchanges with


@dataclass(frozen=True)
class Lodged:
    """A declaration as lodging stored it: its columns and those of its items and tax lines."""

    number: str
    row: dict[str, Any]
    items: list[dict[str, Any]]
    taxes: list[dict[str, Any]]


def plan_all(
    session: Session, docs: list[DeclarationCreate], ctx: Context
) -> list[tuple[Plan | None, list[FieldError]]]:
    """Check each declaration against reference data loaded once for all of them."""
    codes = {i.hs_code for d in docs for i in d.items}
    book = TariffBook(session, codes, {d.invoice.currency for d in docs})
    refs = {i.preference.certificate for d in docs for i in d.items if i.preference}
    certificates: dict[str, Certificate | None] = {
        ref: get_certificate(session, ref) for ref in refs
    }
    claimed: dict[int, Decimal] = {}
    out = []
    for doc in docs:
        plan, errs = assess(
            doc,
            country=ctx.country,
            currency=ctx.currency,
            book=book,
            certificates=certificates,
            claimed=claimed,
        )
        out.append((plan, errs))
    return out


def subject(plan: Plan, pre_arrival: str | None, lodged: date) -> Subject:
    doc = plan.doc
    items = []
    for i, p in zip(doc.items, plan.items, strict=True):
        duty = p.duty
        items.append(
            SubjectItem(
                i.hs_code,
                i.origin,
                p.value_national,
                i.net_mass_kg,
                duty.rate if duty is not None else Decimal(0),
                duty.rate_kind if duty is not None else "",
                i.preference.scheme if i.preference else "",
            )
        )
    return Subject(
        doc.type,
        doc.office,
        doc.importer.id,
        doc.declarant.id,
        doc.exporter.name,
        doc.country_of_export,
        plan.goods_date,
        tuple(items),
        pre_arrival,
        transport_mode=doc.transport.mode,
        lodged=lodged,
    )


def row_values(plan: Plan) -> dict[str, Any]:
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


def child_rows(decl_id: int, plan: Plan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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


def claims(plans: Iterable[Plan]) -> list[tuple[int, Decimal]]:
    """The certificate items that granted preferences use, with the quantities (for origin)."""
    return [
        (p.certificate_item_id, item.quantity)
        for plan in plans
        for item, p in zip(plan.doc.items, plan.items, strict=True)
        if p.preference_granted and p.certificate_item_id is not None
    ]


def stored_claims(decl: Declaration) -> list[tuple[int, Decimal]]:
    """What a stored declaration uses of certificates: given back when it is cancelled or
    amended."""
    return [
        (item.certificate_item_id, item.quantity)
        for item in decl.items
        if item.preference_granted and item.certificate_item_id is not None
    ]


def _check_one(actor: Principal, raw: Any, ctx: Context) -> DeclarationCreate | OneWindowError:
    if actor.role not in workflow.ANYONE:
        return Forbidden(
            Text(
                "{name} ({role}) may not lodge declarations",
                name=actor.name,
                role=actor.role.value,
            )
        )
    doc, errors = (raw, []) if isinstance(raw, DeclarationCreate) else parse(raw)
    if doc is None:
        return InvalidInput(errors)
    if len(doc.items) > ctx.max_items:
        return invalid("items", "too_many", Text("at most {n} items", n=ctx.max_items))
    if actor.role is Role.TRADER and actor.party_id != doc.declarant.id:
        return Forbidden(
            Text(
                "{name} may lodge only as declarant {party}",
                name=actor.name,
                party=actor.party_id,
            )
        )
    if errors := acdd.missing(doc, ctx.partners):
        return InvalidInput(errors)
    return doc


def lodge_each(
    session: Session, requests: Sequence[tuple[Principal, Any]], ctx: Context
) -> list[Lodged | OneWindowError]:
    """Lodge several declarations in one transaction, each on its own merits: the result is
    what was stored of each one, or the error that kept it out (it then stored nothing)."""
    # No cycle collection during the batch (see runtime.collector_paused); the work is done
    # in a function of its own so that its objects are gone when collection resumes.
    with collector_paused():
        return _lodge_each(session, requests, ctx)


def _lodge_each(
    session: Session, requests: Sequence[tuple[Principal, Any]], ctx: Context
) -> list[Lodged | OneWindowError]:
    results: list[OneWindowError | None] = []  # None: stored, in the order of `plans`
    checked = [_check_one(actor, raw, ctx) for actor, raw in requests]
    docs = [c for c in checked if isinstance(c, DeclarationCreate)]
    planned = iter(plan_all(session, docs, ctx))
    plans, actors = [], []
    for (actor, _), outcome in zip(requests, checked, strict=True):
        if isinstance(outcome, OneWindowError):
            results.append(outcome)
            continue
        plan, errors = next(planned)
        if plan is None:
            results.append(InvalidInput(errors))
            continue
        results.append(None)
        plans.append(plan)
        actors.append(actor)
    stored = iter(_store(session, plans, actors, ctx))
    return [next(stored) if r is None else r for r in results]


def preview(session: Session, actor: Principal, raw: Any, ctx: Context) -> Plan:
    """What lodging `raw` would compute (value, preference, duties and taxes), storing
    nothing: the trader's check before submitting. Bad input raises as lodging would."""
    checked = _check_one(actor, raw, ctx)
    if isinstance(checked, OneWindowError):
        raise checked
    plan, errors = plan_all(session, [checked], ctx)[0]
    if plan is None:
        raise InvalidInput(errors)
    return plan


def lodge(session: Session, actor: Principal, raws: Sequence[Any], ctx: Context) -> list[str]:
    """Lodge declarations; all are stored or, on any error, none. Returns their numbers."""
    results = lodge_each(session, [(actor, raw) for raw in raws], ctx)
    failures = [(n, r) for n, r in enumerate(results) if isinstance(r, OneWindowError)]
    if not failures:
        return [r.number for r in results if isinstance(r, Lodged)]
    session.rollback()
    for _, failure in failures:
        if not isinstance(failure, InvalidInput):
            raise failure
    if len(raws) == 1:
        raise failures[0][1]
    raise InvalidInput(
        [
            FieldError(f"[{n}].{e.path}", e.code, e.message)
            for n, failure in failures
            for e in failure.errors  # type: ignore[attr-defined]
        ]
    )


def _store(
    session: Session, plans: list[Plan], actors: list[Principal], ctx: Context
) -> list[Lodged]:
    if not plans:
        return []
    now = ctx.clock.now()
    matches = acdd.match(session, plans)
    refs = [f"{m.export_country}:{m.export_declaration}" if m else None for m in matches]
    assessments = ctx.selectivity.assess(
        session, [subject(p, ref, now.date()) for p, ref in zip(plans, refs, strict=True)]
    )
    by_office: dict[str, list[int]] = {}
    for index, plan in enumerate(plans):
        by_office.setdefault(plan.doc.office, []).append(index)
    numbers = [""] * len(plans)
    for office, indexes in by_office.items():
        allocated = repository.allocate_numbers(session, office, now.year, len(indexes))
        for index, number in zip(indexes, allocated, strict=True):
            numbers[index] = number

    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for plan, risk, actor, number, ref in zip(
        plans, assessments, actors, numbers, refs, strict=True
    ):
        status = workflow.lane_status(risk.lane)
        released = None
        if risk.lane == "green" and plan.totals["total_due"] == 0:
            status, released = workflow.RELEASED, now
        row = row_values(plan)
        row.update(
            number=number,
            version=1,
            status=status,
            channel=risk.lane,
            national_currency=ctx.currency,
            risk_score=risk.score,
            risk_reasons=list(risk.reasons),
            random_pick=risk.random,
            lodged_at=now,
            released_at=released,
            pre_arrival=ref,
        )
        rows.append(row)
        events += (
            {
                "at": now,
                "actor": actor.name,
                "entity_type": ENTITY,
                "entity_id": number,
                "action": "declaration.registered",
                "from_status": None,
                "to_status": workflow.REGISTERED,
                "detail": None,
            },
            {
                "at": now,
                "actor": actor.name,
                "entity_type": ENTITY,
                "entity_id": number,
                "action": f"declaration.channel_{risk.lane}",
                "from_status": workflow.REGISTERED,
                "to_status": status,
                "detail": {"reasons": row["risk_reasons"], "score": risk.score},
            },
        )
    ids = repository.insert_declarations(session, rows)
    items, taxes, lodged = [], [], []
    for decl_id, plan, row in zip(ids, plans, rows, strict=True):
        i, t = child_rows(decl_id, plan)
        items += i
        taxes += t
        lodged.append(Lodged(row["number"], row, i, t))
    origin.use(session, claims(plans))
    insert_many(session, DeclarationItem, items)
    if taxes:
        insert_many(session, TaxLineRow, taxes)
    audit.record_many(session, events)
    _tell_partners(session, plans, numbers, rows, matches, ctx, now)
    log.info("declaration.lodged count=%d", len(numbers))
    return lodged


def _tell_partners(
    session: Session,
    plans: list[Plan],
    numbers: list[str],
    rows: list[dict[str, Any]],
    matches: list[PreArrival | None],
    ctx: Context,
    now: datetime,
) -> None:
    """Queue what partner nodes must hear of: certificates used or refused, ACDDs matched,
    exports cleared at once."""
    outcomes = [
        ClaimOutcome(
            item.preference.certificate,
            number,
            bool(p.preference_granted),
            p.preference_reason or "",
            p.certificate_item_id,
            item.quantity,
            item.unit,
        )
        for plan, number in zip(plans, numbers, strict=True)
        for item, p in zip(plan.doc.items, plan.items, strict=True)
        if item.preference is not None
    ]
    report_claims(session, outcomes, now=now)
    for match, number in zip(matches, numbers, strict=True):
        if match is not None:
            acdd.respond(
                session,
                match,
                number,
                ctx.country,
                now,
                notify=match.export_country in ctx.partners,
            )
    released = [r["number"] for r in rows if r["type"] == "EX" and r["released_at"] is not None]
    for decl in repository.by_numbers(session, released):
        acdd.on_released(session, decl, ctx.partners, now)
