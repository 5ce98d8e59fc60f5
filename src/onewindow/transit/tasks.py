"""Transit's work beside the API: every hour, movements released here and not arrived by
their time limit go to enquiry (transit.enquiry.overdue). It never raises: a failed round is
logged and the next one tries again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError

from onewindow.kit.errors import OneWindowError
from onewindow.kit.node import Node
from onewindow.transit.context import context
from onewindow.transit.enquiry import overdue

log = logging.getLogger("onewindow.transit")
INTERVAL = 3600.0


def sweep(node: Node) -> list[str]:
    """One round: the MRNs of the movements put under enquiry."""
    try:
        with node.transaction() as session:
            started = overdue(session, context(node))
    except (SQLAlchemyError, OneWindowError):
        log.exception("transit.overdue_failed")
        return []
    for mrn in started:
        log.info("transit.enquiry_started mrn=%s", mrn)
    return started


async def _rounds(node: Node, interval: float) -> None:
    while True:
        await to_thread.run_sync(sweep, node)
        await asyncio.sleep(interval)


@asynccontextmanager
async def lifespan(node: Node) -> AsyncIterator[None]:
    task = asyncio.create_task(_rounds(node, INTERVAL))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
