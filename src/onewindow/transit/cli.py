"""`onewindow transit`: guarantees and transit movements at this node's offices."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import orjson
import typer
from pydantic import BaseModel, ValidationError
from rich.table import Column, Table
from sqlalchemy.orm import Session

from onewindow.kit.auth import Principal
from onewindow.kit.cli import AS, acting, console, emit_json, fail, handled, read_error
from onewindow.kit.errors import InvalidInput, from_validation
from onewindow.kit.node import Node
from onewindow.transit import enquiry, offices, service, traders
from onewindow.transit.context import context
from onewindow.transit.models import Movement
from onewindow.transit.schemas import (
    EventRead,
    GuaranteeCreate,
    MovementCreate,
    MovementRead,
    Release,
    TraderRead,
    TraderWrite,
    Unloading,
)
from onewindow.transit.service import Context

app = typer.Typer(help="ACTS transit: guarantees and movements.", no_args_is_help=True)
guarantee_app = typer.Typer(help="Guarantees of holders of the transit procedure.")
app.add_typer(guarantee_app, name="guarantee")
trader_app = typer.Typer(help="Traders registered for ACTS, and their authorisations.")
app.add_typer(trader_app, name="trader")
JSON = typer.Option(False, "--json", help="Print JSON")
M = TypeVar("M", bound=BaseModel)


def _load(file: Path, schema: type[M]) -> M:
    try:
        raw = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"cannot read {file}: {read_error(exc)}")
    return _validated(schema, raw)


Act = Callable[[Session, Principal, Context], Movement]


def _act(as_user: str | None, json_output: bool, act: Act) -> None:
    """One command's action on a movement, as `--as` user, then the movement shown."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            read = service.read_movement(session, act(session, actor, context(node)), actor)
    _show(read, json_output)


@guarantee_app.command("add")
def guarantee_add(file: Path, as_user: str | None = AS, json_output: bool = JSON) -> None:
    """Register a guarantee from a JSON file (kind, holder_id, holder_name, currency, amount,
    valid_until); prints its GRN."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)  # a role that may not is told so first
            data = _load(file, GuaranteeCreate)
            g = service.register_guarantee(session, actor, data, context(node))
            read = service.read_guarantee(session, g)
    if json_output:
        emit_json(read)
    else:
        console.print(f"guarantee {read.grn}: {read.amount} {read.currency} for {read.holder_name}")


@guarantee_app.command("show")
def guarantee_show(grn: str, as_user: str | None = AS, json_output: bool = JSON) -> None:
    """A guarantee with what is left of it."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            g = service.guarantee(session, acting(session, as_user), grn)
            read = service.read_guarantee(session, g)
    if json_output:
        emit_json(read)
        return
    table = Table(title=f"Guarantee {read.grn}", show_header=False)
    for key, value in read.model_dump(mode="json").items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


@trader_app.command("register")
def trader_register(
    party_id: str,
    name: str = typer.Option(..., help="The trader's name"),
    consignor: bool = typer.Option(False, "--consignor", help="Authorised consignor"),
    consignee: bool = typer.Option(False, "--consignee", help="Authorised consignee"),
    premises: list[str] = typer.Option(
        [], "--premises", help="Premises it is authorised at, as CODE=ADDRESS (repeatable)"
    ),
    suspend: bool = typer.Option(False, "--suspend", help="Suspend its registration"),
    note: str | None = typer.Option(None, help="Why (kept with the registration)"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Register a trader for ACTS, or set its registration: the authorisations given replace
    the ones it had."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            data = _validated(TraderWrite, {
                "name": name, "consignor": consignor, "consignee": consignee, "note": note,
                "status": "suspended" if suspend else "registered",
                "premises": [_premises(p) for p in premises],
            })  # fmt: skip
            read = _trader(traders.register(session, actor, party_id, data, node.clock))
    _show_trader(read, json_output)


@trader_app.command("show")
def trader_show(party_id: str, as_user: str | None = AS, json_output: bool = JSON) -> None:
    """A trader's ACTS registration and authorisations."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            read = _trader(traders.get(session, acting(session, as_user), party_id))
    _show_trader(read, json_output)


@trader_app.command("list")
def trader_list(as_user: str | None = AS, json_output: bool = JSON) -> None:
    """The traders registered here for ACTS."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            rows = [_trader(t) for t in traders.listing(session, acting(session, as_user), 500)]
    if json_output:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(Column("party", no_wrap=True), "name", "status", "authorised as", "premises")
    for r in rows:
        table.add_row(r.party_id, r.name, r.status, _authorised(r),
                      ", ".join(p.code for p in r.premises) or "-")  # fmt: skip
    console.print(table)


def _premises(text: str) -> dict[str, str]:
    code, _, address = text.partition("=")
    return {"code": code.strip(), "address": address.strip()}


def _validated(schema: type[M], raw: dict[str, Any]) -> M:
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(from_validation(exc.errors())) from None


def _trader(trader: Any) -> TraderRead:
    return TraderRead.model_validate(trader)


def _authorised(r: TraderRead) -> str:
    return ", ".join(k for k in ("consignor", "consignee") if getattr(r, k)) or "-"


def _show_trader(read: TraderRead, json_output: bool) -> None:
    if json_output:
        emit_json(read)
        return
    console.print(f"trader {read.party_id} ({read.name}): {read.status} for ACTS, authorised "
                  f"as {_authorised(read)}")  # fmt: skip
    for p in read.premises:
        console.print(f"  premises {p.code}: {p.address}")


@app.command()
def declare(file: Path, as_user: str | None = AS, json_output: bool = JSON) -> None:
    """Lodge a transit declaration (JSON, as the API takes it): prints its MRN and the amount
    its guarantee holds."""

    def lodge(session: Session, actor: Principal, ctx: Context) -> Movement:
        # The role is checked before the file is read: a role that may not is told so first.
        return service.declare(session, actor, _load(file, MovementCreate), ctx)

    _act(as_user, json_output, lodge)


@app.command()
def release(
    mrn: str,
    refuse: str | None = typer.Option(None, help="Do not release, for this reason"),
    days: int | None = typer.Option(
        None, help="Days to reach the destination (the time limit; default: the node's)"
    ),
    control: str | None = typer.Option(
        None, help="What the control found (needed in the yellow and red lanes)"
    ),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Release a movement for transit (or refuse it with --refuse REASON)."""
    decision: dict[str, Any] = (
        {"decision": "no_release", "reason": refuse}
        if refuse
        else {"decision": "release", "days": days, "control": control}
    )
    with handled(json_output):
        body = _validated(Release, decision)
    _act(
        as_user, json_output, lambda s, actor, ctx: service.decide_release(s, actor, mrn, body, ctx)
    )


@app.command()
def cancel(
    mrn: str,
    reason: str = typer.Option(..., help="Why the declaration is cancelled"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Cancel a declaration not yet released (IE014): its guarantee's reservation given back."""
    _act(as_user, json_output, lambda s, actor, ctx: service.cancel(s, actor, mrn, reason, ctx))


@app.command()
def show(mrn: str, as_user: str | None = AS, json_output: bool = JSON) -> None:
    """A movement: its status, itinerary, seals and guarantee."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            movement = service.get(session, actor, mrn)
            read = service.read_movement(session, movement, actor)
            events = [EventRead.model_validate(e) for e in service.events(session, movement)]
    _show(read, json_output, events)


@app.command("list")
def list_movements(
    status: str | None = typer.Option(None, help="Only movements in this status"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Movements known here, newest first."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            actor = acting(session, as_user)
            found = service.search(session, actor, status=status)
            rows = [service.read_movement(session, m, actor) for m in found]
    if json_output:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(Column("MRN", no_wrap=True), "status", "role", "from", "to", "holder",
                  Column("guarantee", justify="right"))  # fmt: skip
    for r in rows:
        held = f"{r.reserved:,} {r.reservation}" if r.reserved is not None else "-"
        table.add_row(r.mrn, r.status, r.role, r.departure_office, r.destination_office,
                      r.holder_name, held)  # fmt: skip
    console.print(table)


OFFICE = typer.Option(..., "--office", help="The customs office (UN/LOCODE), of this country")


@app.command()
def cross(
    mrn: str, office: str = OFFICE, as_user: str | None = AS, json_output: bool = JSON
) -> None:
    """Record the frontier crossed at an office of transit here (IE118 to departure)."""
    _act(as_user, json_output, lambda s, actor, ctx: offices.cross(s, actor, mrn, office, ctx))


@app.command()
def arrive(
    mrn: str, office: str = OFFICE, as_user: str | None = AS, json_output: bool = JSON
) -> None:
    """Record the goods presented at an office here (IE006 to departure)."""
    _act(as_user, json_output, lambda s, actor, ctx: offices.arrive(s, actor, mrn, office, ctx))


@app.command()
def unload(
    mrn: str,
    seals_broken: bool = typer.Option(False, "--seals-broken", help="The seals were not intact"),
    discrepancies: str | None = typer.Option(None, help="What was found that differs"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Record the unloading remarks and control results at destination (IE018 to departure)."""
    with handled(json_output):
        data = Unloading(seals_intact=not seals_broken, discrepancies=discrepancies)
    _act(as_user, json_output, lambda s, actor, ctx: offices.unload(s, actor, mrn, data, ctx))


@app.command()
def discharge(
    mrn: str,
    note: str = typer.Option(..., help="Why it is written off despite the remarks"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Write off a movement whose control results had remarks (IE045)."""
    _act(as_user, json_output, lambda s, actor, ctx: offices.discharge(s, actor, mrn, note, ctx))


@app.command()
def recover(
    mrn: str,
    note: str = typer.Option(..., help="Why the guarantee is called"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Call the guarantee of a movement whose enquiry ran out unresolved (recovery)."""
    _act(as_user, json_output, lambda s, actor, ctx: enquiry.recover(s, actor, mrn, note, ctx))


@app.command()
def overdue(json_output: bool = JSON) -> None:
    """Put under enquiry the movements released here and not arrived by their time limit
    (`onewindow serve` does it every hour)."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            started = enquiry.overdue(session, context(node))
    if json_output:
        emit_json(started)
    else:
        console.print(
            f"{len(started)} movement(s) put under enquiry" + "".join(f"\n  {m}" for m in started)
        )


def _show(read: MovementRead, json_output: bool, events: list[EventRead] | None = None) -> None:
    if json_output:
        emit_json(read)
        return
    route = " → ".join([read.departure_office, *read.transit_offices, read.destination_office])
    console.print(f"movement {read.mrn} ({read.role} here): {read.status}, {route}")
    if read.lane:
        why = f" ({'; '.join(read.lane_reasons)})" if read.lane_reasons else ""
        console.print(f"lane {read.lane}{why}")
    if read.reserved is not None and read.exposure:
        due = ", ".join(f"{c} {Decimal(v):,}" for c, v in read.exposure.items())
        console.print(f"guarantee {read.grn}: {read.reserved:,} {read.reservation} "
                      f"(duties and taxes by country: {due})")  # fmt: skip
    if read.time_limit:
        console.print(f"to arrive by {read.time_limit}")
    if events:
        table = Table("at", "office", "message", "detail", title="events")
        for e in events:
            detail = "; ".join(f"{k}: {v}" for k, v in (e.detail or {}).items())
            table.add_row(e.at.strftime("%Y-%m-%d %H:%M"), e.office, e.kind, detail)
        console.print(table)
