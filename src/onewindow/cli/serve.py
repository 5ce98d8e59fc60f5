"""`onewindow serve`: run the node: its API, the partner gateway and the delivery worker."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from onewindow.api import create_app
from onewindow.cli.output import console, fail
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
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port to listen on (default from settings)"
    ),
    workers: int = typer.Option(1, min=1, help="Worker processes"),
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

    def announce() -> None:
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
            server_config = uvicorn.Config(
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
            server_config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        if not _run(server_config, announce):
            fail(f"cannot listen on {host}:{port} (in use, or not an address of this host)", 1)
    finally:
        if worker is not None:
            worker.stop()


class _AnnouncingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.announce()


def _run(config: uvicorn.Config, announce: Callable[[], None]) -> bool:
    """Serve until stopped; say so only once the socket listens (scripts and tests wait for
    that line), and return False if it never did."""
    if config.workers > 1:
        try:
            sock = config.bind_socket()
        except SystemExit:  # uvicorn has logged why
            return False
        sock.listen(config.backlog)  # connections queue while the workers start
        announce()
        Multiprocess(config, sockets=[sock]).run()
        return True
    server = _AnnouncingServer(config, announce)
    try:
        server.run()
    except SystemExit:  # a bind failure: uvicorn has logged why
        pass
    except KeyboardInterrupt:
        return True
    return server.started
