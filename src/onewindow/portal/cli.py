"""`onewindow portal`: what the node's host operator sets for the web portals."""

from __future__ import annotations

import getpass
import sys

import typer

from onewindow.kit.cli import console, emit_json, fail, handled
from onewindow.kit.node import Node
from onewindow.portal import service

app = typer.Typer(help="The web portals: users' passwords.", no_args_is_help=True)


@app.callback()
def portal() -> None:
    """The web portals: users' passwords (more settings to come: a group, not one command)."""


@app.command("password")
def password_command(
    username: str = typer.Argument(..., help="The user (see `onewindow user list`)."),
    from_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input's first line."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Set the password a user signs in to the portals with (asked twice, not echoed)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            fail("the two passwords differ; nothing was changed")
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            operator = f"cli:{getpass.getuser()}"
            service.set_password(session, username, password, node.clock.now(), actor=operator)
    if json_output:
        emit_json({"username": username, "password": "set"})
    else:
        console.print(f"password set for {username}; they sign in at /sign-in")
