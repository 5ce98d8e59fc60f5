"""REST endpoints for declarations: lodging, reading, officer actions, payment, release."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from onewindow.api_deps import NodeDep, TokenDep, principal
from onewindow.declarations import repository, service
from onewindow.declarations.readmodel import clearance_report, to_read
from onewindow.declarations.schemas import (
    Cancellation,
    DeclarationCreate,
    DeclarationRead,
    DocumentCheck,
    InspectionFindings,
    Payment,
)
from onewindow.declarations.tasks import LodgingWriter
from onewindow.fields import MAX_OFFSET

router = APIRouter(prefix="/api/v1/declarations", tags=["declarations"])
reports = APIRouter(prefix="/api/v1/reports", tags=["reports"])


class DeclarationSummary(BaseModel):
    number: str
    type: str
    status: str
    channel: str
    office: str
    declarant_id: str
    importer_name: str
    total_due: str
    lodged_at: datetime


class AuditRead(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any] | None


@router.post("", status_code=201, response_model=DeclarationRead)
async def lodge(body: DeclarationCreate, request: Request, token: TokenDep) -> Any:
    """Lodge a declaration: it is validated, numbered, assessed and given a channel."""
    writer: LodgingWriter = request.app.state.lodging
    read = await writer.lodge(token, body)
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
        return to_read(service.get(session, principal(session, token), number))


@router.get("/{number}/history", response_model=list[AuditRead])
def history(number: str, node: NodeDep, token: TokenDep) -> Any:
    """The audit trail: every transition with who, when and from which status."""
    with node.transaction() as session:
        events = service.history(session, principal(session, token), number)
        return [AuditRead.model_validate(e, from_attributes=True) for e in events]


def _action(node: Any, token: str | None, fn: Callable[..., Any], *args: Any) -> Any:
    with node.transaction() as session:
        decl = fn(session, principal(session, token), *args, node.context)
        session.flush()
        return to_read(service.get(session, principal(session, token), decl.number))


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
    """Amend before payment: the whole document again; duties are reassessed."""
    document = body.model_dump(mode="json", exclude_none=True)
    return _action(node, token, service.amend, number, document)


@router.post("/{number}/cancellation", response_model=DeclarationRead)
def cancel(number: str, body: Cancellation, node: NodeDep, token: TokenDep) -> Any:
    return _action(node, token, service.cancel, number, body)


@reports.get("/clearance")
def clearance(node: NodeDep, token: TokenDep, days: int = Query(30, ge=1, le=3660)) -> Any:
    """Clearance times (lodged to released) per channel over the last `days` days."""
    with node.transaction() as session:
        principal(session, token).require(*service.workflow.OFFICIALS)
        end = node.clock.now()
        rows = repository.released_between(session, end - timedelta(days=days), end)
        return {
            "since": (end - timedelta(days=days)).astimezone(UTC),
            "channels": clearance_report(rows),
        }
