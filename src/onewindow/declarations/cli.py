"""`onewindow declaration`: lodge, read and act on declarations from the node's host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.table import Column, Table
from sqlalchemy import select

from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.models import PreArrival
from onewindow.declarations.readmodel import amendment_read, audit_read, to_read
from onewindow.declarations.schemas import (
    AmendmentDecision,
    AmendmentRequestCreate,
    AmendmentRequestRead,
    Cancellation,
    DeclarationRead,
    DocumentCheck,
    InspectionFindings,
    Opening,
    Payment,
)
from onewindow.kit.cli import AS, acting, console, emit_json, fail, handled
from onewindow.kit.money import round_money
from onewindow.kit.node import Node

app = typer.Typer(help="Import and export declarations.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print one JSON document only")
COLOURS = {"green": "green", "yellow": "yellow", "red": "red", "blue": "blue"}


def load_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except orjson.JSONDecodeError as exc:
        fail(f"{path} is not valid JSON: {exc}")


def render(d: DeclarationRead) -> None:
    colour = COLOURS.get(d.channel, "white")
    console.print(
        f"[bold]{d.number}[/] {d.type} v{d.version}  status [bold]{d.status}[/]  "
        f"channel [bold {colour}]{d.channel}[/]  office {d.office}  goods date {d.goods_date}"
    )
    console.print(
        f"importer {d.importer_name} ({d.importer_id or '-'}); exporter {d.exporter_name}"
    )
    table = Table(  # amounts and codes are never cut short
        "item",
        Column("HS code", no_wrap=True),
        "origin",
        Column(f"value {d.national_currency}", justify="right", no_wrap=True),
        Column("tax", no_wrap=True),
        "rate %",
        "basis",
        Column(f"amount {d.national_currency}", justify="right", no_wrap=True),
    )
    notes = []
    for item in d.items:
        if item.preference_certificate is not None:
            verdict = "granted" if item.preference_granted else "refused"
            notes.append(f"item {item.seq}: preference {verdict}: {item.preference_reason}")
        if not item.taxes:
            table.add_row(str(item.seq), item.hs_code, item.origin, f"{item.value_national:,}")
        for n, t in enumerate(item.taxes):
            first = n == 0
            table.add_row(
                str(item.seq) if first else "",
                item.hs_code if first else "",
                item.origin if first else "",
                f"{item.value_national:,}" if first else "",
                t.tax,
                str(t.rate),
                t.rate_kind,
                f"{t.amount:,}",
            )
    console.print(table)
    for note in notes:
        console.print(note)
    totals = ", ".join(f"{k} {v:,}" for k, v in d.totals.items())
    console.print(f"totals ({d.national_currency}): {totals}")
    if d.risk is not None and d.risk.reasons:
        console.print("risk: " + "; ".join(d.risk.reasons))
    if d.pre_arrival is not None:
        country, _, export = d.pre_arrival.partition(":")
        console.print(f"pre-arrival: matched to the ACDD of {country} export declaration {export}")
    console.print(f"next step: {d.next_step}")
    if d.clearance_seconds is not None:
        console.print(f"released {d.released_at} after {d.clearance_seconds:.3f} s")


@app.command()
def submit(file: Path, json_output: bool = JSON, as_user: str | None = AS) -> None:
    """Lodge a declaration from a JSON file; prints it numbered, assessed and channelled."""
    raw = load_json(file)
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            number = service.lodge(session, actor, [raw], context(node))[0]
            read = to_read(service.get(session, actor, number), actor)
    emit_json(read) if json_output else render(read)


@app.command()
def show(number: str, json_output: bool = JSON, as_user: str | None = AS) -> None:
    """Print a declaration with its tax lines, totals, channel and controls."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            read = to_read(service.get(session, actor, number), actor)
    emit_json(read) if json_output else render(read)


@app.command("list")
def list_(
    status: str | None = None,
    channel: str | None = None,
    limit: int = typer.Option(20, min=1),
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """List declarations, newest first."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            found = service.search(
                session,
                acting(session, as_user),
                status=status,
                channel=channel,
                type_=None,
                office=None,
                limit=limit,
                offset=0,
            )
            # Amounts in the currency's minor unit: VND has none, so no ".00".
            currency = node.settings.currency
            rows = [
                (d.number, d.type, d.status, d.channel, d.importer_name,
                 round_money(d.total_due, currency))
                for d in found
            ]  # fmt: skip
    if json_output:
        keys = ("number", "type", "status", "channel", "importer", "total_due")
        emit_json([dict(zip(keys, map(str, r), strict=True)) for r in rows])
        return
    table = Table(Column("number", no_wrap=True), "type", "status", "channel", "importer",
                  Column("total due", justify="right", no_wrap=True))  # fmt: skip
    for r in rows:
        table.add_row(
            r[0], r[1], r[2], f"[{COLOURS.get(r[3], 'white')}]{r[3]}[/]", r[4], f"{r[5]:,}"
        )
    console.print(table)


@app.command()
def history(number: str, json_output: bool = JSON, as_user: str | None = AS) -> None:
    """Print the audit trail of a declaration."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            events = audit_read(service.history(session, actor, number), actor)
    if json_output:
        emit_json(events)
        return
    table = Table(Column("at", no_wrap=True), "actor", Column("action", no_wrap=True), "from", "to")
    for e in events:
        table.add_row(
            e.at.isoformat(timespec="milliseconds"),
            e.actor,
            e.action,
            e.from_status or "",
            e.to_status or "",
        )
    console.print(table)


def _act(
    number: str, as_user: str | None, json_output: bool, fn: Callable[..., Any], *args: Any
) -> None:
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            fn(session, actor, number, *args, context(node))
            session.flush()
            read = to_read(service.get(session, actor, number), actor)
    emit_json(read) if json_output else render(read)


@app.command("open")
def open_(
    number: str, note: str | None = None, json_output: bool = JSON, as_user: str | None = AS
) -> None:
    """Officer: take a yellow or red declaration in hand (its check or inspection begins)."""
    with handled(json_output):
        data = Opening.model_validate({"note": note})
    _act(number, as_user, json_output, service.open_control, data)


@app.command()
def check(
    number: str,
    decision: str = typer.Argument(..., help="accept, or inspect to send it to inspection"),
    note: str | None = None,
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """Officer's document check of a yellow-channel declaration."""
    with handled(json_output):
        data = DocumentCheck.model_validate({"decision": decision, "note": note})
    _act(number, as_user, json_output, service.document_check, data)


@app.command()
def inspect(
    number: str,
    result: str = typer.Argument(..., help="compliant or irregularity"),
    note: str | None = None,
    correct: list[str] = typer.Option([], help="ITEM:FIELD=VALUE, e.g. 1:customs_value=25000"),
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """Record inspection findings; corrections trigger reassessment of duties."""
    corrections = []
    for c in correct:
        try:
            head, value = c.split("=", 1)
            item, field = head.split(":", 1)
            corrections.append({"item": int(item), "field": field, "value": value})
        except ValueError:
            fail(f"--correct {c!r} is not ITEM:FIELD=VALUE")
    with handled(json_output):
        data = InspectionFindings.model_validate(
            {"result": result, "note": note, "corrections": corrections}
        )
    _act(number, as_user, json_output, service.record_inspection, data)


@app.command()
def pay(
    number: str,
    amount: str,
    reference: str = typer.Option(..., help="Payment or guarantee reference"),
    guarantee: bool = typer.Option(False, help="Lodge a guarantee instead of paying"),
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """Record payment of the amount due (or a guarantee covering it)."""
    with handled(json_output):
        data = Payment.model_validate(
            {
                "method": "guarantee" if guarantee else "paid",
                "reference": reference,
                "amount": amount,
            }
        )
    _act(number, as_user, json_output, service.pay, data)


@app.command()
def release(number: str, json_output: bool = JSON, as_user: str | None = AS) -> None:
    """Release the goods of a paid declaration."""
    _act(number, as_user, json_output, service.release)


@app.command()
def amend(number: str, file: Path, json_output: bool = JSON, as_user: str | None = AS) -> None:
    """Replace the declaration's document before payment; duties and risk are reassessed."""
    _act(number, as_user, json_output, service.amend, load_json(file))


def render_request(r: AmendmentRequestRead) -> None:
    decided = f" by {r.decided_by} at {r.decided_at}" if r.decided_by else ""
    console.print(
        f"amendment request {r.id} on {r.declaration} v{r.version}: [bold]{r.status}[/]{decided}"
    )
    console.print(f"reason: {r.reason}")
    if r.note:
        console.print(f"note: {r.note}")


@app.command("request-amendment")
def request_amendment(
    number: str,
    file: Path,
    reason: str = typer.Option(..., help="Why the declaration must change"),
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """Declarant: ask for an amendment (the whole amended document) once an officer acted."""
    raw = load_json(file)
    with handled(json_output):
        data = AmendmentRequestCreate.model_validate({"reason": reason, "document": raw})
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            request = service.request_amendment(session, actor, number, data, context(node))
            read = amendment_read(request, number)
    emit_json(read) if json_output else render_request(read)


@app.command("amendment-requests")
def amendment_requests(number: str, json_output: bool = JSON, as_user: str | None = AS) -> None:
    """List the amendment requests of a declaration."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            found = service.requests(session, acting(session, as_user), number)
            reads = [amendment_read(r, number) for r in found]
    if json_output:
        emit_json(reads)
        return
    table = Table("id", "version", "status", "requested by", "reason", "decided by", "note")
    for r in reads:
        table.add_row(
            str(r.id),
            str(r.version),
            r.status,
            r.requested_by,
            r.reason,
            r.decided_by or "",
            r.note or "",
        )
    console.print(table)


@app.command("decide-amendment")
def decide_amendment(
    number: str,
    request_id: int,
    decision: str = typer.Argument(..., help="accept (the amendment is applied) or refuse"),
    note: str | None = typer.Option(None, help="Why (required to refuse)"),
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """Officer: accept or refuse an amendment request."""
    with handled(json_output):
        data = AmendmentDecision.model_validate({"decision": decision, "note": note})
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            request = service.decide_amendment(
                session, actor, number, request_id, data, context(node)
            )
            read = amendment_read(request, number)
    emit_json(read) if json_output else render_request(read)


@app.command()
def cancel(number: str, reason: str, json_output: bool = JSON, as_user: str | None = AS) -> None:
    """Cancel a declaration before payment."""
    with handled(json_output):
        data = Cancellation.model_validate({"reason": reason})
    _act(number, as_user, json_output, service.cancel, data)


@app.command()
def clearance(
    days: int = typer.Option(30, min=1, max=3660, help="The last DAYS days (1 to 3660)"),
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """Clearance times (lodged to released) per channel over the last DAYS days."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            end = node.clock.now()
            actor = acting(session, as_user)
            report = service.clearance(session, actor, end - timedelta(days=days), end)
    if json_output:
        emit_json(report)
        return
    table = Table(
        "channel", "released", "mean s", "median s", "p90 s", title=f"Clearance, last {days} days"
    )
    for channel, r in report.items():
        table.add_row(
            channel, str(r["released"]), str(r["mean_s"]), str(r["p50_s"]), str(r["p90_s"])
        )
    console.print(table)


@app.command("pre-arrivals")
def pre_arrivals(json_output: bool = JSON) -> None:
    """ACDDs received from exporting countries, and the import declarations they matched."""
    node = Node.open()
    with node.transaction() as session:
        rows = [
            {
                "export_declaration": p.export_declaration,
                "from": p.export_country,
                "exporter": p.exporter_name,
                "consignee": p.consignee_name,
                "departure": p.departure_date.isoformat(),
                "status": p.status,
                "import_declaration": p.import_declaration,
            }
            for p in session.scalars(select(PreArrival).order_by(PreArrival.id.desc()).limit(200))
        ]
    if json_output:
        emit_json(rows)
        return
    table = Table(
        "export declaration", "from", "exporter", "consignee", "departed", "status", "import"
    )
    for r in rows:
        table.add_row(
            r["export_declaration"],
            r["from"],
            r["exporter"],
            r["consignee"],
            r["departure"],
            r["status"],
            r["import_declaration"] or "",
        )
    console.print(table)


@app.command("acdd-cancel")
def acdd_cancel(
    number: str,
    reason: str = typer.Option(..., help="Why the ACDD is withdrawn (sent to the destination)"),
    json_output: bool = JSON,
    as_user: str | None = AS,
) -> None:
    """Withdraw the ACDD sent for a released export (the destination's customs is told)."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            decl = service.cancel_acdd(session, actor, number, reason, node.clock.now())
    if json_output:
        emit_json({"number": number, "queued_to": decl.country_of_destination, "reason": reason})
        return
    console.print(f"ACDD cancellation for {number} queued to {decl.country_of_destination}")
