"""`onewindow serve`: run the node: its API, the partner gateway and the delivery worker."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

from onewindow import domains
from onewindow.app import create_app
from onewindow.exchange.api import gateway_of
from onewindow.exchange.gateway import Gateway
from onewindow.exchange.tasks import DeliveryPolicy, DeliveryWorker
from onewindow.exchange.transport import PATH, HttpTransport
from onewindow.kit import tls
from onewindow.kit.cli import console, fail, handled
from onewindow.kit.config import get_settings
from onewindow.kit.node import Node
from onewindow.ledger.remote import HttpFetcher
from onewindow.ledger.tasks import run_witness
from onewindow.seals.settings import SealsSettings
from onewindow.seals.tasks import Listener, run_sweeps

log = logging.getLogger("onewindow.serve")
# How long a stopping node waits for its connections to close. Not longer: a partner's
# delivery worker keeps an idle TLS connection open, and closing one waits for the client's
# close_notify, which an idle pool never sends, for asyncio's 30 s (ssl_shutdown_timeout).
# A request cut short is retried by its sender (the gateway's message ids make that safe).
GRACE_SECONDS = 5


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
    to at /exchange/v1/messages, the worker that delivers queued messages to partners, and
    the e-seals' MQTT listener (when seals_mqtt_url is set) and silence sweep."""
    if config is not None:
        # Every part of the node, and uvicorn's worker processes, read settings from here.
        os.environ["ONEWINDOW_CONFIG"] = str(config.resolve())
        get_settings.cache_clear()
    node = Node.open()
    settings = node.settings
    host = host or settings.host
    port = port or settings.port
    with handled():
        secure = tls.server_options(settings)
        security = tls.ClientSecurity.of(settings)
        if not secure and not tls.is_loopback(host) and not settings.allow_plain_http:
            fail(
                f"refusing to serve plain HTTP on {host}: give this node a TLS certificate "
                "(tls_cert_file, tls_key_file: `onewindow federation init` writes them), listen "
                "on loopback, or set allow_plain_http (ONEWINDOW_ALLOW_PLAIN_HTTP=true)"
            )
    gateway = Gateway(settings, node.sessions)
    view = gateway.current()
    if view.problem:
        console.print(f"[yellow]exchange:[/] {view.problem}")
    # The worker runs in this process only, also with several API processes: a single sender
    # per node keeps the retry schedule in one place (and on PostgreSQL more would be safe).
    worker = None
    if deliver:
        policy = DeliveryPolicy()
        sender = HttpTransport(
            policy.timeout, security=security, partners=lambda: gateway.current().partners
        )
        worker = DeliveryWorker(node.sessions, gateway, sender, clock=node.clock, policy=policy)
    partners = ", ".join(sorted(view.partners)) or "none"
    scheme = "https" if secure else "http"

    def announce() -> None:
        console.print(
            f"OneWindow node {settings.country} serving on {scheme}://{host}:{port}/api/v1 "
            f"(partners: {partners})"
        )
        if not secure:
            log.warning("tls.plain_http serving on %s:%s without TLS", host, port)
            console.print(
                "[yellow]warning:[/] plain HTTP, for tests and loopback only: partners' "
                "messages and users' tokens travel unencrypted (see docs/exchange.md, "
                "Transport security)"
            )

    if worker is not None:
        worker.start()
    listener, sweeping = _start_seals(node)
    if settings.partners and witness_every > 0:
        # Witness partners' logs: fetch, check consistency, countersign; alarms on a fork.
        fetcher = HttpFetcher(security=security, partners=settings.partners)
        witness = threading.Thread(
            target=run_witness,
            args=(node, witness_every),
            kwargs={"fetcher": fetcher},
            name="ledger-witness",
            daemon=True,
        )
        witness.start()
    try:
        if workers > 1:
            server_config = uvicorn.Config(
                "onewindow.cli.serve:app_from_settings",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="warning",
                timeout_graceful_shutdown=GRACE_SECONDS,
                **secure,
            )
        else:
            app = create_app(node)
            app.state.exchange = gateway  # shared with the worker: one view, one reload
            server_config = uvicorn.Config(
                guarded(app, gateway, secure), host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=GRACE_SECONDS, **secure,
            )  # fmt: skip
        if not _run(server_config, announce):
            fail(f"cannot listen on {host}:{port} (in use, or not an address of this host)", 1)
    finally:
        if worker is not None:
            worker.stop()
        sweeping.set()
        if listener is not None:
            listener.stop()


def _start_seals(node: Node) -> tuple[Listener | None, threading.Event]:
    """In this process only, like the delivery worker: the MQTT listener of the seals'
    events, and the sweep for silent trips. The event stops the sweep."""
    seals = SealsSettings.of(node.settings)
    listener = None
    if seals.seals_mqtt_url:
        listener = Listener(
            node,
            seals.seals_mqtt_url,
            prefix=seals.seals_mqtt_prefix,
            client_id=seals.seals_mqtt_client_id,
        )
        listener.start()
        console.print(
            f"e-seals: listening on {seals.seals_mqtt_url} to {listener.topic}", soft_wrap=True
        )
    sweeping = threading.Event()
    if seals.seals_sweep_seconds > 0:
        threading.Thread(
            target=run_sweeps,
            args=(node, seals.seals_sweep_seconds, sweeping),
            name="seals-sweep",
            daemon=True,
        ).start()
    return listener, sweeping


def guarded(app: FastAPI, gateway: Gateway, secure: dict[str, Any]) -> ASGIApp:
    """Over TLS, the gateway's route only for a client certificate of a current partner."""
    if not secure:
        return app
    return tls.PartnersOnly(app, (PATH,), lambda: gateway.current().partners)


def app_from_settings() -> ASGIApp:
    """For uvicorn's factory with several workers: each process opens the node itself."""
    domains.install()
    node = Node.open()
    app = create_app(node)
    return guarded(app, gateway_of(node, app.state), tls.server_options(node.settings))


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
