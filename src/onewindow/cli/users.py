"""`onewindow user`: people and systems that use the API, and their tokens.

These act on the node itself (the host operator's, without `--as`) and each change is audited
under the user's name (`entity_type` "user")."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from onewindow.kit import auth
from onewindow.kit.cli import console, emit_json, handled
from onewindow.kit.node import Node

app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)
token_app = typer.Typer(help="A user's API tokens: list, revoke, rotate.", no_args_is_help=True)
app.add_typer(token_app, name="token")

JSON = typer.Option(False, "--json", help="Print JSON only")


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _short(iso: str | None) -> str:
    """2026-12-01 22:08Z: a table's column, where the JSON keeps the whole time."""
    return f"{iso[:10]} {iso[11:16]}Z" if iso else ""


def _user(user: auth.User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role.value,
        "party_id": user.party_id,
        "disabled_at": _time(user.disabled_at),
    }


def _token(row: auth.ApiToken, now: datetime) -> dict[str, Any]:
    state = "revoked" if row.revoked_at else "expired" if row.expires_at <= now else "active"
    return {
        "id": row.id,
        "status": state,
        "created_at": _time(row.created_at),
        "expires_at": _time(row.expires_at),
        "last_used_at": _time(row.last_used_at),
        "revoked_at": _time(row.revoked_at),
    }


@app.command()
def add(
    username: str,
    role: auth.Role = typer.Option(..., help=f"One of: {auth.ROLE_NAMES}"),
    party: str | None = typer.Option(None, help="For traders: the party id they act for"),
    json_output: bool = JSON,
) -> None:
    """Create a user and print its API token (shown once: keep it)."""
    with handled(json_output):
        node = Node.open()
        days = node.settings.token_days
        with node.transaction() as session:
            token = auth.create_user(
                session, username, role, party, now=node.clock.now(), days=days, actor=_operator()
            )
    if json_output:
        emit_json({"username": username, "role": role.value, "party_id": party, "token": token})
    else:
        console.print(f"created {role.value} [bold]{username}[/]; API token (shown once):")
        console.print(token, highlight=False)
        console.print(f"it expires in {days} days (ONEWINDOW_TOKEN_DAYS)", highlight=False)


@app.command("list")
def list_users(json_output: bool = JSON) -> None:
    """List users, their roles and whether they are disabled."""
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            rows = [_user(u) for u in auth.list_users(session)]
    if json_output:
        emit_json(rows)
        return
    table = Table("username", "role", "party", "disabled since")
    for r in rows:
        table.add_row(r["username"], r["role"], r["party_id"] or "", _short(r["disabled_at"]))
    console.print(table)


def _set_disabled(username: str, disabled: bool, json_output: bool) -> None:
    with handled(json_output):
        node = Node.open()
        with node.transaction() as session:
            user = auth.set_disabled(
                session, username, disabled, actor=_operator(), now=node.clock.now()
            )
            row = _user(user)
    if json_output:
        emit_json(row)
    elif disabled:
        console.print(f"{username} is disabled: its tokens answer 401 from now on")
    else:
        console.print(f"{username} is enabled again (tokens not revoked or expired work again)")


@app.command()
def disable(username: str, json_output: bool = JSON) -> None:
    """Disable a user: its tokens are refused at once and `--as` it is refused."""
    _set_disabled(username, True, json_output)


@app.command()
def enable(username: str, json_output: bool = JSON) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False, json_output)


@token_app.command("list")
def list_tokens(username: str, json_output: bool = JSON) -> None:
    """A user's tokens: id, created, expires, last used, revoked (never the token itself)."""
    with handled(json_output):
        node = Node.open()
        now = node.clock.now()
        with node.transaction() as session:
            rows = [_token(t, now) for t in auth.tokens_of(session, username)]
    if json_output:
        emit_json(rows)
        return
    table = Table("id", "status", "created", "expires", "last used", "revoked", title=username)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["status"],
            *(_short(r[k]) for k in ("created_at", "expires_at", "last_used_at", "revoked_at")),
        )
    console.print(table)


@token_app.command()
def revoke(
    username: str,
    token_id: int = typer.Argument(..., help="The token's id (`user token list`)"),
    json_output: bool = JSON,
) -> None:
    """Revoke one of a user's tokens: it answers 401 from the next request."""
    with handled(json_output):
        node = Node.open()
        now = node.clock.now()
        with node.transaction() as session:
            row = _token(
                auth.revoke_token(session, username, token_id, actor=_operator(), now=now), now
            )
    if json_output:
        emit_json(row)
    else:
        console.print(f"token {token_id} of {username} is revoked")


@token_app.command()
def rotate(username: str, json_output: bool = JSON) -> None:
    """Issue a new token for a user and revoke the ones it had (the new one is shown once)."""
    with handled(json_output):
        node = Node.open()
        now, days = node.clock.now(), node.settings.token_days
        with node.transaction() as session:
            token, row, revoked = auth.rotate_token(
                session, username, actor=_operator(), now=now, days=days
            )
            new = _token(row, now)
    if json_output:
        emit_json({"username": username, "token": token, "revoked": revoked, **new})
        return
    gone = ", ".join(map(str, revoked)) or "none"
    console.print(f"new API token {new['id']} for [bold]{username}[/] (shown once):")
    console.print(token, highlight=False)
    console.print(f"expires {new['expires_at']}; revoked: {gone}", highlight=False)
