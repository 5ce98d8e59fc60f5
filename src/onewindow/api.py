"""The app factory: the node's JSON API under /api/v1, errors as application/problem+json."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onewindow import __version__
from onewindow.api_deps import authorize
from onewindow.declarations.api import reports
from onewindow.declarations.api import router as declarations_router
from onewindow.declarations.tasks import LodgingWriter
from onewindow.errors import OneWindowError, PayloadTooLarge, from_validation
from onewindow.exchange.api import router as exchange_router
from onewindow.ledger import tasks as ledger_tasks
from onewindow.ledger.api import router as ledger_router
from onewindow.node import Node
from onewindow.origin.api import router as origin_router
from onewindow.risk.api import router as risk_router
from onewindow.runtime import tune_collector
from onewindow.tariff.api import router as tariff_router

log = logging.getLogger("onewindow.api")
PROBLEM = "application/problem+json"


def problem(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM)


class BodyLimit:
    """Refuse bodies over the limit before they are read into memory (413, not a crash)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        too_large = PayloadTooLarge(f"the body is larger than {self.limit} bytes").problem()
        if length is not None and length.isdigit() and int(length) > self.limit:
            await problem(too_large)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await problem(too_large)(scope, receive, send)


class _TooLarge(Exception):
    pass


def _validation_problem(exc: RequestValidationError) -> dict[str, Any]:
    errors = [e.as_dict() for e in from_validation(exc.errors(), skip="body")]
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
    return {
        "type": "urn:onewindow:error:invalid_input",
        "title": "The input is not valid",
        "status": 422,
        "code": "invalid_input",
        "detail": detail,
        "errors": errors,
    }


def create_app(node: Node) -> FastAPI:
    writer = LodgingWriter(node)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_collector()  # again: start-up has built the app since the CLI started
        await run_in_threadpool(ledger_tasks.check_at_start, node)  # shown by /health
        yield
        await writer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title=f"OneWindow node {node.settings.country}",
        version=__version__,
        description="National Single Window and customs core. Errors are application/problem+json.",
    )
    app.state.node = node
    app.state.lodging = writer

    @app.exception_handler(OneWindowError)
    async def _domain_error(request: Request, exc: OneWindowError) -> JSONResponse:
        return problem(exc.problem())

    @app.exception_handler(RequestValidationError)
    async def _request_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(_validation_problem(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("api.unexpected_error path=%s", request.url.path)
        return problem(
            {
                "type": "about:blank",
                "title": "Internal error",
                "status": 500,
                "code": "internal_error",
                "detail": "the node failed; see its log",
            }
        )

    @app.get("/api/v1/health", tags=["node"])
    def health() -> dict[str, Any]:
        """200 even when the ledger failed its self-check ("degraded"): the node still clears
        goods; only new signed heads are refused. Monitoring alerts on `ledger.status`."""
        ledger = ledger_tasks.health(node)
        status = "degraded" if ledger.status in ("failed", "unknown") else "ok"
        return {
            "status": status,
            "country": node.settings.country,
            "version": __version__,
            "ledger": ledger.model_dump(mode="json"),
        }

    # Every route checks its caller against onewindow.access before reading its parameters.
    routers = (declarations_router, reports, tariff_router, ledger_router, exchange_router,
               origin_router, risk_router)  # fmt: skip
    for router in routers:
        app.include_router(router, dependencies=[Depends(authorize)])
    app.add_middleware(BodyLimit, limit=node.settings.max_body_bytes)
    return app


def app_from_settings() -> FastAPI:
    """For `uvicorn --factory` with several workers: each process opens the node itself."""
    return create_app(Node.open())
