"""Transit's work beside the API: every hour, movements released here and not arrived by
their time limit go to enquiry (transit.enquiry.overdue); every few seconds, the e-seal alerts
raised since are passed on to the next office (transit.alerts.forward). Neither raises: a
failed round is logged and the next one tries again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError

from onewindow.kit.errors import OneWindowError
from onewindow.kit.node import Node
from onewindow.transit import alerts
from onewindow.transit.context import context
from onewindow.transit.enquiry import overdue

log = logging.getLogger("onewindow.transit")
INTERVAL = 3600.0
ALERTS_INTERVAL = 5.0


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


def pass_on(node: Node) -> int:
    """One round: the alerts passed on (or noted, for an office here)."""
    try:
        with node.transaction() as session:
            return alerts.forward(session, context(node))
    except (SQLAlchemyError, OneWindowError):
        log.exception("transit.alerts_failed")
        return 0


async def _rounds(node: Node, interval: float, work: Callable[[Node], object]) -> None:
    while True:
        await to_thread.run_sync(work, node)
        await asyncio.sleep(interval)


@asynccontextmanager
async def lifespan(node: Node) -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(_rounds(node, INTERVAL, sweep)),
        asyncio.create_task(_rounds(node, ALERTS_INTERVAL, pass_on)),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
