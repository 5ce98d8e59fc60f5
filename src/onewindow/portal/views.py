"""The portals' shell: signing in and out, and each role's start page."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from onewindow.kit import i18n, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import FieldError, InvalidInput, NotAuthenticated, NotFound, Text
from onewindow.portal import service

router = APIRouter(include_in_schema=False)
PRE_SESSION = "ow_pre"  # the sign-in form's CSRF cookie, before there is a session


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an address elsewhere (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return parts.path or "/"


def _sign_in_page(request: Request, status: int = 200, **context: Any) -> Response:
    token = request.cookies.get(PRE_SESSION) or secrets.token_urlsafe(24)
    response = web.render(
        request, "portal/sign_in.html", {"pre_token": web.csrf(token), **context}, status=status
    )
    response.set_cookie(PRE_SESSION, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")  # fmt: skip
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str = "/") -> Response:
    return _sign_in_page(request, next=_safe_next(next), errors={}, username="")


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    fields = await web.form_fields(request)
    username, password = fields.get("username", ""), fields.get("password", "")
    target = _safe_next(fields.get("next"))
    if not web.csrf_matches(fields.get(web.CSRF_FIELD, ""), request.cookies.get(PRE_SESSION)):
        error = FieldError("username", "csrf", Text("the form expired: sign in again"))
        return _sign_in_page(request, 400, next=target, errors={"username": error},
                             username=username)  # fmt: skip
    missing = [
        FieldError(name, "required", message)
        for name, message in (
            ("username", Text("enter your username")),
            ("password", Text("enter your password")),
        )
        if not fields.get(name)
    ]
    node = node_of(request)
    try:
        if missing:
            raise InvalidInput(missing)
        with node.transaction() as session:
            token = service.sign_in(session, username, password, node.clock.now())
    except InvalidInput as exc:
        return _sign_in_page(request, 400, next=target, errors=web.errors_by_field(exc),
                             username=username)  # fmt: skip
    except NotAuthenticated as exc:
        error = FieldError("username", "not_authenticated", exc.detail)
        return _sign_in_page(request, 401, next=target, errors={"username": error},
                             username=username)  # fmt: skip
    response = web.redirect(target)
    response.set_cookie(web.COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")  # fmt: skip
    response.delete_cookie(PRE_SESSION)
    return response


@router.post("/sign-out")
def sign_out(request: Request, user: web.PageUser, form: web.Form) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        service.sign_out(session, request.cookies.get(web.COOKIE, ""), node.clock.now())
    response = web.redirect("/sign-in")
    response.delete_cookie(web.COOKIE, path="/")
    return response


@router.get("/language/{language}")
def language(request: Request, language: str, next: str = "/") -> Response:
    """Switch the portals' language (a cookie for a year), and go back to the page."""
    if language not in i18n.LANGUAGES:
        raise NotFound(
            Text(
                "no language {language!r}: one of {languages}",
                language=language,
                languages=", ".join(i18n.LANGUAGES),
            )
        )
    response = web.redirect(_safe_next(next))
    response.set_cookie(i18n.COOKIE, language, max_age=365 * 86400, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")  # fmt: skip
    return response


@router.get("/")
def home(request: Request, user: web.PageUser) -> Response:
    node = node_of(request)
    return web.render(request, "portal/home.html", {"country": node.settings.country}, user=user)
