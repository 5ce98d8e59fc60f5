"""FastAPI dependencies shared by every domain's router: the node and who is calling.

`authorize` runs first on every route (the app factory attaches it to each router): it finds
the route's rule in `access`, authenticates the token (one query for the requests that arrive
together; see `Authenticator`) and checks the role before any parameter or body is validated,
so a caller without a valid token gets 401 and a caller of the wrong role 403, whatever it
sent. Handlers get the result through `TokenDep` (FastAPI solves a dependency once per
request); `principal()` asks the database only when `authorize` did not.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onewindow.kit import access, auth
from onewindow.kit.errors import Forbidden, NotAuthenticated
from onewindow.kit.node import Node

_bearer = HTTPBearer(auto_error=False, description="API token from `onewindow user add`")


@dataclass(frozen=True)
class Caller:
    """The bearer token sent, and its user once `authorize` has checked it."""

    token: str | None
    principal: auth.Principal | None = None  # None: the handler authenticates the token itself
    at: datetime | None = None  # the node's time when the request came in


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def get_node(request: Request) -> Node:
    # async: a plain function would cost every request a trip to the thread pool.
    return node_of(request)


def route_path(request: Request) -> str:
    """The route's path as kit.access names it (`/api/v1/declarations/{number}`)."""
    route = request.scope.get("route")
    return getattr(route, "path_format", request.url.path)


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    token = credentials.credentials if credentials else None
    path = route_path(request)
    rule = access.api_rule(request.method, path)
    if rule is None:  # fails closed; tests/test_roles.py keeps this from happening
        raise Forbidden(f"{request.method} {path} has no access rule")
    if rule.public:
        return Caller(token)
    if rule.machine:  # the handler checks the machine's own credential
        if not token:
            raise NotAuthenticated(f"send the key of one of the {rule.machine} as the bearer token")
        if auth.is_user_token(token):
            raise Forbidden(f"{request.method} {path} is for {rule.machine}, not for users")
        return Caller(token)
    if not token:
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    checker: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if checker is None:
        checker = request.app.state.authenticator = Authenticator(node_of(request))
    at = checker.node.clock.now()
    recent = checker.recently(token)
    if recent is not None:
        # The role is the token's for good; whether the token still works (not revoked nor
        # expired, its user not disabled) the handler asks in its own transaction.
        access.check_api(recent, request.method, path)
        return Caller(token, None, at)
    actor = await checker.check(token)
    access.check_api(actor, request.method, path)
    return Caller(token, actor, at)


class Authenticator:
    """Checks the tokens of the requests that arrive together in one query, in one trip to a
    worker thread, and remembers for a few seconds whom a token named, so that the role check
    of its next requests asks nothing of the database.

    Why: a query and a thread hop per request before the handler's own cost the lodging
    endpoint a quarter of its rate under load (its writer lodges and authenticates a batch in
    one transaction). What is remembered is only ever used to refuse early: a request let
    through is authenticated again by its handler (or the lodging writer) in its own
    transaction, so a revoked token or a disabled user gets 401 at once. Only within those
    seconds can such a request with an invalid body get its 422 before that 401."""

    RECENT_SECONDS = 5.0
    RECENT_MAX = 10_000

    def __init__(self, node: Node, max_batch: int = 256) -> None:
        self.node, self.max_batch = node, max_batch
        self._recent: dict[str, tuple[float, auth.Principal]] = {}
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[auth.Principal]]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def recently(self, token: str) -> auth.Principal | None:
        found = self._recent.get(token)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    async def check(self, token: str) -> auth.Principal:
        actor = await self._check(token)
        if len(self._recent) >= self.RECENT_MAX:
            self._recent.clear()
        self._recent[token] = (time.monotonic() + self.RECENT_SECONDS, actor)
        return actor

    async def _check(self, token: str) -> auth.Principal:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            # One per event loop (test clients may run each request in a loop of its own).
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = loop.create_task(self._run(self._queue))
        future: asyncio.Future[auth.Principal] = loop.create_future()
        await self._queue.put((token, future))
        return await future

    async def _run(self, queue: asyncio.Queue[tuple[str, asyncio.Future[auth.Principal]]]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                found = await run_in_threadpool(self._lookup, [token for token, _ in batch])
            except Exception as exc:  # the database failed: every caller gets the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for token, future in batch:
                result = found[token]
                if future.done():
                    continue
                if isinstance(result, auth.Principal):
                    future.set_result(result)
                else:  # an exception of its own for each request
                    future.set_exception(type(result)(result.detail, **result.extra))

    def _lookup(
        self, tokens: list[str]
    ) -> dict[str | None, auth.Principal | auth.NotAuthenticated]:
        with self.node.transaction() as session:
            return auth.authenticate_many(session, tokens, self.node.clock.now())


def get_token(caller: Annotated[Caller, Depends(authorize)]) -> Caller:
    return caller


NodeDep = Annotated[Node, Depends(get_node)]
TokenDep = Annotated[Caller, Depends(get_token)]


def principal(session: Session, caller: Caller) -> auth.Principal:
    """Who is calling: checked already by `authorize`, else (a public route) checked here."""
    if caller.principal is not None:
        return caller.principal
    return auth.authenticate(session, caller.token, caller.at)
