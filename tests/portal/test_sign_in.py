"""Signing in and out of the portals: passwords, the session cookie, CSRF, a disabled user."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from typer.testing import CliRunner

from onewindow.app import create_app
from onewindow.cli.main import app as cli
from onewindow.kit import auth, i18n, web
from onewindow.kit.audit import AuditEvent
from onewindow.kit.config import get_settings
from onewindow.kit.errors import InvalidInput, NotAuthenticated
from onewindow.kit.node import Node
from onewindow.portal import Password, service

PASSWORD = "correct horse battery"


@pytest.fixture
def client(node: Node) -> TestClient:
    with node.transaction() as s:
        auth.create_user(s, "saigon", auth.Role.TRADER, "0101234567")
        service.set_password(s, "saigon", PASSWORD, node.clock.now())
    return TestClient(create_app(node), raise_server_exceptions=False)


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _sign_in(client: TestClient, password: str = PASSWORD, next: str = "/") -> Response:
    form = client.get("/sign-in").text
    data = {"csrf_token": _token(form), "username": "saigon", "password": password, "next": next}
    return client.post("/sign-in", data=data, follow_redirects=False)


def test_a_page_sends_a_stranger_to_sign_in_and_back(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sign-in?next=/"
    signed = _sign_in(client)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    home = client.get("/")
    assert home.status_code == 200 and "Signed in as <strong>saigon</strong>" in home.text
    policy = home.headers["content-security-policy"]  # nothing inline, nothing from elsewhere
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    assert (
        "frame-ancestors 'none'" in policy and home.headers["x-content-type-options"] == "nosniff"
    )


def test_a_wrong_password_or_unknown_user_says_the_same_and_sets_no_session(
    client: TestClient,
) -> None:
    wrong = _sign_in(client, "not the password")
    assert wrong.status_code == 401
    assert service.WRONG in wrong.text and web.COOKIE not in client.cookies
    # the error summary links to the field, GOV.UK style
    assert 'href="#username"' in wrong.text
    form = client.get("/sign-in").text
    data = {"csrf_token": _token(form), "username": "nobody", "password": PASSWORD}
    unknown = client.post("/sign-in", data=data)
    assert unknown.status_code == 401 and service.WRONG in unknown.text


def test_empty_fields_are_named(client: TestClient) -> None:
    form = client.get("/sign-in").text
    r = client.post("/sign-in", data={"csrf_token": _token(form), "username": "", "password": ""})
    assert r.status_code == 400
    assert "enter your username" in r.text and "enter your password" in r.text


def test_the_sign_in_messages_in_vietnamese(client: TestClient) -> None:
    client.cookies.set(i18n.COOKIE, "vi")
    wrong = _sign_in(client, "not the password")
    assert wrong.status_code == 401 and "tên đăng nhập hoặc mật khẩu không đúng" in wrong.text
    form = client.get("/sign-in").text
    r = client.post("/sign-in", data={"csrf_token": _token(form), "username": "", "password": ""})
    assert "hãy nhập tên đăng nhập" in r.text and "hãy nhập mật khẩu" in r.text
    expired = client.post("/sign-in", data={"csrf_token": "stale", "username": "saigon"})
    assert expired.status_code == 400 and "biểu mẫu đã hết hạn: hãy đăng nhập lại" in expired.text
    unknown = client.get("/language/fr")
    assert unknown.status_code == 404 and "không có ngôn ngữ &#39;fr&#39;" in unknown.text


def test_sign_in_without_its_form_token_is_refused(client: TestClient) -> None:
    client.get("/sign-in")
    data = {"csrf_token": "forged", "username": "saigon", "password": PASSWORD}
    r = client.post("/sign-in", data=data, follow_redirects=False)
    assert r.status_code == 400 and web.COOKIE not in client.cookies


def test_next_never_leaves_the_site(client: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "evil"):
        client.cookies.clear()
        r = _sign_in(client, next=target)
        assert r.headers["location"] == "/"


def test_sign_out_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    _sign_in(client)
    session = client.cookies[web.COOKIE]
    forged = client.post("/sign-out", data={"csrf_token": "x"}, follow_redirects=False)
    assert forged.status_code == 403 and client.get("/").status_code == 200
    out = client.post("/sign-out", data={"csrf_token": web.csrf(session)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    client.cookies.set(web.COOKIE, session)  # a kept copy of the cookie opens nothing
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_user_is_out_at_once(node: Node, client: TestClient) -> None:
    _sign_in(client)
    assert client.get("/").status_code == 200
    with node.transaction() as s:
        auth.set_disabled(s, "saigon", True, actor="admin")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert _sign_in(client).status_code == 401


def test_passwords_are_salted_hashes_and_short_ones_refused(node: Node) -> None:
    with node.transaction() as s:
        auth.create_user(s, "officer1", auth.Role.OFFICER, None)
        with pytest.raises(InvalidInput) as short:
            service.set_password(s, "officer1", "short", node.clock.now())
        assert short.value.errors[0].code == "too_short"
        service.set_password(s, "officer1", PASSWORD, node.clock.now())
        stored = s.scalars(select(Password)).all()
        assert len({p.salt for p in stored}) == len(stored)
        assert all(PASSWORD.encode() not in p.digest for p in stored)
        with pytest.raises(NotAuthenticated):
            service.sign_in(s, "officer1", PASSWORD + "x", node.clock.now())
        assert service.sign_in(s, "officer1", PASSWORD, node.clock.now()).startswith("ow_")
        signed = select(func.count()).where(AuditEvent.action == "portal.signed_in")
        assert s.scalar(signed) == 1


def test_the_password_command(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the node's own database (SQLite or PostgreSQL), as its host operator would."""
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", node.settings.database_url)
    get_settings.cache_clear()
    with node.transaction() as s:
        auth.create_user(s, "hanoi", auth.Role.TRADER, "0309999999")
    runner = CliRunner()
    ok = runner.invoke(cli, ["portal", "password", "hanoi", "--password-stdin", "--json"],
                       input=PASSWORD + "\n")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert '"password": "set"' in ok.stdout
    short = runner.invoke(cli, ["portal", "password", "hanoi", "--password-stdin"], input="abc\n")
    assert short.exit_code == 2 and "too_short" in short.output
    unknown = runner.invoke(cli, ["portal", "password", "nobody", "--password-stdin"],
                            input=PASSWORD + "\n")  # fmt: skip
    assert unknown.exit_code == 2
    with node.transaction() as s:
        assert service.sign_in(s, "hanoi", PASSWORD, node.clock.now())
    get_settings.cache_clear()
