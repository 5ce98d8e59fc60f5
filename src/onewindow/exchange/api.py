"""The gateway over HTTP: partners POST envelopes to /exchange/v1/messages and get signed
receipts back; officials read every message's status and the regional statistics under
/api/v1/exchange.

The partner endpoint takes no token: the signature on each envelope is the authentication.
Whatever arrives, the answer is a signed receipt (for an envelope whose signature verified,
a rejection included) or a problem document (for anything refused before that), and never a
500: hostile input is refused with a 4xx, and a failure of this node (the database away) is
a 503 that the sender retries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from onewindow.exchange import inbox, repository, transport
from onewindow.exchange.envelope import Opened
from onewindow.exchange.gateway import Gateway, View
from onewindow.exchange.inbox import Outcome
from onewindow.exchange.schemas import MessageRead, PartnerRead, StatsRead
from onewindow.kit import auth, db
from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.kit.errors import OneWindowError
from onewindow.kit.fields import MAX_OFFSET
from onewindow.kit.node import Node

log = logging.getLogger("onewindow.exchange")
router = APIRouter(tags=["exchange"])
PROBLEM = "application/problem+json"
_XML_TYPES = (transport.XML, "text/xml")
# One batch of envelopes at a time per process. With several at once, the batch holding the
# database's write lock waits for the CPU (the GIL) behind the batches still verifying, which
# then wait for the lock: measured on SQLite, the lock was held two to four times longer than
# the work inside it took, and the node received a third fewer messages a second.
_RECEIVING = threading.Lock()


def gateway_of(node: Node, state: Any) -> Gateway:
    """The app's gateway (`onewindow serve` shares it with the delivery worker), made on
    first use where nobody set one."""
    gateway: Gateway | None = getattr(state, "exchange", None)
    if gateway is None:
        gateway = Gateway(node.settings, node.sessions)
        state.exchange = gateway
    return gateway


def _problem_body(status: int, code: str, detail: str, **extra: Any) -> bytes:
    body = {"type": f"urn:onewindow:error:{code}", "title": code.replace("_", " ").capitalize(),
            "status": status, "code": code, "detail": detail, **extra}  # fmt: skip
    return orjson.dumps(body)


def _problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    return Response(_problem_body(status, code, detail, **extra), status, media_type=PROBLEM)


def _error(exc: OneWindowError) -> Response:
    return Response(orjson.dumps(exc.problem()), exc.status, media_type=PROBLEM)


@router.post(
    "/exchange/v1/messages",
    summary="Deliver envelopes from a partner node",
    responses={
        200: {"description": "The signed receipt (application/xml), or one per envelope"},
        400: {"description": "Malformed XML or framing"},
        403: {"description": "Signed by a key this node does not trust"},
        413: {"description": "Too large"},
        422: {"description": "Refused: the signed receipt with coded reasons, or a problem"},
        503: {"description": "This node cannot take messages now; retry later"},
    },
)
async def post_messages(request: Request, node: NodeDep) -> Response:
    """One envelope (`application/xml`) or several (`multipart/mixed`, one part each)."""
    gateway = gateway_of(node, request.app.state)
    body = await request.body()
    content_type = request.headers.get("content-type")
    return await run_in_threadpool(answer, node, gateway, content_type, body)


def answer(node: Node, gateway: Gateway, content_type: str | None, body: bytes) -> Response:
    view = gateway.current()
    if not view.ready:
        return _problem(503, "exchange_unavailable", view.problem or "not configured")
    kind = transport.media_type(content_type)
    if kind == transport.MULTIPART:
        try:
            parts = transport.decode(body, content_type)
        except OneWindowError as exc:
            return _problem(400, "malformed_multipart", exc.detail)
        outcomes = _receive(node, view, [content for _, content in parts])
        if outcomes is None:
            return _problem(503, "try_again", "this node could not store the messages")
        data, media = transport.encode([_part(o) for o in outcomes])
        return Response(data, 200, media_type=media)
    if kind not in _XML_TYPES:
        return _problem(415, "unsupported_media_type", "send application/xml or multipart/mixed")
    found = _receive(node, view, [body])
    if found is None:
        return _problem(503, "try_again", "this node could not store the message")
    outcome = found[0]
    if outcome.receipt is not None:
        return Response(outcome.receipt, outcome.http_status, media_type=transport.XML)
    return Response(_problem_body(**_unreceipted(outcome)), outcome.http_status, media_type=PROBLEM)


def _unreceipted(outcome: Outcome) -> dict[str, Any]:
    reasons = [{"path": r.pointer or "/", "code": r.code, "message": r.text or ""}
               for r in outcome.reasons]  # fmt: skip
    if outcome.status == "error":
        return {"status": 503, "code": "try_again", "detail": "the message failed here; retry"}
    detail = "; ".join(f"{r['code']}: {r['message']}" for r in reasons) or "refused"
    return {"status": outcome.http_status, "code": "refused", "detail": detail, "errors": reasons}


def _part(outcome: Outcome) -> tuple[str, bytes]:
    if outcome.receipt is not None:
        return transport.XML, outcome.receipt
    return PROBLEM, _problem_body(**_unreceipted(outcome))


def _receive(node: Node, view: View, bodies: Sequence[bytes]) -> list[Outcome] | None:
    """Verify outside the transaction (CPU only), then apply in one; None if the database
    failed, so the whole batch is answered with a 503 and retried."""
    assert view.signer is not None and view.trust is not None
    with _RECEIVING:
        return _receive_one_batch(node, view, bodies)


def _receive_one_batch(node: Node, view: View, bodies: Sequence[bytes]) -> list[Outcome] | None:
    assert view.signer is not None and view.trust is not None
    now = node.clock.now()
    checked = [
        inbox.verify(b, trust=view.trust, node_key=view.signer, country=view.country, now=now)
        for b in bodies
    ]
    if not any(isinstance(c, Opened) for c in checked):
        return [c for c in checked if isinstance(c, Outcome)]
    try:
        with db.write_transaction(node.sessions) as session:
            return inbox.apply_verified(
                session, list(zip(bodies, checked, strict=True)), node_key=view.signer, now=now
            )
    except Exception:
        log.exception("exchange.receive_failed count=%d", len(bodies))
        return None


# ---- for officials ----


@router.get("/api/v1/exchange/messages", response_model=list[MessageRead])
def list_messages(
    node: NodeDep,
    token: TokenDep,
    direction: Literal["out", "in"] | None = None,
    status: str | None = Query(None, max_length=20),
    partner: str | None = Query(None, pattern="^[A-Z]{2}$"),
    document_type: str | None = Query(None, max_length=64),
    document_id: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[MessageRead]:
    """Every message in both directions with its status, newest first."""
    with node.transaction() as session:
        principal(session, token).require(*auth.OFFICIALS)
        rows = repository.messages(
            session,
            direction=direction,
            status=status,
            partner=partner,
            document_type=document_type,
            document_id=document_id,
            limit=limit,
            offset=offset,
        )
        return [MessageRead.of(r) for r in rows]


@router.get("/api/v1/exchange/stats", response_model=StatsRead)
def stats(node: NodeDep, token: TokenDep) -> StatsRead:
    """Counts per partner, document type, direction and status."""
    with node.transaction() as session:
        principal(session, token)  # the route's rule (onewindow.kit.access) says who
        return StatsRead.of(repository.stats(session))


@router.get("/api/v1/exchange/partners", response_model=list[PartnerRead])
def partners(request: Request, node: NodeDep, token: TokenDep) -> list[PartnerRead]:
    """The partners, their endpoints and the key ids this node trusts for each."""
    gateway_of(node, request.app.state).current()  # synchronises the partner table
    with node.transaction() as session:
        principal(session, token).require(*auth.OFFICIALS)
        return [PartnerRead.of(p) for p in repository.partners(session)]
