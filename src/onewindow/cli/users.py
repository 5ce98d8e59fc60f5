"""`onewindow user`: people and systems that use the API, and their tokens."""

from __future__ import annotations

import typer
from rich.table import Table

from onewindow import auth
from onewindow.cli.output import console, emit_json, handled
from onewindow.node import Node

app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)


@app.command()
def add(
    username: str,
    role: auth.Role = typer.Option(..., help="trader, officer, supervisor or administrator"),
    party: str | None = typer.Option(None, help="For traders: the party id they act for"),
    json_output: bool = typer.Option(False, "--json", help="Print JSON only"),
) -> None:
    """Create a user and print its API token (shown once: keep it)."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            token = auth.create_user(session, username, role, party)
    if json_output:
        emit_json({"username": username, "role": role.value, "party_id": party, "token": token})
    else:
        console.print(f"created {role.value} [bold]{username}[/]; API token (shown once):")
        console.print(token, highlight=False)


@app.command("list")
def list_users(
    json_output: bool = typer.Option(False, "--json", help="Print JSON only"),
) -> None:
    """List users and their roles."""
    node = Node.open()
    with node.transaction() as session:
        users = [
            {"username": u.username, "role": u.role.value, "party_id": u.party_id}
            for u in auth.list_users(session)
        ]
    if json_output:
        emit_json(users)
        return
    table = Table("username", "role", "party")
    for user in users:
        table.add_row(user["username"], user["role"], user["party_id"] or "")
    console.print(table)
