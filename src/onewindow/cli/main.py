"""The `onewindow` command line. Each resource has its own module; this one assembles them.

Sub-commands are loaded when they are called: `onewindow tariff show` should not pay for
importing LightGBM (the risk engine) or the web server, which would make every command take
seconds. The table below is the whole command line; each entry names the module that holds
it and the one-line help that `onewindow --help` shows without importing anything.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
import typer._click as click  # the click that this pinned typer vendors and builds on
import typer.core
import typer.main

from onewindow.kit.errors import InvalidSetting, OneWindowError
from onewindow.kit.runtime import tune_collector

COMMANDS: dict[str, tuple[str, str]] = {
    "declaration": ("onewindow.declarations.cli:app", "Import and export declarations."),
    "tariff": (
        "onewindow.tariff.cli:app",
        "The national tariff schedule (AHTN lines over HS 2022).",
    ),
    "rates": ("onewindow.tariff.cli:rates_app", "Official exchange rates."),
    "origin": ("onewindow.origin.cli:app", "Certificates of origin (ATIGA e-Form D)."),
    "exchange": (
        "onewindow.exchange.cli:app",
        "Messages with partner nodes: status, retries, statistics.",
    ),
    "federation": (
        "onewindow.exchange.cli:federation_app",
        "Create and grow a federation of nodes (CA, keys, configs).",
    ),
    "ledger": ("onewindow.ledger.cli:app", "The tamper-evident log: heads, proofs, witnesses."),
    "verify": (
        "onewindow.ledger.cli:verify_command",
        "Verify a document: signature, log inclusion, not altered, not revoked.",
    ),
    "risk": ("onewindow.risk.cli:app", "Risk engine: train, evaluate, simulate, models."),
    "user": ("onewindow.cli.users:app", "Users, roles and API tokens."),
    "db": ("onewindow.cli.db:app", "The node's database: migrations and status."),
    "serve": ("onewindow.cli.serve:serve", "Run the node: API, gateway and workers."),
    "demo": (
        "onewindow.cli.demo:demo",
        "Set up a demo federation on SQLite, run a scenario, keep serving.",
    ),
}


def _load(target: str, name: str) -> click.Command:
    module, attr = target.split(":")
    # importlib, not an import statement: loading on demand is the point of this module.
    found: Any = getattr(importlib.import_module(module), attr)
    if not isinstance(found, typer.Typer):
        single = typer.Typer()
        single.command(name)(found)
        found = single
    command = typer.main.get_command(found)
    command.name = name
    return command


class Root(typer.core.TyperGroup):
    """Lists COMMANDS without importing them; imports one when it is called."""

    listing = False  # set while the top-level help is written

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, short_help = COMMANDS[cmd_name]
        if ctx.resilient_parsing or self.listing:
            return typer.core.TyperCommand(cmd_name, help=short_help)
        return _load(target, cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(cls=Root, no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def onewindow() -> None:
    """OneWindow: a National Single Window node and its gateway to partner nodes."""


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
