"""`onewindow serve`: run the node's API."""

from __future__ import annotations

import typer
import uvicorn

from onewindow.api import create_app
from onewindow.cli.output import console
from onewindow.node import Node


def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default from settings)"),
    port: int | None = typer.Option(None, help="Port to listen on (default from settings)"),
    workers: int = typer.Option(1, help="Worker processes"),
) -> None:
    """Run the node: the JSON API under /api/v1 with its OpenAPI document at /docs."""
    node = Node.open()
    host = host or node.settings.host
    port = port or node.settings.port
    console.print(f"OneWindow node {node.settings.country} serving on http://{host}:{port}/api/v1")
    if workers > 1:
        uvicorn.run(
            "onewindow.api:app_from_settings",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
    else:
        uvicorn.run(create_app(node), host=host, port=port, log_level="warning")
