"""FastAPI dependencies shared by every domain's router: the node and who is calling.

`authorize` runs first on every route (the app factory attaches it to each router): it finds
the route's rule in `access`, authenticates the token (one query for the requests that arrive
together) and checks the role before any parameter or body is validated, so a caller without
a token gets 401 and a caller of the wrong role 403, whatever it sent. Handlers get the result
through `TokenDep` (FastAPI solves a dependency once per request) and `principal()` does not
ask the database again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onewindow import access, auth
from onewindow.errors import Forbidden, NotAuthenticated
from onewindow.node import Node

_bearer = HTTPBearer(auto_error=False, description="API token from `onewindow user add`")


@dataclass(frozen=True)
class Caller:
    """The bearer token sent, and its user once `authorize` has checked it."""

    token: str | None
    principal: auth.Principal | None = None


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    token = credentials.credentials if credentials else None
    route = request.scope.get("route")
    path = getattr(route, "path_format", request.url.path)
    rule = access.api_rule(request.method, path)
    if rule is None:  # fails closed; tests/test_roles.py keeps this from happening
        raise Forbidden(f"{request.method} {path} has no access rule")
    if rule.public:
        return Caller(token)
    if not token:
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    checker: Authenticator | None = getattr(request.app.state, "authenticator", None)
    if checker is None:
        checker = request.app.state.authenticator = Authenticator(get_node(request))
    actor = await checker.check(token)
    access.check_api(actor, request.method, path)
    return Caller(token, actor)


class Authenticator:
    """Checks the tokens of the requests that arrive together in one query, in one trip to a
    worker thread: under load, a query and a thread hop per request cost the lodging endpoint
    a quarter of its rate (its writer lodges a batch in one transaction)."""

    def __init__(self, node: Node, max_batch: int = 256) -> None:
        self.node, self.max_batch = node, max_batch
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[auth.Principal]]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def check(self, token: str) -> auth.Principal:
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
    return auth.authenticate(session, caller.token)
