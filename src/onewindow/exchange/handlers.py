"""Who applies which document: handlers that domains register by document type.

The exchange knows nothing of what a Form D or an ACDD means; the origin and declarations
domains register a handler for each document type they take, and the gateway calls it
inside the receiving transaction. InvalidInput from a handler (or another domain error of the
4xx kind, such as NotFound or Conflict) rejects the message with its coded reasons; any other
exception rolls the message back, and the sender retries it later.

A domain may also register a batch scope: a context manager the gateway opens around the
handlers of a whole batch when it applies them together (the ledger appends the batch's
entries in one go when the scope ends). When a handler refuses, the scope is left with the
exception and its savepoint rolled back, and the batch runs again one message at a time,
outside any scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from onewindow.exchange import documents


@dataclass(frozen=True)
class Incoming:
    """A verified document from a partner, as a handler sees it."""

    message_id: str
    sender: str
    receiver: str
    document_type: str
    document_id: str
    version: int
    payload: dict[str, Any]
    received_at: datetime


Handler = Callable[[Session, Incoming], None]
BatchScope = Callable[[Session], AbstractContextManager[None]]
_handlers: dict[str, Handler] = {}
_scopes: dict[str, BatchScope] = {}


def register_handler(document_type: str, handler: Handler) -> None:
    """The domain function that applies documents of `document_type`. Registering again
    replaces the handler (nodes register theirs each time they open)."""
    documents.document_type(document_type)
    _handlers[document_type] = handler


def unregister_handler(document_type: str) -> None:
    _handlers.pop(document_type, None)


def handler_for(document_type: str) -> Handler | None:
    return _handlers.get(document_type)


def register_batch_scope(name: str, scope: BatchScope) -> None:
    """A scope the handlers of a batch run in when applied together (see the module's doc).
    Registering the same name again replaces it."""
    _scopes[name] = scope


@contextmanager
def batch_scope(session: Session) -> Iterator[None]:
    """Every registered batch scope, entered in the order registered."""
    with ExitStack() as stack:
        for scope in list(_scopes.values()):
            stack.enter_context(scope(session))
        yield
