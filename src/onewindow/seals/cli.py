"""`onewindow seals`: register seals and vendors' platforms (each credential printed once),
list trips and alerts, sweep for silent trips, listen to the MQTT broker."""

from __future__ import annotations

import threading

import typer
from rich.table import Column, Table

from onewindow.kit.cli import acting, console, emit_json, handled
from onewindow.kit.node import Node
from onewindow.seals import credentials, service
from onewindow.seals.schemas import Credential
from onewindow.seals.settings import SealsSettings
from onewindow.seals.tasks import DEFAULT_BROKER, Listener, sweep_once

app = typer.Typer(help="E-seals: devices, platforms, trips, alerts.", no_args_is_help=True)
device_app = typer.Typer(help="Seal devices and their signing secrets.", no_args_is_help=True)
platform_app = typer.Typer(help="Vendors' platforms and their API keys.", no_args_is_help=True)
app.add_typer(device_app, name="device")
app.add_typer(platform_app, name="platform")
JSON = typer.Option(False, "--json", help="Print JSON only")


def _shown_once(made: Credential, json_output: bool) -> None:
    if json_output:
        emit_json(made)
        return
    console.print(f"{made.name}: {made.secret}", highlight=False, soft_wrap=True)
    console.print(f"[yellow]{made.note}[/]")


@device_app.command("add")
def device_add(
    device: str = typer.Argument(..., help="The seal's id, as it names itself (SEAL-0001)"),
    platform: str | None = typer.Option(
        None, help="The vendor's platform that may report its events over HTTPS"
    ),
    json_output: bool = JSON,
) -> None:
    """Register a seal; prints its HMAC secret (hex) once, to load into the device."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, None).name
            made = credentials.add_device(
                session, device, platform=platform, now=node.clock.now(), actor=actor
            )
    _shown_once(made, json_output)


@device_app.command("list")
def device_list(json_output: bool = JSON) -> None:
    """The seals, their platform and the trip each is on."""
    node = Node.open()
    with node.transaction() as session:
        found = credentials.devices(session)
    if json_output:
        emit_json([d.model_dump(mode="json") for d in found])
        return
    table = Table("device", "platform", "on trip", "registered")
    for d in found:
        table.add_row(d.id, d.platform or "-", d.trip or "-", d.created_at.isoformat())
    console.print(table)


@platform_app.command("add")
def platform_add(
    name: str = typer.Argument(..., help="The platform's name (the vendor's, such as ACME)"),
    json_output: bool = JSON,
) -> None:
    """Register a vendor's platform; prints its API key once (only its hash is kept)."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, None).name
            made = credentials.add_platform(session, name, now=node.clock.now(), actor=actor)
    _shown_once(made, json_output)


@platform_app.command("list")
def platform_list(json_output: bool = JSON) -> None:
    """The platforms (never their keys)."""
    node = Node.open()
    with node.transaction() as session:
        found = credentials.platforms(session)
    if json_output:
        emit_json([p.model_dump(mode="json") for p in found])
        return
    table = Table("platform", "registered", "disabled")
    for p in found:
        table.add_row(p.name, p.created_at.isoformat(), "yes" if p.disabled else "")
    console.print(table)


@app.command("trips")
def trips(
    status: str | None = typer.Option(None, help="active or ended; default both"),
    limit: int = typer.Option(100, min=1, max=10_000),
    json_output: bool = JSON,
) -> None:
    """Trips under seal, newest first, with their number of alerts."""
    node = Node.open()
    with node.transaction() as session:
        found = service.trips(session, status=status, limit=limit)
    if json_output:
        emit_json([t.model_dump(mode="json") for t in found])
        return
    table = Table("status", "seals", "destination", "last event", "alerts", "open")
    table.columns.insert(0, Column("trip", no_wrap=True))
    for t in found:
        still = sum(1 for a in t.alerts if a.acknowledged_at is None)
        last = t.last_at.isoformat() if t.last_at else "-"
        table.add_row(
            t.reference,
            t.status,
            ", ".join(t.seals),
            t.destination_office,
            last,
            str(len(t.alerts)),
            str(still),
        )
    console.print(table)


@app.command("alerts")
def alerts(
    trip: str | None = typer.Option(None, "--trip", help="Only this trip's"),
    open_only: bool = typer.Option(False, "--open", help="Only those not acknowledged"),
    limit: int = typer.Option(200, min=1, max=10_000),
    json_output: bool = JSON,
) -> None:
    """Alerts, newest first."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            found = service.alerts(session, reference=trip, open_only=open_only, limit=limit)
    if json_output:
        emit_json([a.model_dump(mode="json") for a in found])
        return
    table = Table("id", "trip", "kind", "at", "where", "detail", "acknowledged")
    for a in found:
        where = f"{a.lat:.5f}, {a.lon:.5f}" if a.lat is not None and a.lon is not None else "-"
        done = f"{a.acknowledged_by}: {a.note}" if a.acknowledged_at else ""
        table.add_row(str(a.id), a.reference, a.kind, a.at.isoformat(), where, a.detail, done)
    console.print(table)


@app.command("sweep")
def sweep(json_output: bool = JSON) -> None:
    """Raise a silence alert for each active trip not heard for longer than its limit
    (`onewindow serve` does this every `seals_sweep_seconds`)."""
    node = Node.open()
    raised = sweep_once(node)
    if json_output:
        emit_json({"alerts": raised})
        return
    console.print(f"{raised} silence alert(s) raised")


@app.command("listen")
def listen(
    broker: str | None = typer.Option(
        None, help="mqtt://host:port [default: the seals_mqtt_url setting]"
    ),
    prefix: str | None = typer.Option(
        None, help="Topics <prefix>/{device}/events [default: seals_mqtt_prefix]"
    ),
    seconds: float = typer.Option(0.0, "--for", min=0, help="Stop after this long; 0: never"),
    json_output: bool = JSON,
) -> None:
    """Take devices' signed events from the MQTT broker until stopped (Ctrl-C), then print
    what was taken."""
    with handled(json_output):
        node = Node.open()
        seals = SealsSettings.of(node.settings)
        url = broker or seals.seals_mqtt_url or DEFAULT_BROKER
        listener = Listener(node, url, prefix=prefix or seals.seals_mqtt_prefix)
    listener.start()
    stop = threading.Event()
    try:
        if not json_output:
            console.print(f"listening on {url} to {listener.topic}")
        stop.wait(seconds or None)
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
    counts = listener.counts
    if json_output:
        emit_json(counts.__dict__)
        return
    console.print(
        f"{counts.taken} event(s) taken, {counts.duplicates} duplicate(s), "
        f"{counts.refused} refused, {counts.alerts} alert(s)"
    )
