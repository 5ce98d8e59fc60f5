"""`onewindow serve`: run the node: its API, the partner gateway and the delivery worker."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import typer
import uvicorn

from onewindow.api import create_app
from onewindow.cli.output import console
from onewindow.config import get_settings
from onewindow.exchange.gateway import Gateway
from onewindow.exchange.tasks import DeliveryWorker
from onewindow.ledger.tasks import run_witness
from onewindow.node import Node


def serve(
    config: Path | None = typer.Option(
        None,
        "--config",
        exists=True,
        dir_okay=False,
        help="The node's node.json (`onewindow federation init` writes them) "
        "[default: $ONEWINDOW_CONFIG, else ONEWINDOW_* variables]",
    ),
    host: str | None = typer.Option(None, help="Address to listen on (default from settings)"),
    port: int | None = typer.Option(None, help="Port to listen on (default from settings)"),
    workers: int = typer.Option(1, help="Worker processes"),
    witness_every: float = typer.Option(
        60.0, help="Seconds between rounds of witnessing partners' ledgers; 0 turns it off"
    ),
    deliver: bool = typer.Option(
        True, "--deliver/--no-deliver", help="Send queued messages to partners"
    ),
) -> None:
    """Run the node: the JSON API under /api/v1 (OpenAPI at /docs), the gateway partners post
    to at /exchange/v1/messages, and the worker that delivers queued messages to partners."""
    if config is not None:
        # Every part of the node, and uvicorn's worker processes, read settings from here.
        os.environ["ONEWINDOW_CONFIG"] = str(config.resolve())
        get_settings.cache_clear()
    node = Node.open()
    settings = node.settings
    host = host or settings.host
    port = port or settings.port
    gateway = Gateway(settings, node.sessions)
    view = gateway.current()
    if view.problem:
        console.print(f"[yellow]exchange:[/] {view.problem}")
    # The worker runs in this process only, also with several API processes: a single sender
    # per node keeps the retry schedule in one place (and on PostgreSQL more would be safe).
    worker = DeliveryWorker(node.sessions, gateway, clock=node.clock) if deliver else None
    partners = ", ".join(sorted(view.partners)) or "none"
    console.print(
        f"OneWindow node {settings.country} serving on http://{host}:{port}/api/v1 "
        f"(partners: {partners})"
    )
    if worker is not None:
        worker.start()
    if settings.partners and witness_every > 0:
        # Witness partners' logs: fetch, check consistency, countersign; alarms on a fork.
        witness = threading.Thread(
            target=run_witness, args=(node, witness_every), name="ledger-witness", daemon=True
        )
        witness.start()
    try:
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
            app = create_app(node)
            app.state.exchange = gateway  # shared with the worker: one view, one reload
            uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if worker is not None:
            worker.stop()
