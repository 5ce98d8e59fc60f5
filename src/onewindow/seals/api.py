"""The seals over HTTPS: vendors' platforms post batches of events (their own key as the
bearer token); officials read a trip with its alerts and track, and acknowledge alerts.

A batch is read as it arrives and refused with 413 as soon as it passes the limit
(`seals_max_batch_bytes`), without the rest being read; a batch of more events than
`seals_max_batch_events` is refused the same way. One bad event refuses the batch (422, each
problem by `events.N.field`) and nothing of it is stored.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from onewindow.kit import db
from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.kit.errors import (
    InvalidInput,
    PayloadTooLarge,
    Text,
    from_validation,
    invalid,
)
from onewindow.kit.node import Node
from onewindow.seals import credentials, intake, service
from onewindow.seals.schemas import (
    AcknowledgementIn,
    AlertRead,
    EventBatch,
    IngestResult,
    Track,
    TripRead,
    TripReference,
)
from onewindow.seals.settings import SealsSettings

router = APIRouter(prefix="/api/v1/seals", tags=["seals"])
# One batch at a time per process: batches of one trip must take turns anyway (its state),
# and on SQLite all writers do.
_INGESTING = threading.Lock()


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused (413) once it passes `limit` bytes: the rest is never read."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(Text("a batch may have at most {limit} bytes", limit=limit))
    parts, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(Text("a batch may have at most {limit} bytes", limit=limit))
        parts.append(chunk)
    return b"".join(parts)


def parse_batch(body: bytes, max_events: int) -> EventBatch:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise invalid("body", "json_invalid", f"not JSON: {exc}") from exc
    events = raw.get("events") if isinstance(raw, dict) else None
    if isinstance(events, list) and len(events) > max_events:
        raise PayloadTooLarge(
            Text(
                "a batch may have at most {limit} events; this one has {count}",
                limit=max_events,
                count=len(events),
            )
        )
    try:
        return EventBatch.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(from_validation(exc.errors())) from exc


def take_batch(node: Node, key: str | None, body: bytes) -> IngestResult:
    settings = SealsSettings.of(node.settings)
    with node.transaction() as session:
        platform = credentials.platform_of(session, key)
    batch = parse_batch(body, settings.seals_max_batch_events)
    with _INGESTING, db.write_transaction(node.sessions) as session:
        source = intake.Source(platform=platform)
        return intake.ingest(session, batch.events, source=source, now=node.clock.now())


@router.post(
    "/events",
    response_model=IngestResult,
    responses={
        401: {"description": "No key, or not a current platform's"},
        403: {"description": "A user's token: this endpoint is for platforms"},
        413: {"description": "Over the batch's size or number of events"},
        422: {"description": "A bad event: each problem by events.N.field; nothing stored"},
    },
)
async def post_events(request: Request, node: NodeDep, token: TokenDep) -> Any:
    """A platform's batch of its devices' events, as `{"events": [...]}`: duplicates are
    ignored, late events stored without moving the trip back, every rule applied."""
    limit = SealsSettings.of(node.settings).seals_max_batch_bytes
    body = await read_limited(request, limit)
    return await run_in_threadpool(take_batch, node, token.token, body)


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(
    node: NodeDep,
    token: TokenDep,
    open_only: bool = Query(False, alias="open", description="Only those not acknowledged"),
    limit: int = Query(200, ge=1, le=1000),
) -> Any:
    """Every trip's alerts, newest first: the monitoring officers' list."""
    with node.transaction() as session:
        principal(session, token)
        return service.alerts(session, open_only=open_only, limit=limit)


@router.get("/trips/{reference}", response_model=TripRead)
def get_trip(reference: TripReference, node: NodeDep, token: TokenDep) -> Any:
    """A trip's status, last position and alerts."""
    with node.transaction() as session:
        principal(session, token)
        return service.trip(session, reference)


@router.get("/trips/{reference}/track", response_model=Track)
def get_track(reference: TripReference, node: NodeDep, token: TokenDep) -> Any:
    """Every position its seals reported, in time order."""
    with node.transaction() as session:
        principal(session, token)
        return service.track(session, reference)


@router.post("/trips/{reference}/alerts/{alert_id}/acknowledgement", response_model=AlertRead)
def acknowledge(
    reference: TripReference,
    body: AcknowledgementIn,
    node: NodeDep,
    token: TokenDep,
    alert_id: int = Path(ge=1, le=2**31 - 1),
) -> Any:
    """An officer acknowledges an alert, with a note of what was done."""
    with node.transaction() as session:
        actor = principal(session, token)
        return service.acknowledge(
            session, reference, alert_id, note=body.note, actor=actor.name, now=node.clock.now()
        )
