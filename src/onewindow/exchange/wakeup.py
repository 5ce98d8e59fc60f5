"""The delivery worker woken as soon as a transaction that queued messages commits, in the
same process: a message goes out at once instead of at the next poll, and the worker can
poll seldom. Polling stays, for what other processes queue (a CLI command, API processes
beside the worker's) and for retries that come due.

A flag on the session marks a transaction that queued something; committing it sets every
subscribed event. A rolled back transaction may leave the flag set on its session, which
costs at most one early poll, never a lost or duplicated message: the worker still reads
what is due from the database."""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

_QUEUED = "exchange.queued"  # session.info key
_lock = threading.Lock()
_subscribed: list[threading.Event] = []


def mark(session: Session) -> None:
    """This session's transaction queued a message: wake the workers when it commits."""
    session.info[_QUEUED] = True


def subscribe(wake: threading.Event) -> None:
    with _lock:
        _subscribed.append(wake)


def unsubscribe(wake: threading.Event) -> None:
    with _lock:
        if wake in _subscribed:
            _subscribed.remove(wake)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (a received message applied): nothing is visible yet
    if session.info.pop(_QUEUED, False):
        with _lock:
            for wake in _subscribed:
                wake.set()
