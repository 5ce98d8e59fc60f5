"""The app factory: the node's JSON API under /api/v1, errors as application/problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from onewindow import __version__
from onewindow.declarations.api import reports
from onewindow.declarations.api import router as declarations_router
from onewindow.declarations.tasks import LodgingWriter
from onewindow.exchange.api import router as exchange_router
from onewindow.kit import api_edge
from onewindow.kit.api_deps import authorize
from onewindow.kit.runtime import tune_collector
from onewindow.ledger import tasks as ledger_tasks
from onewindow.ledger.api import router as ledger_router
from onewindow.node import Node
from onewindow.origin.api import router as origin_router
from onewindow.risk.api import router as risk_router
from onewindow.tariff.api import router as tariff_router


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
        docs_url=None,  # served by api_edge from the package's own files
        redoc_url=None,
    )
    app.state.node = node
    app.state.lodging = writer

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

    # Every route checks its caller against onewindow.kit.access before reading its parameters.
    routers = (declarations_router, reports, tariff_router, ledger_router, exchange_router,
               origin_router, risk_router)  # fmt: skip
    for router in routers:
        app.include_router(router, dependencies=[Depends(authorize)])
    api_edge.install(app, node.settings.max_body_bytes)
    return app


def app_from_settings() -> FastAPI:
    """For `uvicorn --factory` with several workers: each process opens the node itself."""
    return create_app(Node.open())
