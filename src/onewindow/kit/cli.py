"""Shared CLI plumbing: who acts, JSON output, and errors a person can act on."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import typer
import typer._click as click  # the click that this pinned typer vendors and builds on
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer._click.globals import get_current_context

from onewindow.kit import access, auth
from onewindow.kit.errors import InvalidInput, InvalidSetting, OneWindowError

AS = typer.Option(None, "--as", help="Act as this user (default: the host's operator)")

console = Console()
err_console = Console(stderr=True)

EXIT_INVALID = 2  # bad input
EXIT_FAILED = 1  # anything else that went wrong


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError


def emit_json(value: Any) -> None:
    """`--json` output is one JSON document on stdout and nothing else."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    sys.stdout.write(
        orjson.dumps(value, default=_default, option=orjson.OPT_INDENT_2).decode() + "\n"
    )


def print_error(exc: OneWindowError) -> None:
    # One line, not wrapped at the terminal's width: people grep and paste it.
    err_console.print(
        f"[bold red]error[/] ({exc.code}): {escape(exc.detail)}",
        highlight=False,
        markup=True,
        soft_wrap=True,
    )
    if isinstance(exc, InvalidInput):
        table = Table("field", "code", "reason", title=f"{len(exc.errors)} problem(s)")
        for e in exc.errors:
            table.add_row(e.path, e.code, e.message)
        err_console.print(table)


@contextmanager
def handled(json_output: bool = False) -> Iterator[None]:
    """Turn domain errors into a readable message (or a JSON problem) and a non-zero exit."""
    try:
        yield
    except OneWindowError as exc:
        if json_output:
            emit_json(exc.problem())
        else:
            print_error(exc)
        raise typer.Exit(exit_code(exc)) from exc


def exit_code(exc: OneWindowError) -> int:
    """2 for what the person can fix (their input, a setting), 1 for the rest."""
    return EXIT_INVALID if exc.status < 500 or isinstance(exc, InvalidSetting) else EXIT_FAILED


def read_error(exc: Exception) -> str:
    """Why a file could not be read, in words ("No such file or directory"), not Python's
    repr of the error."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, ValueError):  # JSON decoding errors among them
        return f"not valid JSON: {exc}"
    return str(exc)


def read_text(path: Path) -> str:
    """A text file's content (a UTF-8 byte order mark dropped), or exit 2 saying why not."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {read_error(exc)}")
    raise AssertionError  # fail() exits


def iso_day(value: str | None, option: str) -> date | None:
    """An option's day (YYYY-MM-DD), None if not given, or exit 2 naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO date (YYYY-MM-DD)")
    raise AssertionError  # fail() exits


def fail(message: str, code: int = EXIT_INVALID) -> None:
    err_console.print(f"[bold red]error[/]: {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def command_path(ctx: click.Context | None = None) -> str | None:
    """The running command as `access.CLI` names it (`declaration acdd-cancel`), if any."""
    ctx = ctx or get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:  # the root's name is the program's
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names)) or None


def acting(session: Any, as_user: str | None) -> auth.Principal:
    """The user a command acts as (`--as`), or the operator of the node's host (an
    administrator, whom every rule allows); `--as` a user whose role the command's rule in
    `onewindow.kit.access` does not allow is refused (forbidden)."""
    actor = auth.as_user(session, as_user, f"cli:{getpass.getuser()}")
    command = command_path()
    if as_user is not None and command is not None:
        access.check_command(actor, command)
    return actor
