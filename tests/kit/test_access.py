"""Every endpoint and every command has a rule in onewindow.kit.access, and the rules hold: each
role is tried on each operation (403 when denied; when allowed neither 401 nor 403, nor 500)
and on each command that takes `--as` (denied: non-zero exit naming `forbidden`)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from typer._click.core import Command
from typer.core import TyperGroup as Group
from typer.testing import CliRunner

from onewindow import domains
from onewindow.app import create_app
from onewindow.cli.main import _load, app, commands
from onewindow.kit import access, auth, web
from onewindow.kit.config import get_settings
from onewindow.kit.domain import load
from onewindow.kit.node import Node

DATA = resources.files("onewindow") / "data"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
PARTY = "0101234567"  # the declarant of the sample declaration
METHODS = {"get", "post", "put", "patch", "delete"}


def operations(node: Node) -> list[tuple[str, str]]:
    """The API's operations, from its OpenAPI document."""
    spec = create_app(node).openapi()
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    ]


def pages() -> list[tuple[str, str]]:
    """The portals' pages, from every domain's views (they are not in the OpenAPI document)."""
    return [
        (method, route.path)
        for each in domains.DOMAINS
        for target in each.views
        for route in load(target).routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    ]


def command_tree() -> dict[str, Command]:
    """Every command of the CLI by its path (`declaration acdd-cancel`), groups loaded."""
    found: dict[str, Command] = {}

    def walk(prefix: str, command: Command) -> None:
        if isinstance(command, Group):
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}", sub)
        else:
            found[prefix] = command

    for name, command in commands().items():
        walk(name, _load(command.target, name))
    return found


def takes_as(command: Command) -> bool:
    return any("--as" in getattr(p, "opts", ()) for p in command.params)


# ---- every endpoint and command has a rule ----


def test_every_operation_has_a_rule_and_every_rule_an_operation(node: Node) -> None:
    ops = operations(node) + pages()
    missing = [op for op in ops if op not in access.API]
    assert missing == [], f"add these to onewindow.kit.access.API: {missing}"
    stale = [op for op in access.API if op not in ops]
    assert stale == [], f"rules for endpoints that do not exist: {stale}"


def test_every_command_has_a_rule_and_every_rule_a_command() -> None:
    tree = command_tree()
    missing = sorted(set(tree) - set(access.CLI))
    assert missing == [], f"add these to onewindow.kit.access.CLI: {missing}"
    assert sorted(set(access.CLI) - set(tree)) == []
    for path, command in tree.items():
        rule = access.CLI[path]
        # A command with --as follows roles; one without acts on the node (host operator).
        assert rule.host is not takes_as(command), path
        assert not rule.public, path


def test_the_host_operator_is_allowed_wherever_roles_are() -> None:
    # A command with --as run without it acts as an administrator.
    for rule in [*access.API.values(), *access.CLI.values()]:
        assert rule.public or rule.host or rule.machine or auth.Role.ADMINISTRATOR in rule.roles


def test_docs_roles_md_is_generated_from_the_rules() -> None:
    assert (ROOT / "docs" / "roles.md").read_text() == access.markdown()


def test_analysts_change_nothing_and_the_issuing_authority_reads_no_declaration() -> None:
    for (method, path), rule in access.API.items():
        if auth.Role.ANALYST in rule.roles and rule is not access.ANY_USER:
            assert method == "GET", path
        if path.startswith(("/api/v1/declarations", "/api/v1/reports")):
            assert auth.Role.ISSUING_AUTHORITY not in rule.roles, path


# ---- the API: every operation with every role ----


@pytest.fixture
def users(node: Node) -> dict[auth.Role, str]:
    with node.transaction() as s:
        return {
            role: auth.create_user(
                s, f"walk-{role.value}", role, PARTY if role is auth.Role.TRADER else None
            )
            for role in auth.Role
        }


def _call(client: TestClient, method: str, path: str, token: str | None) -> Any:
    url = re.sub(r"\{[a-z_]+\}", "X1", path.replace("{country}", "TH"))  # any other parameter
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, url, json=body, headers=headers)


def test_every_operation_with_every_role(node: Node, users: dict[auth.Role, str]) -> None:
    client = TestClient(create_app(node), raise_server_exceptions=False)
    wrong: list[str] = []
    for method, path in operations(node):
        rule = access.API[(method, path)]
        anonymous = _call(client, method, path, None).status_code
        if (anonymous == 401) is rule.public or anonymous == 500:
            wrong.append(f"{method} {path} without a token: {anonymous}")
        for role, token in users.items():
            r = _call(client, method, path, token)
            if r.status_code == 500:
                wrong.append(f"{method} {path} as {role.value}: 500")
            elif rule.allows(role) and r.status_code in (401, 403):
                wrong.append(f"{method} {path} as {role.value}: {r.status_code} {r.text[:120]}")
            elif not rule.allows(role) and (
                r.status_code != 403 or r.json()["code"] != "forbidden"
            ):
                wrong.append(f"{method} {path} as {role.value}: {r.status_code}, not 403")
    assert wrong == [], "\n".join(wrong)


def test_operations_for_machines_take_their_key_and_no_user(
    node: Node, users: dict[auth.Role, str]
) -> None:
    """A machine's route (an e-seal platform's) is walked like the others above: no key 401,
    every user's token 403. Here: a key that is no user's token gets past the role check to
    the route's own check of the machine's key, which refuses an unknown one with 401."""
    client = TestClient(create_app(node), raise_server_exceptions=False)
    machine_ops = [op for op in operations(node) if access.API[op].machine]
    assert machine_ops, "no operation for machines to walk"
    for method, path in machine_ops:
        assert access.API[(method, path)].roles == frozenset(), path
        r = _call(client, method, path, "owp_not-a-key-anyone-has")
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated", (path, r.text)
        denied = _call(client, method, path, users[auth.Role.ADMINISTRATOR])
        assert denied.status_code == 403 and "not for users" in denied.json()["detail"], path
    assert not any(access.API[page].machine for page in pages())


def test_every_page_with_every_role(node: Node) -> None:
    """Signed in (a session cookie, a form with its CSRF token), each role gets its pages and
    403 elsewhere; signed out, every page but the public ones sends to the sign-in page."""
    client = TestClient(create_app(node), raise_server_exceptions=False)
    with node.transaction() as s:
        for role in auth.Role:
            party = PARTY if role is auth.Role.TRADER else None
            auth.create_user(s, f"page-{role.value}", role, party)

    def session_of(role: auth.Role) -> str:  # a new one each time: signing out revokes it
        with node.transaction() as s:
            return auth.issue_token(s, auth.get_user(s, f"page-{role.value}"), days=1)[0]

    wrong: list[str] = []
    for method, path in pages():
        rule = access.API[(method, path)]
        url = re.sub(r"\{[a-z_]+\}", "X1", path)
        client.cookies.clear()
        anonymous = client.request(method, url, follow_redirects=False)
        to_sign_in = anonymous.status_code == 303 and anonymous.headers["location"].startswith(
            "/sign-in?"
        )
        if not rule.public and not to_sign_in:
            wrong.append(f"{method} {path} signed out: {anonymous.status_code}")
        for role in auth.Role:
            token = session_of(role)
            client.cookies.set(web.COOKIE, token)
            form = {web.CSRF_FIELD: web.csrf(token)} if method == "POST" else None
            r = client.request(method, url, data=form, follow_redirects=False)
            if r.status_code >= 500 or (rule.allows(role) and r.status_code == 403):
                wrong.append(f"{method} {path} as {role.value}: {r.status_code}")
            elif not rule.allows(role) and r.status_code != 403:
                wrong.append(f"{method} {path} as {role.value}: {r.status_code}, not 403")
    assert wrong == [], "\n".join(wrong)


def test_a_denied_role_gets_403_before_its_body_is_validated(
    node: Node, users: dict[auth.Role, str]
) -> None:
    client = TestClient(create_app(node), raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {users[auth.Role.ISSUING_AUTHORITY]}"}
    lodged = client.post("/api/v1/declarations", json={"junk": 1}, headers=headers)
    assert lodged.status_code == 403 and "issuing_authority" in lodged.json()["detail"]
    read = client.get("/api/v1/declarations", headers=headers)
    assert read.status_code == 403
    # No token at all: 401 before the field errors of an invalid body.
    assert client.post("/api/v1/declarations", json={"junk": 1}).status_code == 401


# ---- the CLI: every command with --as, with every role ----

SAMPLE = str(DATA / "sample_declaration.json")
FORM_D = str(DATA / "sample_form_d_application.json")
# Arguments that get each command past its own input checks, to the role check.
ARGS: dict[str, list[str]] = {
    "declaration submit": [SAMPLE],
    "declaration show": ["X1"],
    "declaration list": [],
    "declaration history": ["X1"],
    "declaration amend": ["X1", SAMPLE],
    "declaration cancel": ["X1", "a reason"],
    "declaration pay": ["X1", "1", "--reference", "R1"],
    "declaration check": ["X1", "accept"],
    "declaration inspect": ["X1", "compliant"],
    "declaration release": ["X1"],
    "declaration acdd-cancel": ["X1", "--reason", "a reason"],
    "declaration open": ["X1"],
    "declaration request-amendment": ["X1", SAMPLE, "--reason", "a reason"],
    "declaration amendment-requests": ["X1"],
    "declaration decide-amendment": ["X1", "1", "accept"],
    "declaration clearance": [],
    "origin issue": [FORM_D],
    "origin replace": ["X1", FORM_D],
    "origin cancel": ["X1", "--reason", "a reason"],
    "origin transmit": ["X1"],
    "origin verify-request": ["X1", "--reason", "a reason"],
    "origin verify-answer": ["X1", "confirmed", "--note", "a note"],
    "ledger acknowledge": ["TH", "--note", "looked into"],
    "transit trader register": ["0101234567", "--name", "Saigon Trading"],
    "transit trader show": ["0101234567"],
    "transit trader list": [],
    "transit guarantee add": ["missing.json"],
    "transit guarantee show": ["X1"],
    "transit declare": ["missing.json"],
    "transit release": ["X1"],
    "transit show": ["X1"],
    "transit list": [],
    "transit cancel": ["X1", "--reason", "a reason"],
    "transit cross": ["X1", "--office", "VNHAN"],
    "transit arrive": ["X1", "--office", "VNHAN"],
    "transit unload": ["X1"],
    "transit discharge": ["X1", "--note", "a note"],
    "transit recover": ["X1", "--note", "a note"],
    "tariff publish": [],
    "tariff partners": [],
}


@pytest.fixture
def cli_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[auth.Role, str]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    node = Node.open()
    with node.transaction() as s:
        for role in auth.Role:
            party = PARTY if role is auth.Role.TRADER else None
            auth.create_user(s, f"as-{role.value}", role, party)
    node.engine.dispose()
    yield {role: f"as-{role.value}" for role in auth.Role}
    get_settings.cache_clear()


def test_every_command_with_as_and_every_role(cli_users: dict[auth.Role, str]) -> None:
    tree = command_tree()
    with_as = sorted(p for p, c in tree.items() if takes_as(c))
    assert sorted(ARGS) == with_as, "give each command with --as its arguments in ARGS"
    wrong: list[str] = []
    for path in with_as:
        rule = access.CLI[path]
        for role, username in cli_users.items():
            result = runner.invoke(app, [*path.split(), *ARGS[path], "--as", username])
            said = " ".join(result.output.lower().split())
            denied = "forbidden" in said and f"onewindow {path}" in said
            if rule.allows(role) and denied:
                wrong.append(f"{path} --as {role.value}: refused")
            if not rule.allows(role) and (result.exit_code == 0 or not denied):
                wrong.append(f"{path} --as {role.value}: exit {result.exit_code}, {said[:100]}")
    assert wrong == [], "\n".join(wrong)


def test_a_trader_may_not_cancel_an_acdd(cli_users: dict[auth.Role, str]) -> None:
    result = runner.invoke(
        app, ["declaration", "acdd-cancel", "X1", "--reason", "mine", "--as", "as-trader"]
    )
    assert result.exit_code != 0 and "forbidden" in result.output
