"""Group commit for the API: lodging requests that arrive together are written together.

A single-declaration transaction costs a dozen statements and a commit; a batch of fifty costs
about the same. The writer takes what is queued (up to `max_batch`), lodges it in one
transaction with each declaration judged on its own (see `lodging.lodge_each`), and answers
every caller. An invalid declaration fails alone; a failed transaction fails its batch only.
It knows no HTTP: the API's handler awaits `lodge` and makes the response.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread

from onewindow.declarations.context import context
from onewindow.declarations.lodging import Lodged, lodge_each
from onewindow.declarations.readmodel import from_rows
from onewindow.declarations.schemas import DeclarationCreate, DeclarationRead
from onewindow.kit import auth
from onewindow.kit.errors import OneWindowError
from onewindow.kit.node import Node
from onewindow.risk.lanes import lanes


@dataclass
class _Request:
    token: auth.Principal | str | None  # a Principal when the API has checked it already
    document: DeclarationCreate
    future: asyncio.Future[DeclarationRead] = field(repr=False)


class LodgingWriter:
    def __init__(self, node: Node, max_batch: int = 64, model_check: float = 10.0) -> None:
        self.node = node
        self.max_batch = max_batch
        # How often, in seconds, the writer asks whether a model was activated elsewhere (a
        # CLI command, another server process): one small query, before a batch.
        self.model_check = model_check
        self._model_checked = time.monotonic()
        self._queue: asyncio.Queue[_Request] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def lodge(
        self, token: auth.Principal | str | None, document: DeclarationCreate
    ) -> DeclarationRead:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            # One writer per event loop (test clients may run each request in a loop of its own).
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = loop.create_task(self._run(self._queue))
        future: asyncio.Future[DeclarationRead] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(token, document, future))
        return await future

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self, queue: asyncio.Queue[_Request]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                results = await to_thread.run_sync(self._write, batch)
            except Exception as exc:  # the whole transaction failed: tell every caller
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            for request, result in zip(batch, results, strict=True):
                if request.future.done():
                    continue
                if isinstance(result, BaseException):
                    request.future.set_exception(result)
                else:
                    request.future.set_result(result)

    def _write(self, batch: list[_Request]) -> list[DeclarationRead | OneWindowError]:
        if time.monotonic() - self._model_checked >= self.model_check:
            self._model_checked = time.monotonic()
            lanes(self.node).follow_registry()
        with self.node.transaction() as session:
            principals: dict[auth.Principal | str | None, auth.Principal | OneWindowError] = {}
            for request in batch:
                if isinstance(request.token, auth.Principal):
                    principals[request.token] = request.token
                elif request.token not in principals:
                    try:
                        now = self.node.clock.now()
                        principals[request.token] = auth.authenticate(session, request.token, now)
                    except OneWindowError as exc:
                        principals[request.token] = exc
            allowed = [r for r in batch if isinstance(principals[r.token], auth.Principal)]
            outcomes = lodge_each(
                session,
                [(principals[r.token], r.document) for r in allowed],  # type: ignore[misc]
                context(self.node),
            )
        by_request: dict[int, Any] = {
            id(r): from_rows(o.row, o.items, o.taxes, principals[r.token])  # type: ignore[arg-type]
            if isinstance(o, Lodged)
            else o
            for r, o in zip(allowed, outcomes, strict=True)
        }
        return [by_request.get(id(r), principals[r.token]) for r in batch]


def writer(node: Node) -> LodgingWriter:
    """The node's one writer, made on first use."""
    return node.part(LodgingWriter)


@asynccontextmanager
async def lifespan(node: Node) -> AsyncIterator[None]:
    """Around serving: the writer's task stops with the server."""
    yield
    await writer(node).stop()
