"""`onewindow exchange` (messages, retries, statistics, partners) and `onewindow federation`
(setting up the member nodes' keys, certificates and configurations)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from onewindow.exchange import documents, federation, repository, service, xmlsafe
from onewindow.exchange.gateway import Gateway
from onewindow.exchange.schemas import MessageRead, PartnerRead, StatsRead
from onewindow.exchange.tasks import DeliveryWorker
from onewindow.kit.cli import console, emit_json, fail, handled
from onewindow.kit.errors import invalid
from onewindow.kit.node import Node

app = typer.Typer(help="Messages to and from partner nodes.", no_args_is_help=True)
federation_app = typer.Typer(
    help="Set up a federation: root CA, node keys, certificates and configurations.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print one JSON document only")
DIR = typer.Option(..., "--dir", help="The federation directory")
STYLE = {
    "processed": "green",
    "delivered": "green",
    "received": "green",
    "queued": "yellow",
    "sent": "yellow",
    "superseded": "cyan",
    "rejected": "red",
    "failed": "bold red",
}


def _open() -> tuple[Node, Gateway]:
    node = Node.open()
    gateway = Gateway(node.settings, node.sessions)
    gateway.current()  # the partner table follows the configuration
    return node, gateway


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


@app.command()
def messages(
    direction: str | None = typer.Option(None, help="out or in"),
    status: str | None = typer.Option(None, help="e.g. queued, processed, failed"),
    partner: str | None = typer.Option(None, help="Partner country"),
    document_type: str | None = typer.Option(None, "--type", help="e.g. FORM_D"),
    document_id: str | None = typer.Option(None, "--id", help="Document identifier"),
    limit: int = typer.Option(100, min=1, max=100_000),
    json_output: bool = JSON,
) -> None:
    """Every message to and from partners with its status, newest first."""
    with handled(json_output):
        if direction not in (None, "out", "in"):
            raise invalid("direction", "invalid_choice", "out or in")
        node, _ = _open()
        with node.transaction() as session:
            rows = repository.messages(
                session,
                direction=direction,
                status=status,
                partner=partner,
                document_type=document_type,
                document_id=document_id,
                limit=limit,
            )
            found = [MessageRead.of(r) for r in rows]
    if json_output:
        emit_json([m.model_dump(mode="json") for m in found])
        return
    table = Table(
        "",
        "partner",
        "type",
        "document",
        "v",
        "status",
        "at",
        "tries",
        "detail",
        title=f"{len(found)} message(s) at {node.settings.country}",
    )
    for m in found:
        detail = m.last_error or "; ".join(r.code for r in m.reasons)
        style = STYLE.get(m.status, "")
        table.add_row(
            "→" if m.direction == "out" else "←",
            m.partner,
            m.document_type,
            m.document_id,
            str(m.version),
            f"[{style}]{m.status}[/]" if style else m.status,
            _when(m.at),
            str(m.attempts),
            detail[:60],
        )
    console.print(table)


@app.command()
def retry(
    message_ids: list[str] = typer.Argument(None, help="Failed outgoing messages"),
    all_failed: bool = typer.Option(False, "--all-failed", help="Every failed message"),
    json_output: bool = JSON,
) -> None:
    """Queue failed messages again (sealed afresh, with a new time to live)."""
    with handled(json_output):
        if not message_ids and not all_failed:
            fail("name the messages to retry, or pass --all-failed")
        node, _ = _open()
        with node.transaction() as session:
            ids = list(message_ids or []) + (repository.failed_ids(session) if all_failed else [])
            operator = f"cli:{getpass.getuser()}"
            done = service.retry(session, sorted(set(ids)), now=node.clock.now(), by=operator)
    if json_output:
        emit_json({"requeued": done})
    else:
        console.print(f"{len(done)} message(s) queued again")


@app.command()
def stats(json_output: bool = JSON) -> None:
    """Counts per partner, document type, direction and status."""
    with handled(json_output):
        node, _ = _open()
        with node.transaction() as session:
            found = StatsRead.of(repository.stats(session))
    if json_output:
        emit_json(found)
        return
    table = Table(
        "partner",
        "type",
        "direction",
        "status",
        "count",
        title=f"Exchange at {node.settings.country}",
    )
    for c in found.counts:
        table.add_row(c.partner, c.document_type, c.direction, c.status, str(c.count))
    console.print(table)
    console.print(f"sent {found.totals['out']}, received {found.totals['in']}")


@app.command()
def partners(json_output: bool = JSON) -> None:
    """The partner nodes: endpoints, trusted key ids, last contact."""
    with handled(json_output):
        node, gateway = _open()
        view = gateway.current()
        with node.transaction() as session:
            found = [PartnerRead.of(p) for p in repository.partners(session)]
    if json_output:
        emit_json(
            {
                "country": view.country,
                "ready": view.ready,
                "problem": view.problem,
                "partners": [p.model_dump(mode="json") for p in found],
            }
        )
        return
    if view.problem:
        console.print(f"[yellow]{view.problem}[/]")
    table = Table(
        "partner",
        "endpoint",
        "active",
        "key ids",
        "last received",
        title=f"Partners of {view.country}",
    )
    for p in found:
        table.add_row(
            p.country,
            p.endpoint or "",
            "yes" if p.active else "no",
            ", ".join(p.key_ids),
            _when(p.last_received_at),
        )
    console.print(table)


@app.command()
def send(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Document, JSON or XML"),
    to: str = typer.Option(..., "--to", help="Partner country"),
    document_type: str = typer.Option(..., "--type", help="e.g. FORM_D, ACDD"),
    document_id: str = typer.Option(..., "--id", help="Document identifier"),
    version: int = typer.Option(1, min=1),
    json_output: bool = JSON,
) -> None:
    """Queue a document for a partner by hand (operators and tests; domains send their own)."""
    with handled(json_output):
        data = file.read_bytes()
        if file.suffix.lower() == ".xml":
            payload = documents.read(document_type, xmlsafe.parse(data))
        else:
            payload = json.loads(data)
        node, _ = _open()
        with node.transaction() as session:
            mid = service.send(
                session,
                sender=node.settings.country,
                receiver=to.upper(),
                document_type=document_type,
                document_id=document_id,
                version=version,
                payload=payload,
                now=node.clock.now(),
            )
    if json_output:
        emit_json({"message_id": mid})
    else:
        console.print(f"queued {mid}")


@app.command()
def deliver(json_output: bool = JSON) -> None:
    """Send what is due now and wait for the receipts (without `onewindow serve`)."""
    with handled(json_output):
        node, gateway = _open()
        worker = DeliveryWorker(node.sessions, gateway, clock=node.clock)
        try:
            count = worker.run_until_idle()
        finally:
            worker.transport.close()
    if json_output:
        emit_json({"attempts": count})
        return
    console.print(f"{count} attempt(s)")


# ---- federation ----


def _print_members(found: list[federation.Member], json_output: bool = False) -> None:
    if json_output:
        emit_json(
            [
                {"country": m.country, "endpoint": m.endpoint, "config_file": str(m.config_file)}
                for m in found
            ]
        )
        return
    table = Table("country", "endpoint", "configuration")
    for m in found:
        table.add_row(m.country, m.endpoint, str(m.config_file))
    console.print(table)


@federation_app.command("init")
def federation_init(
    countries: str = typer.Option(..., help="Member states, e.g. TH,VN,SG"),
    directory: Path = DIR,
    base_port: int = typer.Option(federation.DEFAULT_BASE_PORT, help="Port of the first node"),
    host: str = typer.Option(federation.DEFAULT_HOST),
    json_output: bool = JSON,
) -> None:
    """Create the root CA and a key, certificate and node.json per member state."""
    with handled(json_output):
        names = [c for c in countries.split(",") if c.strip()]
        found = federation.init(directory, names, base_port=base_port, host=host)
    _print_members(found, json_output)
    if json_output:
        return
    first = found[0].config_file
    console.print(f"start a node with: onewindow serve --config {first}")


@federation_app.command("add-node")
def add_node(
    directory: Path = DIR,
    country: str = typer.Option(..., help="The new member state"),
    port: int | None = typer.Option(None, help="Default: after the highest port in use"),
    json_output: bool = JSON,
) -> None:
    """Add a member; running nodes take it as a partner without a restart."""
    with handled(json_output):
        member = federation.add_node(directory, country, port=port)
    _print_members([member], json_output)


@federation_app.command("rotate-key")
def rotate_key(
    directory: Path = DIR, country: str = typer.Option(...), json_output: bool = JSON
) -> None:
    """Issue a new node key; partners trust it before the node starts using it."""
    with handled(json_output):
        kid = federation.rotate_key(directory, country)
    if json_output:
        emit_json({"country": country.upper(), "key_id": kid})
        return
    console.print(
        f"{country.upper()} now signs with key {kid}; the old key stays trusted "
        "until `onewindow federation retire-key`"
    )


@federation_app.command("renew-tls")
def renew_tls(
    directory: Path = DIR, country: str = typer.Option(...), json_output: bool = JSON
) -> None:
    """Issue a new TLS key and certificate for a member (and switch it to TLS if it had none)."""
    with handled(json_output):
        path = federation.renew_tls(directory, country)
    if json_output:
        emit_json({"country": country.upper(), "tls_cert_file": str(path)})
        return
    console.print(
        f"{country.upper()}: new TLS certificate {path}; restart the node to serve with it"
    )


@federation_app.command("retire-key")
def retire_key(
    directory: Path = DIR,
    country: str = typer.Option(...),
    key_id: str = typer.Option(..., help="The old key's id"),
    json_output: bool = JSON,
) -> None:
    """Stop trusting an old key of a member."""
    with handled(json_output):
        count = federation.retire_key(directory, country, key_id)
    if json_output:
        emit_json({"key_id": key_id, "partners": count})
        return
    console.print(f"{count} partner(s) no longer trust key {key_id}")


@federation_app.command("list")
def federation_list(directory: Path = DIR, json_output: bool = JSON) -> None:
    """The members and where they listen."""
    with handled(json_output):
        found = federation.members(directory)
    _print_members(found, json_output)
