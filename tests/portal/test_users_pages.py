"""Users and roles in the portals: an administrator adds a user, sets their password,
disables them (their session is out at once) and enables them; each change is audited under
the administrator's name; bad input is named next to its field with nothing saved; other
roles get 403."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.pages import form_token, post

from onewindow.app import create_app
from onewindow.kit import auth, i18n, web
from onewindow.kit.audit import AuditEvent
from onewindow.kit.node import Node
from onewindow.portal import service

PASSWORD = "correct horse battery"


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def admin(node: Node) -> str:
    with node.transaction() as s:
        return auth.create_user(s, "admin1", auth.Role.ADMINISTRATOR, None)


def users(node: Node) -> int:
    with node.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(auth.User)) or 0)


def audited(node: Node, action: str, username: str) -> list[str]:
    """The actors of the audit events `action` on the user."""
    with node.transaction() as s:
        stmt = select(AuditEvent.actor).where(
            AuditEvent.action == action, AuditEvent.entity_id == username
        )
        return list(s.scalars(stmt))


def test_an_administrator_adds_a_user_who_signs_in_until_disabled(
    node: Node, client: TestClient, admin: str
) -> None:
    client.cookies.set(web.COOKIE, admin)
    listed = client.get("/users")
    assert listed.status_code == 200 and "admin1" in listed.text
    assert '<a href="/users">Users</a>' in listed.text  # in the navigation
    added = post(client, "/users", {"username": "haiphong", "role": "trader",
                                    "party_id": "0200000001"}, "/users")  # fmt: skip
    assert added.status_code == 200, added.text
    token = re.search(r"<code[^>]*>(ow_[^<]+)</code>", added.text)
    assert token is not None  # the API token, shown once
    assert audited(node, "user.created", "haiphong") == ["admin1"]
    row = client.get("/users").text
    assert re.search(r"haiphong</a></td>\s*<td>trader</td>\s*<td>0200000001</td>", row)

    page = "/users/haiphong"
    short = post(client, f"{page}/password", {"password": "short", "confirm": "short"}, page)
    assert short.status_code == 422 and 'href="#password"' in short.text
    differ = post(client, f"{page}/password", {"password": PASSWORD, "confirm": "x"}, page)
    assert differ.status_code == 422 and 'href="#confirm"' in differ.text
    with node.transaction() as s:
        assert service.passwords_set(s) == {}  # nothing saved
    done = post(client, f"{page}/password", {"password": PASSWORD, "confirm": PASSWORD}, page)
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=password"
    assert audited(node, "portal.password_set", "haiphong") == ["admin1"]

    # The new user signs in to the portals with that password.
    trader = TestClient(create_app(node), raise_server_exceptions=False)
    form = trader.get("/sign-in").text
    fields = {"csrf_token": form_token(form, "/sign-in"), "username": "haiphong",
              "password": PASSWORD}  # fmt: skip
    signed = trader.post("/sign-in", data=fields, follow_redirects=False)
    assert signed.status_code == 303 and trader.get("/").status_code == 200
    assert trader.get("/users").status_code == 403  # administrators only

    off = post(client, f"{page}/disable", {}, page)
    assert off.status_code == 303
    assert "disabled" in client.get(off.headers["location"]).text
    assert audited(node, "user.disabled", "haiphong") == ["admin1"]
    # Out at once: the session no longer opens a page, nor does the API token.
    out = trader.get("/", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/sign-in")
    api = trader.get("/api/v1/declarations", headers={"Authorization": f"Bearer {token[1]}"})
    assert api.status_code == 401

    on = post(client, f"{page}/enable", {}, page)
    assert on.status_code == 303 and trader.get("/").status_code == 200
    assert audited(node, "user.enabled", "haiphong") == ["admin1"]


def test_bad_input_is_named_next_to_its_field_and_nothing_is_saved(
    node: Node, client: TestClient, admin: str
) -> None:
    client.cookies.set(web.COOKIE, admin)
    before = users(node)
    no_party = post(client, "/users", {"username": "x1", "role": "trader"}, "/users")
    assert no_party.status_code == 422 and 'href="#party_id"' in no_party.text
    assert 'value="x1"' in no_party.text  # what was typed is kept
    no_role = post(client, "/users", {"username": "x2", "role": "king"}, "/users")
    assert no_role.status_code == 422 and 'id="role-error"' in no_role.text
    blank = post(client, "/users", {"username": "", "role": "officer"}, "/users")
    assert blank.status_code == 422 and 'href="#username"' in blank.text
    hidden = post(client, "/users", {"username": "a\u202eb", "role": "officer"}, "/users")
    assert hidden.status_code == 422 and 'href="#username"' in hidden.text
    twice = post(client, "/users", {"username": "admin1", "role": "officer"}, "/users")
    assert twice.status_code == 409 and "already exists" in twice.text
    assert users(node) == before
    missing = post(client, "/users/nobody/disable", {})
    assert missing.status_code == 404 and "<html" in missing.text
    client.cookies.set(i18n.COOKIE, "vi")  # the same refusals, in Vietnamese
    twice = post(client, "/users", {"username": "admin1", "role": "officer"}, "/users")
    assert twice.status_code == 409 and "người dùng &#39;admin1&#39; đã tồn tại" in twice.text
    hidden = post(client, "/users", {"username": "a\u202eb", "role": "officer"}, "/users")
    assert "không được dùng ký tự điều khiển" in hidden.text
    no_party = post(client, "/users", {"username": "x1", "role": "trader"}, "/users")
    assert "doanh nghiệp cần có mã số của bên mà họ đại diện" in no_party.text
    missing = client.get("/users/nobody")
    assert missing.status_code == 404 and "không có người dùng &#39;nobody&#39;" in missing.text
    short = post(client, "/users/admin1/password", {"password": "short", "confirm": "short"})
    assert short.status_code == 422 and "ít nhất 12 ký tự" in short.text
    assert users(node) == before


def test_other_roles_get_403_and_a_forged_form_changes_nothing(
    node: Node, client: TestClient, admin: str, tokens: dict[str, str]
) -> None:
    for role in ("supervisor", "officer", "trader"):
        client.cookies.set(web.COOKIE, tokens[role])
        assert client.get("/users").status_code == 403
        r = client.post("/users/saigon/disable", data={"csrf_token": web.csrf(tokens[role])})
        assert r.status_code == 403
        assert "Users" not in client.get("/").text.split("<main")[0]  # not in their navigation
    client.cookies.set(web.COOKIE, admin)
    forged = client.post("/users/saigon/disable", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    with node.transaction() as s:
        assert auth.get_user(s, "saigon").disabled_at is None
