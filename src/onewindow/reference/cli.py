"""`onewindow reference`: the national reference lists (customs offices, kinds of package,
supporting documents), loaded by the host's operator and shown to anyone on the host."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from onewindow.kit.cli import (
    acting,
    console,
    emit_json,
    handled,
    iso_day,
    read_text,
)
from onewindow.kit.node import Node
from onewindow.reference import lists, service
from onewindow.reference.schemas import ListEntries

app = typer.Typer(
    help="National reference lists: customs offices, packages, documents.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="Print JSON only")


@app.command("import")
def import_list(
    name: str = typer.Argument(..., help=f"The list: {', '.join(lists.LISTS)}"),
    file: Path = typer.Argument(..., help="CSV: code,description, then the list's columns"),
    valid_from: str | None = typer.Option(
        None, "--from", help="First day of this edition (YYYY-MM-DD); default today"
    ),
    json_output: bool = JSON,
) -> None:
    """Load an edition of a whole list: entries left out are closed the day before, changed
    ones get a new version. A file with any bad row is refused whole, every problem listed."""
    start = iso_day(valid_from, "--from")
    text = read_text(file)
    with handled(json_output):
        node = Node.open()
        now = node.clock.now()
        with node.transaction() as session:
            actor = acting(session, None).name
            result = service.import_list(
                session, name, text, start or now.date(), actor=actor, at=now
            )
    if json_output:
        emit_json(result)
        return
    console.print(
        f"{result.name} from {result.valid_from}: {result.added} added, {result.changed} "
        f"changed, {result.closed} closed, {result.unchanged} unchanged"
    )


@app.command("lists")
def show_lists(
    on: str | None = typer.Option(None, "--date", help="Date (YYYY-MM-DD); default today"),
    json_output: bool = JSON,
) -> None:
    """The lists the node keeps, with the number of entries in force on a date."""
    day = iso_day(on, "--date")
    node = Node.open()
    with node.transaction() as session:
        found = service.summaries(session, day or node.clock.now().date())
    if json_output:
        emit_json([s.model_dump(mode="json") for s in found])
        return
    table = Table("list", "title", "attributes", "entries", "last change")
    for s in found:
        extra = ", ".join(s.columns[len(lists.COMMON) :])
        table.add_row(s.name, s.title, extra, str(s.entries), str(s.last_change or "-"))
    console.print(table)


@app.command("show")
def show(
    name: str = typer.Argument(..., help=f"The list: {', '.join(lists.LISTS)}"),
    on: str | None = typer.Option(None, "--date", help="Date (YYYY-MM-DD); default today"),
    json_output: bool = JSON,
) -> None:
    """The entries of a list in force on a date, by code."""
    day = iso_day(on, "--date")
    with handled(json_output):
        node = Node.open()
        day = day or node.clock.now().date()
        with node.transaction() as session:
            found = [service.read(e) for e in service.entries(session, name, day)]
        kind = lists.code_list(name)
    listed = ListEntries(name=kind.name, title=kind.title, on=day, entries=found)
    if json_output:
        emit_json(listed)
        return
    title = f"{kind.title} on {day}"
    table = Table("code", "description", *kind.attributes, "from", "to", title=title)
    for e in listed.entries:
        extra = [e.attributes.get(a) or "" for a in kind.attributes]
        table.add_row(e.code, e.description, *extra, str(e.valid_from), str(e.valid_to or ""))
    console.print(table)
