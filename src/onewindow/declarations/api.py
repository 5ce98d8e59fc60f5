"""REST endpoints for declarations: lodging, reading, officer actions, payment, release."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response

from onewindow.declarations import service, tasks
from onewindow.declarations.context import context
from onewindow.declarations.readmodel import amendment_read, audit_read, to_read
from onewindow.declarations.schemas import (
    AmendmentDecision,
    AmendmentRequestCreate,
    AmendmentRequestRead,
    AuditRead,
    Cancellation,
    DeclarationCreate,
    DeclarationRead,
    DeclarationSummary,
    DocumentCheck,
    InspectionFindings,
    Opening,
    Payment,
)
from onewindow.kit.api_deps import Caller, NodeDep, TokenDep, node_of, principal
from onewindow.kit.fields import MAX_OFFSET

router = APIRouter(prefix="/api/v1/declarations", tags=["declarations"])
reports = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.post("", status_code=201, response_model=DeclarationRead)
async def lodge(body: DeclarationCreate, request: Request, token: TokenDep) -> Any:
    """Lodge a declaration: it is validated, numbered, assessed and given a channel."""
    # The node from the app itself, not through NodeDep: the busiest route solves no more
    # dependencies than it must.
    read = await tasks.writer(node_of(request)).lodge(token.principal or token.token, body)
    # Serialised once here rather than validated again against the response model.
    return Response(
        read.model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/v1/declarations/{read.number}"},
    )


@router.get("", response_model=list[DeclarationSummary])
def search(
    node: NodeDep,
    token: TokenDep,
    status: str | None = None,
    channel: Literal["green", "yellow", "red", "blue"] | None = None,
    type: Literal["IM", "EX"] | None = None,
    office: str | None = Query(None, max_length=5),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Any:
    """List declarations (a trader sees only its own), newest first."""
    with node.transaction() as session:
        actor = principal(session, token)
        found = service.search(
            session,
            actor,
            status=status,
            channel=channel,
            type_=type,
            office=office,
            limit=limit,
            offset=offset,
        )
        return [
            DeclarationSummary(
                number=d.number,
                type=d.type,
                status=d.status,
                channel=d.channel,
                office=d.office,
                declarant_id=d.declarant_id,
                importer_name=d.importer_name,
                total_due=str(d.total_due),
                lodged_at=d.lodged_at,
            )
            for d in found
        ]


@router.get("/{number}", response_model=DeclarationRead)
def read(number: str, node: NodeDep, token: TokenDep) -> Any:
    with node.transaction() as session:
        actor = principal(session, token)
        return to_read(service.get(session, actor, number), actor)


@router.get("/{number}/history", response_model=list[AuditRead])
def history(number: str, node: NodeDep, token: TokenDep) -> Any:
    """The audit trail: every transition with who, when and from which status."""
    with node.transaction() as session:
        actor = principal(session, token)
        return audit_read(service.history(session, actor, number), actor)


def _action(node: Any, token: Caller, fn: Callable[..., Any], *args: Any) -> Any:
    with node.transaction() as session:
        actor = principal(session, token)
        decl = fn(session, actor, *args, context(node))
        session.flush()
        return to_read(service.get(session, actor, decl.number), actor)


@router.post("/{number}/opening", response_model=DeclarationRead)
def opening(number: str, body: Opening, node: NodeDep, token: TokenDep) -> Any:
    """An officer takes a yellow or red declaration in hand (its check or inspection begins);
    from then on its trader may no longer amend or cancel it, only request an amendment."""
    return _action(node, token, service.open_control, number, body)


@router.post("/{number}/document-check", response_model=DeclarationRead)
def document_check(number: str, body: DocumentCheck, node: NodeDep, token: TokenDep) -> Any:
    """Officer's decision on a yellow-channel declaration: accept, or send to inspection."""
    return _action(node, token, service.document_check, number, body)


@router.post("/{number}/inspection", response_model=DeclarationRead)
def inspection(number: str, body: InspectionFindings, node: NodeDep, token: TokenDep) -> Any:
    """Findings of a physical inspection; corrections trigger reassessment of the duties."""
    return _action(node, token, service.record_inspection, number, body)


@router.post("/{number}/payment", response_model=DeclarationRead)
def payment(number: str, body: Payment, node: NodeDep, token: TokenDep) -> Any:
    """Record payment of the duties and taxes due, or a guarantee covering them."""
    return _action(node, token, service.pay, number, body)


@router.post("/{number}/release", response_model=DeclarationRead)
def release(number: str, node: NodeDep, token: TokenDep) -> Any:
    return _action(node, token, service.release, number)


@router.put("/{number}", response_model=DeclarationRead)
def amend(number: str, body: DeclarationCreate, node: NodeDep, token: TokenDep) -> Any:
    """Amend before payment: the whole document again; duties and risk are reassessed (the
    channel never goes down). Once an officer has acted, a trader gets 409 `officer_acted`
    and files an amendment request instead."""
    document = body.model_dump(mode="json", exclude_none=True)
    return _action(node, token, service.amend, number, document)


@router.post("/{number}/cancellation", response_model=DeclarationRead)
def cancel(number: str, body: Cancellation, node: NodeDep, token: TokenDep) -> Any:
    return _action(node, token, service.cancel, number, body)


@router.post("/{number}/amendment-requests", status_code=201, response_model=AmendmentRequestRead)
def request_amendment(
    number: str, body: AmendmentRequestCreate, node: NodeDep, token: TokenDep
) -> Any:
    """The declarant asks for an amendment (the whole amended document and why); an officer
    accepts (the amendment is applied and assessed again) or refuses it."""
    with node.transaction() as session:
        actor = principal(session, token)
        request = service.request_amendment(session, actor, number, body, context(node))
        return amendment_read(request, number)


@router.get("/{number}/amendment-requests", response_model=list[AmendmentRequestRead])
def amendment_requests(number: str, node: NodeDep, token: TokenDep) -> Any:
    with node.transaction() as session:
        found = service.requests(session, principal(session, token), number)
        return [amendment_read(r, number) for r in found]


@router.post(
    "/{number}/amendment-requests/{request_id}/decision", response_model=AmendmentRequestRead
)
def decide_amendment(
    number: str, request_id: int, body: AmendmentDecision, node: NodeDep, token: TokenDep
) -> Any:
    """An officer accepts (the amendment is applied) or refuses (a note says why) a request."""
    with node.transaction() as session:
        actor = principal(session, token)
        request = service.decide_amendment(session, actor, number, request_id, body, context(node))
        return amendment_read(request, number)


@reports.get("/clearance")
def clearance(node: NodeDep, token: TokenDep, days: int = Query(30, ge=1, le=3660)) -> Any:
    """Clearance times (lodged to released) per channel over the last `days` days."""
    with node.transaction() as session:
        end = node.clock.now()
        since = end - timedelta(days=days)
        return {
            "since": since.astimezone(UTC),
            "channels": service.clearance(session, principal(session, token), since, end),
        }
