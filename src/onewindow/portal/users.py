"""Users and roles in the portals, for administrators: the node's users, adding one, disabling
and enabling, and the password a user signs in with.

The same functions as `onewindow user` and `onewindow portal password` (kit.auth and the
portal's service), audited under the administrator's name. A disabled user is out at once:
a session is an API token, and kit.auth refuses the tokens of a disabled user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import Conflict, FieldError, InvalidInput, Text
from onewindow.kit.i18n import N_
from onewindow.portal import service
from onewindow.portal.schemas import UserCreate

router = APIRouter(include_in_schema=False)
LINKS = [web.Link(N_("Users"), "/users")]
USERNAME = Path(min_length=1, max_length=60)
# The roles as the form offers them, marked for `make messages` (translated where shown).
ROLE_LABELS = {
    auth.Role.TRADER: N_("Trader"),
    auth.Role.OFFICER: N_("Officer"),
    auth.Role.SUPERVISOR: N_("Supervisor"),
    auth.Role.ADMINISTRATOR: N_("Administrator"),
    auth.Role.ISSUING_AUTHORITY: N_("Issuing authority"),
    auth.Role.ANALYST: N_("Analyst"),
}
ROLES = [
    (role.value, ROLE_LABELS.get(role, role.value.replace("_", " ").capitalize()))
    for role in auth.Role
]
DONE = {
    "disabled": N_("The user is disabled: their sessions and API tokens stop working now."),
    "enabled": N_("The user is enabled again."),
    "password": N_("The password is set: the user signs in with it at /sign-in."),
}


@router.get("/users")
def users(request: Request, user: web.PageUser) -> Response:
    return _list(request, user, {}, {})


def _list(
    request: Request,
    user: auth.Principal,
    values: Mapping[str, str],
    errors: Mapping[str, FieldError],
    status: int = 200,
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        rows = [_row(u) for u in auth.list_users(session)]
        passwords = service.passwords_set(session)
    context = {
        "users": rows,
        "passwords": passwords,
        "roles": ROLES,
        "values": values,
        "errors": errors,
    }
    return web.render(request, "portal/users.html", context, status=status, user=user)


def _row(u: auth.User) -> dict[str, Any]:
    return {
        "username": u.username,
        "href": _href(u.username),
        "role": u.role.value,
        "party_id": u.party_id,
        "disabled_at": u.disabled_at,
    }


@router.post("/users")
def add(request: Request, user: web.PageUser, form: web.Form) -> Response:
    """Create the user; its API token is shown once, as `onewindow user add` prints it."""
    node = node_of(request)
    try:
        body = web.validated(UserCreate, web.nested(form))
        with node.transaction() as session:
            token = auth.create_user(
                session, body.username, body.role, body.party_id, now=node.clock.now(),
                days=node.settings.token_days, actor=user.name,
            )  # fmt: skip
    except InvalidInput as exc:
        return _list(request, user, form, web.errors_by_field(exc), status=422)
    except Conflict as exc:
        error = FieldError("username", exc.code, exc.detail)
        return _list(request, user, form, {"username": error}, status=409)
    context = {
        "created": body,
        "href": _href(body.username),
        "token": token,
        "days": node.settings.token_days,
    }
    return web.render(request, "portal/user_created.html", context, user=user)


@router.get("/users/{username}")
def one(
    request: Request,
    user: web.PageUser,
    username: str = USERNAME,
    done: str | None = Query(None, max_length=20),
) -> Response:
    return _page(request, user, username, banner=DONE.get(done or ""))


def _page(
    request: Request,
    user: auth.Principal,
    username: str,
    *,
    errors: Mapping[str, FieldError] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        found = _row(auth.get_user(session, username))
        password = service.passwords_set(session).get(username)
    context = {
        "u": found,
        "password_changed": password,
        "errors": errors or {},
        "banner": banner,
        "min_length": service.MIN_LENGTH,
    }
    return web.render(request, "portal/user.html", context, status=status, user=user)


@router.post("/users/{username}/disable")
def disable(
    request: Request, user: web.PageUser, form: web.Form, username: str = USERNAME
) -> Response:
    return _set_disabled(request, user, username, True)


@router.post("/users/{username}/enable")
def enable(
    request: Request, user: web.PageUser, form: web.Form, username: str = USERNAME
) -> Response:
    return _set_disabled(request, user, username, False)


def _set_disabled(
    request: Request, user: auth.Principal, username: str, disabled: bool
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        auth.set_disabled(session, username, disabled, actor=user.name, now=node.clock.now())
    done = "disabled" if disabled else "enabled"
    return web.redirect(f"{_href(username)}?done={done}")


@router.post("/users/{username}/password")
def password(
    request: Request, user: web.PageUser, form: web.Form, username: str = USERNAME
) -> Response:
    """Set the user's portal password (typed twice, as the CLI asks it)."""
    node = node_of(request)
    # Read as typed: a password's spaces are its own (web.nested would strip them).
    new, again = form.get("password", ""), form.get("confirm", "")
    try:
        if new != again:
            differ = Text("the two passwords differ")
            raise InvalidInput([FieldError("confirm", "mismatch", differ)])
        with node.transaction() as session:
            service.set_password(session, username, new, node.clock.now(), actor=user.name)
    except InvalidInput as exc:
        return _page(request, user, username, errors=web.errors_by_field(exc), status=422)
    return web.redirect(f"{_href(username)}?done=password")


def _href(username: str) -> str:
    return f"/users/{quote(username, safe='')}"
