"""`onewindow db`: the node's database."""

from __future__ import annotations

import typer

from onewindow.kit import db
from onewindow.kit.cli import console, emit_json
from onewindow.kit.config import get_settings

app = typer.Typer(help="The node's database: migrations and status.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print one JSON document only")


@app.command()
def upgrade(json_output: bool = JSON) -> None:
    """Apply all database migrations (commands also do this themselves on first use)."""
    settings = get_settings()
    engine = db.make_engine(settings.database_url)
    before, after = db.upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if json_output:
        emit_json({"database": where, "before": before, "after": after})
    elif before == after:
        console.print(f"{where}: already at revision {after}")
    else:
        console.print(f"{where}: upgraded from {before or 'empty'} to {after}")


@app.command()
def status(json_output: bool = JSON) -> None:
    """Show the database URL and its migration revision."""
    settings = get_settings()
    engine = db.make_engine(settings.database_url)
    current, head = db.current_revision(engine), db.head_revision(engine)
    if json_output:
        where = engine.url.render_as_string(hide_password=True)
        emit_json({"database": where, "revision": current, "latest": head})
        return
    console.print(f"database: {engine.url.render_as_string(hide_password=True)}")
    console.print(f"revision: {current or 'empty'} (latest: {head})")
