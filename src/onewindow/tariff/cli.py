"""`onewindow tariff` and `onewindow rates`: the national schedule and exchange rates, and
publishing them to the partners."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from onewindow.kit.cli import AS, acting, console, emit_json, handled, iso_day, read_text
from onewindow.kit.node import Node
from onewindow.tariff import nomenclature, publishing, service
from onewindow.tariff.schemas import PartnerScheduleRead, PublicationRead

app = typer.Typer(
    help="The national tariff schedule (AHTN lines over HS 2022).", no_args_is_help=True
)
rates_app = typer.Typer(help="Official exchange rates.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON only")


def _day(value: str | None) -> date:
    return iso_day(value, "--date") or datetime.now().date()


@app.command("import")
def import_schedule(
    file: Path = typer.Argument(
        ..., help="CSV: code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to"
    ),
    json_output: bool = JSON,
) -> None:
    """Load a schedule file. A file with any bad row is rejected whole, every problem listed."""
    text = read_text(file)
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            count = service.import_schedule(session, text)
    if json_output:
        emit_json({"file": str(file), "loaded": count})
        return
    console.print(f"loaded {count} tariff line(s) from {file}")


@app.command()
def show(
    code: str,
    on: str | None = typer.Option(None, "--date", help="Date (YYYY-MM-DD); default today"),
    json_output: bool = JSON,
) -> None:
    """Print the tariff line in force for an 8-digit code."""
    day = _day(on)
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            line = service.line_in_force(session, code, day)
    hs = nomenclature.hierarchy(code[:6])
    data = {
        "code": line.code,
        "description": line.description,
        "unit": line.unit,
        "mfn_rate": str(line.mfn_rate),
        "atiga_rate": str(line.atiga_rate) if line.atiga_rate is not None else None,
        "vat_rate": str(line.vat_rate),
        "valid_from": line.valid_from.isoformat(),
        "valid_to": line.valid_to.isoformat() if line.valid_to else None,
        "on": day.isoformat(),
        "hs": [{"code": e.code, "description": e.description} for e in hs],
    }
    if json_output:
        emit_json(data)
        return
    table = Table(title=f"Tariff line {code} in force on {day}", show_header=False)
    for key, value in data.items():
        if key != "hs":
            table.add_row(key, "" if value is None else str(value))
    for entry in hs:
        table.add_row(f"HS {entry.code}", entry.description)
    console.print(table)


@app.command("list")
def list_lines(
    prefix: str = typer.Argument("", help="Code prefix"),
    limit: int = typer.Option(50, min=1),
    json_output: bool = JSON,
) -> None:
    """List tariff lines (all versions) whose code starts with PREFIX."""
    node = Node.open()
    with node.transaction() as session:
        rows = service.list_lines(session, prefix, limit)
    if json_output:
        emit_json([_line(r) for r in rows])
        return
    table = Table("code", "description", "unit", "MFN %", "ATIGA %", "VAT %", "from", "to")
    for r in rows:
        table.add_row(
            r.code,
            r.description[:50],
            r.unit,
            str(r.mfn_rate),
            str(r.atiga_rate) if r.atiga_rate is not None else "-",
            str(r.vat_rate),
            str(r.valid_from),
            str(r.valid_to or ""),
        )
    console.print(table)


def _line(r: Any) -> dict[str, str | None]:
    return {
        "code": r.code,
        "description": r.description,
        "unit": r.unit,
        "mfn_rate": str(r.mfn_rate),
        "atiga_rate": str(r.atiga_rate) if r.atiga_rate is not None else None,
        "vat_rate": str(r.vat_rate),
        "valid_from": r.valid_from.isoformat(),
        "valid_to": r.valid_to.isoformat() if r.valid_to else None,
    }


@rates_app.command("import")
def import_rates(
    file: Path = typer.Argument(..., help="CSV: currency,rate,valid_from"),
    json_output: bool = JSON,
) -> None:
    """Load official exchange rates (national currency per unit of foreign currency)."""
    text = read_text(file)
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            count = service.import_rates(session, text)
    if json_output:
        emit_json({"file": str(file), "loaded": count})
        return
    console.print(f"loaded {count} exchange rate(s) from {file}")


@rates_app.command("list")
def list_rates(json_output: bool = JSON) -> None:
    """List all official exchange rates."""
    node = Node.open()
    with node.transaction() as session:
        rows = service.list_rates(session)
    if json_output:
        emit_json(
            [
                {"currency": r.currency, "rate": str(r.rate), "valid_from": str(r.valid_from)}
                for r in rows
            ]
        )
        return
    table = Table("currency", f"rate ({node.settings.currency})", "valid from")
    for r in rows:
        table.add_row(r.currency, f"{r.rate:,}", str(r.valid_from))
    console.print(table)


@rates_app.command("show")
def show_rate(
    currency: str,
    on: str | None = typer.Option(None, "--date", help="Date (YYYY-MM-DD); default today"),
    json_output: bool = JSON,
) -> None:
    """Print the rate in force for a currency on a date."""
    day = _day(on)
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            rate = service.rate_in_force(session, currency.upper(), day)
    if json_output:
        emit_json(
            {
                "currency": currency.upper(),
                "rate": str(rate),
                "in": node.settings.currency,
                "on": day.isoformat(),
            }
        )
        return
    console.print(f"1 {currency.upper()} = {rate:,} {node.settings.currency} on {day}")


@app.command()
def publish(
    effective: str | None = typer.Option(
        None, "--effective", help="In force from (YYYY-MM-DD); default today"
    ),
    to: list[str] = typer.Option([], "--to", help="A partner's country (repeat); default all"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """Publish the schedule and official rates in force on the effective date to the
    partners, as the next version, signed and logged."""
    day = iso_day(effective, "--effective")
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            publication = publishing.publish(
                session,
                acting(session, as_user),
                home=publishing.Home.of(node.settings),
                effective=day,
                to=[c.upper() for c in to] or None,
                now=node.clock.now(),
            )
            data = PublicationRead.model_validate(publication).model_dump(mode="json")
    if json_output:
        emit_json(data)
        return
    console.print(
        f"published version {data['version']} in force from {data['effective_date']}: "
        f"{data['line_count']} line(s), {data['rate_count']} rate(s), {data['size']:,} bytes, "
        f"to {', '.join(data['receivers'])}"
    )


@app.command()
def partners(
    country: str | None = typer.Option(None, "--country", help="One partner's versions only"),
    as_user: str | None = AS,
    json_output: bool = JSON,
) -> None:
    """The versions of their schedules that partners published to this node, newest first;
    the one in force today marked."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            rows = publishing.partner_schedules(
                session, acting(session, as_user), country.upper() if country else None
            )
            data = [PartnerScheduleRead.model_validate(r).model_dump(mode="json") for r in rows]
            today = node.clock.now().date().isoformat()
    in_force: dict[str, int] = {}
    for row in data:  # newest first: the first whose date has come is in force
        if row["effective_date"] <= today:
            in_force.setdefault(row["country"], row["version"])
    for row in data:
        row["in_force_today"] = in_force.get(row["country"]) == row["version"]
    if json_output:
        emit_json(data)
        return
    table = Table("country", "version", "in force from", "received", "lines", "rates", "today")
    for row in data:
        table.add_row(
            row["country"],
            str(row["version"]),
            row["effective_date"],
            row["received_at"][:19],
            str(row["line_count"]),
            str(row["rate_count"]),
            "in force" if row["in_force_today"] else "",
        )
    console.print(table)
