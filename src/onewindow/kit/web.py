"""The portals' kit: templates, the signed-in user, CSRF, and the package's own static files.

Pages are server-rendered (Jinja2) and work without JavaScript. Each domain keeps its pages
in `views.py` and their templates in its `templates/<domain>/` folder; the kit holds the
base layout and the form macros (`kit/templates/`) and the stylesheet (`kit/static/`), served
from the package: a customs network may be closed to the internet.

Signing in issues the user an API token of a day's validity, kept in an HttpOnly, SameSite
cookie; every page authenticates it as the API does, so a disabled user or a revoked token is
out on the next request. Every form carries a CSRF token bound to that cookie (`csrf`), and
every POST checks it (`checked_form`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.staticfiles import StaticFiles

from onewindow.kit import access, auth, domain
from onewindow.kit.api_deps import node_of, route_path
from onewindow.kit.errors import FieldError, Forbidden, InvalidInput, NotAuthenticated

COOKIE = "ow_session"
CSRF_FIELD = "csrf_token"
STATIC = "/static"
_KIT = Path(__file__).parent


class SignInRequired(Exception):
    """A page asked for a signed-in user and there was none: the answer is the sign-in page."""


def templates() -> Environment:
    """The kit's templates and each installed domain's `templates/` folder (made once per
    set of installed domains)."""
    installed = domain.installed()
    key = tuple(id(each) for each in installed)
    env = _ENVS.get(key)
    if env is None:
        folders = [_KIT / "templates"]
        for each in installed:
            folder = Path(str(resources.files(each.package))) / "templates"
            if folder.is_dir():
                folders.append(folder)
        env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(f)) for f in folders]),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _ENVS.clear()
        _ENVS[key] = env
    return env


_ENVS: dict[tuple[int, ...], Environment] = {}


@dataclass(frozen=True)
class Link:
    """A page a domain offers in the portals' navigation (extension point `web.navigation`):
    shown to the roles that the page's rule in kit.access allows."""

    label: str
    href: str


def navigation(user: auth.Principal | None) -> list[Link]:
    if user is None:
        return []
    links: list[Link] = []
    for target in domain.contributions("web.navigation").values():
        links += [
            link
            for link in domain.load(target)
            if (rule := access.api_rule("GET", link.href)) is not None and rule.allows(user.role)
        ]
    return links


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    user: auth.Principal | None = None,
) -> HTMLResponse:
    token = request.cookies.get(COOKIE)
    values = {
        "request": request,
        "user": user,
        "csrf_token": csrf(token) if token else "",
        "static": STATIC,
        "navigation": navigation(user),
        **(context or {}),
    }
    return HTMLResponse(templates().get_template(name).render(values), status_code=status)


def csrf(session_token: str) -> str:
    """The CSRF token of a session: bound to its cookie, so it needs no storage."""
    return hmac.new(session_token.encode(), b"onewindow-csrf", hashlib.sha256).hexdigest()


def page_user(request: Request) -> auth.Principal:
    """The signed-in user, allowed by the route's rule in kit.access; else the sign-in page
    (no session, or one that no longer authenticates) or 403 (a role the rule refuses).
    A plain function: FastAPI runs it in the thread pool, so its query blocks no request."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired
    node = node_of(request)
    try:
        with node.transaction() as session:
            user = auth.authenticate(session, token, node.clock.now())
    except NotAuthenticated:
        raise SignInRequired from None
    access.check_api(user, request.method, route_path(request))
    return user


PageUser = Annotated[auth.Principal, Depends(page_user)]


def csrf_matches(sent: str, cookie_token: str | None) -> bool:
    return bool(cookie_token) and hmac.compare_digest(sent, csrf(cookie_token or ""))


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (files aside)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form's fields, after its CSRF token was checked against the session."""
    fields = await form_fields(request)
    if not csrf_matches(fields.pop(CSRF_FIELD, ""), request.cookies.get(COOKIE)):
        raise Forbidden("the form's CSRF token is missing or does not match this session")
    return fields


Form = Annotated[dict[str, str], Depends(checked_form)]


def errors_by_field(exc: InvalidInput) -> dict[str, FieldError]:
    """The first error of each field, for showing it next to the field."""
    found: dict[str, FieldError] = {}
    for error in exc.errors:
        found.setdefault(error.path, error)
    return found


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _sign_in(request: Request, exc: SignInRequired) -> Response:
    return redirect(f"/sign-in?next={quote(request.url.path)}")


def install(app: FastAPI) -> None:
    """The stylesheet and scripts under /static, and the sign-in redirect for pages."""
    app.mount(STATIC, StaticFiles(directory=str(_KIT / "static")), name="static")
    app.add_exception_handler(SignInRequired, _sign_in)  # type: ignore[arg-type]
