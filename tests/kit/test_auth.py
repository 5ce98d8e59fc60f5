"""Users and tokens: disable and enable, revoke and rotate, expiry, last use; the CLI that
does it; and a database made before migration 0009 keeps its users and tokens."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from onewindow.app import create_app
from onewindow.cli.main import app
from onewindow.kit import auth, db, migrate
from onewindow.kit.audit import AuditEvent
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import get_settings
from onewindow.kit.errors import NotAuthenticated
from onewindow.kit.node import Node

runner = CliRunner()
HEALTHY = "/api/v1/declarations"
SAMPLE = (resources.files("onewindow") / "data" / "sample_declaration.json").read_text()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


@pytest.fixture
def officer(node: Node, clock: FixedClock) -> str:
    with node.transaction() as s:
        return auth.create_user(s, "officer9", auth.Role.OFFICER, None, now=clock.now(), days=30)


def test_a_disabled_users_token_answers_401_at_once_and_works_again_when_enabled(
    node: Node, client: TestClient, officer: str
) -> None:
    assert client.get(HEALTHY, headers=bearer(officer)).status_code == 200
    with node.transaction() as s:
        auth.set_disabled(s, "officer9", True, actor="test")
    r = client.get(HEALTHY, headers=bearer(officer))
    assert r.status_code == 401 and "disabled" in r.json()["detail"]
    # On the lodging path too (its writer authenticates each batch in its transaction).
    lodged = client.post(HEALTHY, json=json.loads(SAMPLE), headers=bearer(officer))
    assert lodged.status_code == 401 and "disabled" in lodged.json()["detail"]
    with node.transaction() as s:
        auth.set_disabled(s, "officer9", False, actor="test")
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert client.get(HEALTHY, headers=bearer(officer)).status_code == 200
    assert actions[-2:] == ["user.disabled", "user.enabled"]


def test_revoked_and_rotated_tokens_answer_401(
    node: Node, client: TestClient, officer: str
) -> None:
    with node.transaction() as s:
        (first,) = auth.tokens_of(s, "officer9")
        second, _, revoked = auth.rotate_token(s, "officer9", actor="test")
    assert revoked == [first.id]
    r = client.get(HEALTHY, headers=bearer(officer))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.get(HEALTHY, headers=bearer(second)).status_code == 200
    with node.transaction() as s:
        new = [t for t in auth.tokens_of(s, "officer9") if t.revoked_at is None]
        auth.revoke_token(s, "officer9", new[0].id, actor="test")
    assert client.get(HEALTHY, headers=bearer(second)).status_code == 401


def test_an_expired_token_says_so_and_how_to_get_a_new_one(
    node: Node, client: TestClient, clock: FixedClock, officer: str
) -> None:
    clock.advance(days=29, hours=23)
    assert client.get(HEALTHY, headers=bearer(officer)).status_code == 200
    clock.advance(hours=1)
    r = client.get(HEALTHY, headers=bearer(officer))
    assert r.status_code == 401
    assert "expired" in r.json()["detail"] and "user token rotate" in r.json()["detail"]


def test_last_use_is_written_at_most_once_a_minute(
    node: Node, client: TestClient, clock: FixedClock, officer: str
) -> None:
    def last_used() -> object:
        with node.transaction() as s:
            return auth.tokens_of(s, "officer9")[0].last_used_at

    assert last_used() is None
    client.get(HEALTHY, headers=bearer(officer))
    first = clock.now()
    assert last_used() == first
    clock.advance(seconds=59)
    client.get(HEALTHY, headers=bearer(officer))
    assert last_used() == first
    clock.advance(seconds=1)
    client.get(HEALTHY, headers=bearer(officer))
    assert last_used() == clock.now()


def test_authentication_is_one_query(node: Node, officer: str, clock: FixedClock) -> None:
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    with node.transaction() as s:
        auth.authenticate(s, officer, clock.now())  # writes last use, the first time
    event.listen(node.engine, "before_cursor_execute", seen)
    try:
        with node.transaction() as s:
            actor = auth.authenticate(s, officer, clock.now())
    finally:
        event.remove(node.engine, "before_cursor_execute", seen)
    assert actor.role is auth.Role.OFFICER
    assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) == 1
    assert not [q for q in statements if q.lstrip().upper().startswith("UPDATE")]


def test_unknown_tokens_and_users(node: Node) -> None:
    with node.transaction() as s:
        with pytest.raises(NotAuthenticated, match="not valid"):
            auth.authenticate(s, "ow_forged")
        with pytest.raises(NotAuthenticated, match="send an API token"):
            auth.authenticate(s, "")
        with pytest.raises(auth.NotFound):
            auth.set_disabled(s, "nobody", True, actor="test")


# ---- the CLI ----


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ONEWINDOW_TOKEN_DAYS", "7")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_user_commands_disable_enable_list_rotate_and_revoke(env: Path) -> None:
    code, out = cli("user", "add", "lan", "--role", "trader", "--party", "0101234567", "--json")
    assert code == 0, out
    token = json.loads(out)["token"]
    code, out = cli("user", "token", "list", "lan", "--json")
    (row,) = json.loads(out)
    assert row["status"] == "active" and row["last_used_at"] is None
    created, expires = row["created_at"], row["expires_at"]
    assert expires[:10] != created[:10]  # ONEWINDOW_TOKEN_DAYS=7
    assert token not in out and auth._digest(token) not in out  # never the secret

    assert cli("user", "disable", "lan")[0] == 0
    code, out = cli("user", "list", "--json")
    assert json.loads(out)[0]["disabled_at"] is not None
    code, out = cli("declaration", "list", "--as", "lan")
    assert code != 0 and "disabled" in out
    assert cli("user", "enable", "lan")[0] == 0
    assert cli("declaration", "list", "--as", "lan")[0] == 0

    code, out = cli("user", "token", "rotate", "lan", "--json")
    rotated = json.loads(out)
    assert code == 0 and rotated["revoked"] == [row["id"]] and rotated["token"] != token
    code, out = cli("user", "token", "list", "lan")
    assert code == 0 and "revoked" in out and "active" in out
    code, out = cli("user", "token", "revoke", "lan", str(rotated["id"]), "--json")
    assert code == 0 and json.loads(out)["status"] == "revoked"
    code, out = cli("user", "token", "revoke", "lan", "999")
    assert code != 0 and "no token 999" in out


def test_user_add_lists_every_role_in_its_help_and_error(env: Path) -> None:
    code, out = cli("user", "add", "x", "--role", "king")
    assert code != 0
    said = " ".join(out.split())
    for role in auth.Role:
        assert role.value in said
    said = " ".join(cli("user", "add", "--help")[1].split())
    for role in auth.Role:
        assert role.value in said


def test_user_changes_are_audited(env: Path) -> None:
    cli("user", "add", "an", "--role", "analyst")
    cli("user", "disable", "an")
    cli("user", "token", "rotate", "an")
    node = Node.open()
    with node.transaction() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")).all()
        actions = [(e.action, e.entity_id, e.actor.startswith("cli:")) for e in events]
    node.engine.dispose()
    assert actions == [
        ("user.created", "an", True),
        ("user.disabled", "an", True),
        ("user.token_rotated", "an", True),
    ]


# ---- migration 0009 ----


def test_tokens_made_before_0009_keep_working_with_an_expiry(engine: Engine) -> None:
    cfg = migrate.alembic_config(engine)
    command.downgrade(cfg, "0007_witness_acks")
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, username, role, party_id) "
                              "VALUES (1, 'old', 'OFFICER', NULL)"))  # fmt: skip
            conn.execute(
                text("INSERT INTO api_tokens (id, user_id, token_sha256) VALUES (1, 1, :h)"),
                {"h": auth._digest("ow_old")},
            )
    finally:
        command.upgrade(cfg, "heads")
    with db.transaction(db.session_factory(engine)) as s:
        actor = auth.authenticate(s, "ow_old")
        (row,) = auth.tokens_of(s, "old")
        user = auth.get_user(s, "old")
    assert actor.name == "old" and actor.role is auth.Role.OFFICER
    assert row.expires_at - row.created_at == timedelta(days=30)
    assert user.disabled_at is None


def test_tokens_of_requests_together_are_checked_in_one_query(
    node: Node, officer: str, clock: FixedClock
) -> None:
    with node.transaction() as s:
        other = auth.create_user(s, "gone", auth.Role.TRADER, "0309999999", now=clock.now())
        auth.set_disabled(s, "gone", True, actor="test")
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(node.engine, "before_cursor_execute", seen)
    try:
        with node.transaction() as s:
            found = auth.authenticate_many(s, [officer, other, "ow_forged", None, officer])
    finally:
        event.remove(node.engine, "before_cursor_execute", seen)
    assert found[officer] == auth.Principal("officer9", auth.Role.OFFICER)
    assert "disabled" in str(found[other]) and "not valid" in str(found["ow_forged"])
    assert isinstance(found[None], NotAuthenticated)
    assert len([q for q in statements if "api_tokens" in q and "SELECT" in q.upper()]) == 1


def test_a_request_authenticates_its_caller_once(
    node: Node, client: TestClient, officer: str
) -> None:
    client.get(HEALTHY, headers=bearer(officer))  # the first use writes last_used_at
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(node.engine, "before_cursor_execute", seen)
    try:
        assert client.get(HEALTHY, headers=bearer(officer)).status_code == 200
    finally:
        event.remove(node.engine, "before_cursor_execute", seen)
    assert len([q for q in statements if "api_tokens" in q]) == 1


def test_a_token_disabled_after_a_first_request_is_refused_by_every_endpoint(
    node: Node, client: TestClient, officer: str
) -> None:
    # The first request's check is remembered for the role check of the next ones; each
    # handler still authenticates in its own transaction, so disabling is felt at once.
    assert client.get(HEALTHY, headers=bearer(officer)).status_code == 200
    with node.transaction() as s:
        auth.set_disabled(s, "officer9", True, actor="test")
    for method, path, body in (
        ("GET", HEALTHY, None),
        ("GET", "/api/v1/declarations/X1", None),
        ("POST", "/api/v1/declarations/X1/release", None),
        ("POST", "/api/v1/declarations/X1/cancellation", {"reason": "no"}),
        ("GET", "/api/v1/reports/clearance", None),
        ("GET", "/api/v1/exchange/stats", None),
        ("GET", "/api/v1/risk/models", None),
        ("GET", "/api/v1/tariff/lines", None),
    ):
        r = client.request(method, path, json=body, headers=bearer(officer))
        assert r.status_code == 401, (method, path, r.status_code)
