"""Turns stored declarations into what people read: the API response, CLI tables, reports.

What a reader sees depends on who reads, and is decided here only: a trader sees the lane and
what to do next, never why (score, reasons, the model, a random pick): that would teach a
trader how to be waved through. Every other role that may read declarations sees everything.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from onewindow.declarations import workflow
from onewindow.declarations.models import AmendmentRequest, Declaration
from onewindow.declarations.schemas import (
    AmendmentRequestRead,
    AuditRead,
    ControlRead,
    DeclarationRead,
    ItemRead,
    RiskRead,
    TaxLineRead,
)
from onewindow.kit.audit import AuditEvent
from onewindow.kit.auth import Principal, Role
from onewindow.kit.db import Base, table
from onewindow.kit.money import round_money


def plain(value: Decimal) -> Decimal:
    """10.0000 -> 10, 0.50 -> 0.5: rates as people write them."""
    return Decimal(format(value.normalize(), "f"))


# Audit details that say why a declaration was targeted (see `audit_read`).
TARGETING = frozenset({"score", "reasons", "random", "risk", "model"})


def sees_targeting(actor: Principal) -> bool:
    return actor.role is not Role.TRADER


def to_read(decl: Declaration, actor: Principal) -> DeclarationRead:
    controls = [
        ControlRead(
            kind=c.kind, officer=c.officer, result=c.result, note=c.note, at=c.at, detail=c.detail
        )
        for c in decl.controls
    ]
    return from_rows(
        _columns(decl), map(_columns, decl.items), map(_columns, decl.taxes), actor, controls
    )


def audit_read(events: Iterable[AuditEvent], actor: Principal) -> list[AuditRead]:
    """A declaration's history as `actor` may see it: a trader's without the targeting."""
    out = []
    for e in events:
        detail = e.detail
        if detail is not None and not sees_targeting(actor):
            detail = {k: v for k, v in detail.items() if k not in TARGETING} or None
        out.append(
            AuditRead(
                at=e.at,
                actor=e.actor,
                action=e.action,
                from_status=e.from_status,
                to_status=e.to_status,
                detail=detail,
            )
        )
    return out


def amendment_read(request: AmendmentRequest, number: str) -> AmendmentRequestRead:
    return AmendmentRequestRead(
        id=request.id,
        declaration=number,
        version=request.version,
        status=request.status,
        reason=request.reason,
        document=request.document,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        note=request.note,
    )


def _columns(row: Base) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in table(type(row)).columns}


def from_rows(
    decl: Mapping[str, Any],
    items: Iterable[Mapping[str, Any]],
    taxes: Iterable[Mapping[str, Any]],
    actor: Principal,
    controls: list[ControlRead] | None = None,
) -> DeclarationRead:
    """The read model from a declaration's columns and the columns of its items and tax lines,
    whether read back from the database or just written at lodging (which then needs no read)."""
    cur = decl["national_currency"]

    def m(value: Decimal) -> Decimal:
        return round_money(value, cur)

    taxes_by_item: dict[int, list[TaxLineRead]] = {}
    for t in taxes:
        taxes_by_item.setdefault(t["item_seq"], []).append(
            TaxLineRead(
                tax=t["tax"],
                base=m(t["base"]),
                rate=plain(t["rate"]),
                amount=m(t["amount"]),
                rate_kind=t["rate_kind"],
            )
        )
    read_items = [
        ItemRead(
            seq=i["seq"],
            hs_code=i["hs_code"],
            description=i["description"],
            origin=i["origin"],
            quantity=plain(i["quantity"]),
            unit=i["unit"],
            net_mass_kg=plain(i["net_mass_kg"]),
            gross_mass_kg=plain(i["gross_mass_kg"]),
            customs_value=round_money(i["customs_value"], decl["currency"]),
            value_national=m(i["value_national"]),
            preference_certificate=i["preference_certificate"],
            preference_granted=i["preference_granted"],
            preference_reason=i["preference_reason"],
            taxes=taxes_by_item.get(i["seq"], []),
        )
        for i in sorted(items, key=itemgetter("seq"))
    ]
    lodged, released = decl["lodged_at"], decl["released_at"]
    return DeclarationRead(
        number=decl["number"],
        version=decl["version"],
        type=decl["type"],
        status=decl["status"],
        channel=decl["channel"],
        office=decl["office"],
        declarant_id=decl["declarant_id"],
        importer_id=decl["importer_id"],
        importer_name=decl["importer_name"],
        exporter_name=decl["exporter_name"],
        country_of_export=decl["country_of_export"],
        country_of_destination=decl["country_of_destination"],
        goods_date=decl["goods_date"],
        currency=decl["currency"],
        exchange_rate=plain(decl["exchange_rate"]),
        national_currency=cur,
        items=read_items,
        totals={
            "customs_value": m(decl["total_value"]),
            "import_duty": m(decl["total_duty"]),
            "vat": m(decl["total_vat"]),
            "total_due": m(decl["total_due"]),
        },
        risk=RiskRead(
            score=decl["risk_score"], reasons=decl["risk_reasons"], random=decl["random_pick"]
        )
        if sees_targeting(actor)
        else None,
        next_step=workflow.next_step(decl["status"]),
        controls=controls or [],
        lodged_at=lodged,
        released_at=released,
        clearance_seconds=(released - lodged).total_seconds() if released is not None else None,
        pre_arrival=decl.get("pre_arrival"),
    )


def clearance_report(rows: list[tuple[str, datetime, datetime]]) -> dict[str, Any]:
    """Clearance times (lodged to released) per channel: count, mean, median, 90th percentile."""
    by_channel: dict[str, list[float]] = {}
    for channel, lodged, released in rows:
        seconds = (released - lodged).total_seconds()
        by_channel.setdefault(channel, []).append(seconds)
        by_channel.setdefault("all", []).append(seconds)
    report = {}
    for channel, values in sorted(by_channel.items()):
        values.sort()
        report[channel] = {
            "released": len(values),
            "mean_s": round(statistics.fmean(values), 3),
            "p50_s": round(_percentile(values, 0.5), 3),
            "p90_s": round(_percentile(values, 0.9), 3),
        }
    return report


def _percentile(values: list[float], q: float) -> float:
    index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[index]
