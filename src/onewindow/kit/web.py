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
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from onewindow.kit import access, auth, domain, i18n
from onewindow.kit.api_deps import node_of, route_path
from onewindow.kit.errors import (
    FieldError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    OneWindowError,
    Text,
    from_validation,
    invalid,
)
from onewindow.kit.money import minor_unit

COOKIE = "ow_session"
CSRF_FIELD = "csrf_token"
STATIC = "/static"
_KIT = Path(__file__).parent
M = TypeVar("M", bound=BaseModel)


# Every page: only the package's own files run or style it (no inline script, no other site),
# forms post only here, no other site frames it, no address leaks to other sites, and no
# cache keeps it (pages hold customs data, and a new user's token is shown once).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


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
        env.filters.update(money=money, when=when, field_id=field_id, plain=plain)
        env.globals.update(_=i18n.gettext, languages=i18n.LANGUAGES, csrf_field=_csrf_field)
        _ENVS.clear()
        _ENVS[key] = env
    return env


_ENVS: dict[tuple[int, ...], Environment] = {}


def money(amount: Decimal | str | None, currency: str = "") -> str:
    """1234567.5 VND -> "1,234,568 VND" (in Vietnamese "1.234.568 VND"): grouped as the
    language groups, to the currency's minor unit."""
    if amount is None or amount == "":
        return ""
    text = i18n.number(Decimal(amount), minor_unit(currency) if currency else 2)
    return f"{text} {currency}" if currency else text


def plain(value: Decimal | str) -> str:
    """10.0000 -> 10, 0.50 -> 0.5: a rate or quantity as people write it."""
    return format(Decimal(value).normalize(), "f")


def when(moment: datetime | None) -> str:
    """A moment in UTC as the language writes dates: 2026-12-02 09:15 UTC, 02/12/2026 ..."""
    return i18n.moment(moment) if moment is not None else ""


def field_id(path: str) -> str:
    """The HTML id of the field for an API error path: items.0.hs_code -> items-0-hs_code."""
    return path.replace(".", "-")


@dataclass(frozen=True)
class Link:
    """A page a domain offers in the portals' navigation (extension point `web.navigation`):
    shown to the roles that the page's rule in kit.access allows."""

    label: str
    href: str


def may(user: auth.Principal, method: str, path: str) -> bool:
    """Whether the role rules let `user` use a page or an action: to offer its link or
    button only to those who may (the route checks again when it is used)."""
    rule = access.api_rule(method, path)
    return rule is not None and rule.allows(user.role)


def navigation(user: auth.Principal | None) -> list[Link]:
    if user is None:
        return []
    links: list[Link] = []
    for target in domain.contributions("web.navigation").values():
        links += [link for link in domain.load(target) if may(user, "GET", link.href)]
    return links


def _language(request: Request) -> str:
    """The reader's language, from now on in this request."""
    language = i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))
    i18n.use(language)
    return language


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    user: auth.Principal | None = None,
) -> HTMLResponse:
    token = request.cookies.get(COOKIE)
    _form_token.set(csrf(token) if token else "")
    language = _language(request)
    values = {
        "request": request,
        "lang": language,
        "user": user,
        "csrf_token": csrf(token) if token else "",
        "static": STATIC,
        "navigation": navigation(user),
        **(context or {}),
    }
    body = templates().get_template(name).render(values)
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


_form_token: ContextVar[str] = ContextVar("form_token", default="")


def _csrf_field() -> Markup:
    """The hidden CSRF field of the page being drawn: macros imported without the page's
    context (forms.html's `csrf()`) reach it here."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(_form_token.get())


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
    """The posted form's text fields. Its files are read (the body's size is limited) and
    closed at once; `uploaded` gives their content."""
    form = await request.form()
    try:
        request.state.files = {
            name: await value.read()
            for name, value in form.items()
            if isinstance(value, UploadFile)
        }
    finally:
        await form.close()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def uploaded(request: Request, name: str) -> bytes:
    """The content of the file posted as field `name` (empty if none was)."""
    files: dict[str, bytes] = getattr(request.state, "files", {})
    return files.get(name, b"")


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form's fields, after its CSRF token was checked against the session."""
    fields = await form_fields(request)
    if not csrf_matches(fields.pop(CSRF_FIELD, ""), request.cookies.get(COOKIE)):
        raise Forbidden(Text("the form's CSRF token is missing or does not match this session"))
    return fields


Form = Annotated[dict[str, str], Depends(checked_form)]


def errors_by_field(exc: InvalidInput) -> dict[str, FieldError]:
    """The first error of each field, for showing it next to the field."""
    found: dict[str, FieldError] = {}
    for error in exc.errors:
        found.setdefault(error.path, error)
    return found


def nested(fields: Mapping[str, str]) -> dict[str, Any]:
    """A form's flat fields named by API paths (`invoice.currency`, `items.0.hs_code`) as the
    document the API takes; empty fields are left out, as a JSON client would leave them."""
    document: dict[str, Any] = {}
    for name, raw in fields.items():
        value = raw.strip()
        if not value:
            continue
        *parents, last = name.split(".")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                message = Text("{name} is not a field of this form", name=name)
                raise invalid(name, "unknown_field", message)
        node[last] = value
    return _lists(document)


def _lists(node: Any) -> Any:
    """Objects whose keys are all numbers become lists, in their numbers' order."""
    if not isinstance(node, dict):
        return node
    node = {key: _lists(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


def flat(document: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The inverse of `nested`: a document as a form's flat fields."""
    out: dict[str, str] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flat(value, f"{name}.")
        elif isinstance(value, list):
            out |= flat({str(n): v for n, v in enumerate(value)}, f"{name}.")
        elif value is not None:
            out[name] = str(value)
    return out


def validated(model: type[M], document: Mapping[str, Any]) -> M:
    """A document (a form's fields `nested`) as the API's input model, or InvalidInput naming
    each bad field."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput(from_validation(exc.errors())) from None


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _sign_in(request: Request, exc: SignInRequired) -> Response:
    return redirect(f"/sign-in?next={quote(request.url.path)}")


def is_page(request: Request) -> bool:
    """A person's page, not the API (nor its docs): errors are shown as pages."""
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/docs"))


def install(app: FastAPI) -> None:
    """The stylesheet and scripts under /static, the sign-in redirect for pages, and errors
    on pages shown as a page (the API's stay problem+json: the handlers already installed)."""
    app.mount(STATIC, StaticFiles(directory=str(_KIT / "static")), name="static")
    app.add_exception_handler(SignInRequired, _sign_in)  # type: ignore[arg-type]
    for kind in (OneWindowError, HTTPException, RequestValidationError):
        api_handler = app.exception_handlers[kind]

        async def handle(request: Request, exc: Exception, api_handler: Any = api_handler) -> Any:
            if not is_page(request):
                return await api_handler(request, exc)
            return _error_page(request, exc)

        app.add_exception_handler(kind, handle)


def _error_page(request: Request, exc: Exception) -> Response:
    _language(request)
    if isinstance(exc, InvalidInput):
        status, title = exc.status, exc.title
        detail = "; ".join(f"{e.path}: {i18n.gettext(e.message)}" for e in exc.errors)
    elif isinstance(exc, OneWindowError):
        status, title, detail = exc.status, exc.title, exc.detail
    elif isinstance(exc, RequestValidationError):
        errors = from_validation(exc.errors(), skip="query")
        status, title = 422, i18n.N_("The address is not valid")
        detail = "; ".join(f"{e.path}: {i18n.gettext(e.message)}" for e in errors)
    else:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        title = i18n.N_("Page not found") if status == 404 else i18n.N_("Request failed")
        detail = i18n.gettext("There is no such page.") if status == 404 else str(exc.detail)
    context = {"title": title, "detail": detail, "status": status}
    return render(request, "error.html", context, status=status)
