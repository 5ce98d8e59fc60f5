"""The `onewindow` command line. Each resource has its own module; this one assembles them.

Sub-commands are loaded when they are called: `onewindow tariff show` should not pay for
importing LightGBM (the risk engine) or the web server, which would make every command take
seconds. Each domain declares its commands in its `domain.py` (the module that holds each
and the one-line help that `onewindow --help` shows without importing anything); the node's
own are in `onewindow.domains`.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
import typer._click as click  # the click that this pinned typer vendors and builds on
import typer.core
import typer.main

from onewindow import domains
from onewindow.kit.domain import Command, load
from onewindow.kit.errors import InvalidSetting, OneWindowError
from onewindow.kit.node import close_all
from onewindow.kit.runtime import tune_collector


def commands() -> dict[str, Command]:
    """The whole command line: the installed domains' commands, those closest to a person's
    work first, then the node's own."""
    found: dict[str, Command] = {}
    for each in reversed(domains.install()):
        found.update(each.commands)
    return found | domains.COMMANDS


def _load(target: str, name: str) -> click.Command:
    found: Any = load(target)
    if not isinstance(found, typer.Typer):
        single = typer.Typer()
        single.command(name)(found)
        found = single
    command = typer.main.get_command(found)
    command.name = name
    return command


class Root(typer.core.TyperGroup):
    """Lists the commands without importing them; imports one when it is called."""

    listing = False  # set while the top-level help is written

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(commands())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = commands().get(cmd_name)
        if found is None:
            return None
        if ctx.resilient_parsing or self.listing:
            return typer.core.TyperCommand(cmd_name, help=found.help)
        return _load(found.target, cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(cls=Root, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def onewindow(ctx: typer.Context) -> None:
    """OneWindow: a National Single Window node and its gateway to partner nodes."""
    ctx.call_on_close(close_all)  # the nodes the command opened, whatever its outcome


def main() -> None:
    tune_collector()
    try:
        app(prog_name="onewindow")
    except OneWindowError as exc:
        sys.exit(report(exc))


def report(exc: OneWindowError) -> int:
    """An error no command handled itself (a bad setting met while opening the node, before
    any command's own handling): one line on stderr, no traceback; returns the exit code."""
    sys.stderr.write(f"error ({exc.code}): {exc.detail}\n")
    return 2 if exc.status < 500 or isinstance(exc, InvalidSetting) else 1
