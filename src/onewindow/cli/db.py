"""`onewindow db`: the node's database, its migrations branch by branch (the frozen base
chain, then one branch per domain)."""

from __future__ import annotations

import typer
from rich.table import Table

from onewindow.kit import db, migrate
from onewindow.kit.cli import console, emit_json
from onewindow.kit.config import get_settings

app = typer.Typer(help="The node's database: migrations and status.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print one JSON document only")


@app.command()
def upgrade(json_output: bool = JSON) -> None:
    """Apply all database migrations (commands also do this themselves on first use)."""
    engine = db.make_engine(get_settings().database_url)
    try:
        before = {b.name: b.current for b in migrate.branches(engine)}
        heads_before, heads_after = migrate.upgrade(engine)
        after = migrate.branches(engine)
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if json_output:
        emit_json(
            {
                "database": where,
                "before": list(heads_before),
                "after": list(heads_after),
                "branches": {b.name: {"before": before[b.name], "after": b.current} for b in after},
            }
        )
        return
    done = "already up to date" if heads_before == heads_after else "upgraded"
    console.print(f"database: {where}: {done}", soft_wrap=True, highlight=False)
    table = Table("branch", "before", "after")
    for b in after:
        table.add_row(b.name, before[b.name] or "-", b.current or "-")
    console.print(table)


@app.command()
def status(json_output: bool = JSON) -> None:
    """Show the database URL and the migration revision of each branch."""
    engine = db.make_engine(get_settings().database_url)
    try:
        found = migrate.branches(engine)
        revision = list(migrate.current_heads(engine))
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if json_output:
        emit_json(
            {
                "database": where,
                "revision": revision,
                "latest": list(migrate.script_heads()),
                "branches": {b.name: {"revision": b.current, "latest": b.head} for b in found},
            }
        )
        return
    behind = [b.name for b in found if b.current != b.head]
    state = f"behind on {', '.join(behind)}" if behind else "up to date"
    console.print(f"database: {where}: {state}", soft_wrap=True, highlight=False)
    table = Table("branch", "revision", "latest")
    for b in found:
        table.add_row(b.name, b.current or "-", b.head or "-")
    console.print(table)
