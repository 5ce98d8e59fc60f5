"""The `onewindow` command line. Each resource has its own module; this one assembles them."""

from __future__ import annotations

import typer

from onewindow.cli import db as db_cli
from onewindow.cli import demo as demo_cli
from onewindow.cli import serve as serve_cli
from onewindow.cli import users as users_cli
from onewindow.declarations import cli as declarations_cli
from onewindow.exchange import cli as exchange_cli
from onewindow.ledger import cli as ledger_cli
from onewindow.origin import cli as origin_cli
from onewindow.risk import cli as risk_cli
from onewindow.tariff import cli as tariff_cli

app = typer.Typer(
    name="onewindow",
    help="OneWindow: a National Single Window node and its gateway to partner nodes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cli.app, name="db")
app.add_typer(tariff_cli.app, name="tariff")
app.add_typer(tariff_cli.rates_app, name="rates")
app.add_typer(declarations_cli.app, name="declaration")
app.add_typer(origin_cli.app, name="origin")
app.add_typer(users_cli.app, name="user")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(exchange_cli.app, name="exchange")
app.add_typer(risk_cli.app, name="risk")
app.add_typer(exchange_cli.federation_app, name="federation")
app.command("serve")(serve_cli.serve)
app.command("demo")(demo_cli.demo)


def main() -> None:
    app()
