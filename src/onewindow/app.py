"""The app factory: the node's JSON API under /api/v1, errors as application/problem+json.

Every installed domain's routers, each route checked against the domain's role rules before
its parameters are read, and each domain's lifespan around serving.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from onewindow import __version__, domains
from onewindow.kit import api_edge, web
from onewindow.kit.api_deps import authorize
from onewindow.kit.domain import load
from onewindow.kit.node import Node
from onewindow.kit.runtime import tune_collector
from onewindow.ledger import tasks as ledger_tasks


def create_app(node: Node) -> FastAPI:
    installed = domains.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_collector()  # again: start-up has built the app since the CLI started
        async with AsyncExitStack() as stack:
            for each in installed:
                if each.lifespan:
                    await stack.enter_async_context(load(each.lifespan)(node))
            yield

    app = FastAPI(
        lifespan=lifespan,
        title=f"OneWindow node {node.settings.country}",
        version=__version__,
        description="National Single Window and customs core. Errors are application/problem+json.",
        docs_url=None,  # served by api_edge from the package's own files
        redoc_url=None,
    )
    app.state.node = node

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

    # Every route checks its caller against the rules in kit.access before reading its
    # parameters. Routes are matched in order: the domains people work in most come first
    # (the list ends with them), so that lodging is not matched after every ledger route.
    for each in reversed(installed):
        for router in each.routers:
            app.include_router(load(router), dependencies=[Depends(authorize)])
    # The portals' pages check their signed-in user against the same rules (kit.web).
    for each in installed:
        for router in each.views:
            app.include_router(load(router))
    api_edge.install(app, node.settings.max_body_bytes)
    web.install(app)
    return app
