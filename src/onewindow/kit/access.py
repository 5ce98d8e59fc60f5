"""Who may do what: every API operation and every CLI command, each domain's in its table.

The API enforces it for every route before the body is read into a schema
(`api_deps.authorize`); the CLI in `kit.cli.acting` for the commands that take `--as`. A
command without `--as` acts on the node itself and is its host operator's alone. Services keep
their finer checks (a trader acts only for its own party; a status allows an action or not).
Each domain declares its rules in its `domain.py`; the node's own (users, database, serving)
are in `onewindow.domains`. A test walks the OpenAPI document and the command tree: an
endpoint or a command without a rule fails the build. docs/roles.md is generated from the
installed rules (`markdown()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from onewindow.kit.auth import Principal, Role
from onewindow.kit.errors import Forbidden, Text

T, OF, S, A = Role.TRADER, Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR
IA, AN = Role.ISSUING_AUTHORITY, Role.ANALYST


@dataclass(frozen=True)
class Rule:
    """`roles` may use it; `public`: no token at all (partners, anyone checking a document);
    `host`: a CLI command for the node's host operator, without `--as`; `own`: a trader only
    for its own party (the service checks which records that is); `machine`: no user at all
    but the machines it names (an e-seal vendor's platform), each sending a credential of its
    own as the bearer token that the route's service checks: without one 401, with a user's
    token 403."""

    roles: frozenset[Role] = frozenset()
    public: bool = False
    host: bool = False
    own: bool = False
    machine: str = ""

    def allows(self, role: Role) -> bool:
        return self.public or role in self.roles


def roles(*allowed: Role, own: bool = False) -> Rule:
    return Rule(frozenset(allowed), own=T in allowed and own)


def machines(who: str) -> Rule:
    """For the machines `who` names (plural: "e-seal platforms"), never for users."""
    return Rule(machine=who)


PUBLIC = Rule(public=True)
HOST = Rule(host=True)
ANY_USER = roles(*Role)
OFFICIALS = roles(OF, S, A)
SENIOR = roles(S, A)
READERS = roles(OF, S, A, AN)  # officials and analysts: reading, no change
TRADERS_OFFICIALS = roles(T, OF, S, A, own=True)
TRADERS_READERS = roles(T, OF, S, A, AN, own=True)
AUTHORITIES = roles(IA, A)


@dataclass
class Rules:
    """One domain's rules: API operations as (METHOD, path) and CLI commands as "group cmd"."""

    api: dict[tuple[str, str], Rule] = field(default_factory=dict)
    cli: dict[str, Rule] = field(default_factory=dict)


# Every installed domain's rules, put together by `install` (the composition root calls it
# through `onewindow.kit.domain.install`). Empty, every check fails closed.
API: dict[tuple[str, str], Rule] = {}
CLI: dict[str, Rule] = {}


def install(parts: list[Rules]) -> None:
    api: dict[tuple[str, str], Rule] = {}
    cli: dict[str, Rule] = {}
    for part in parts:
        twice = (api.keys() & part.api.keys()) | (cli.keys() & part.cli.keys())
        if twice:
            raise ValueError(f"two rules for {sorted(map(str, twice))}")
        api.update(part.api)
        cli.update(part.cli)
    API.clear()
    API.update(api)
    CLI.clear()
    CLI.update(cli)


def _deny(actor: Principal, what: str, rule: Rule) -> Forbidden:
    allowed = ", ".join(r.value for r in Role if r in rule.roles) or Text("the host operator")
    return Forbidden(
        Text(
            "{name} ({role}) may not use {what}; allowed: {allowed}",
            name=actor.name,
            role=actor.role.value,
            what=what,
            allowed=allowed,
        ),
        allowed=sorted(r.value for r in rule.roles),
    )


def api_rule(method: str, path: str) -> Rule | None:
    return API.get((method.upper(), path))


def check_api(actor: Principal, method: str, path: str) -> None:
    rule = api_rule(method, path)
    if rule is None or not rule.allows(actor.role):
        raise _deny(actor, f"{method} {path}", rule or Rule())


def check_command(actor: Principal, command: str) -> None:
    """For a command run with `--as` (the host operator acts as an administrator)."""
    rule = CLI.get(command)
    if rule is None or not rule.allows(actor.role):
        raise _deny(actor, f"`onewindow {command}`", rule or Rule())


def _cells(rule: Rule) -> list[str]:
    if rule.public:
        return ["public (no token)"] + [""] * len(Role)
    if rule.host:
        return ["host operator"] + [""] * len(Role)
    if rule.machine:
        return [f"{rule.machine} (their own key)"] + [""] * len(Role)
    marks = ["own party" if role is T and rule.own else "yes" for role in Role]
    return [""] + [m if role in rule.roles else "" for role, m in zip(Role, marks, strict=True)]


def markdown() -> str:
    """docs/roles.md, generated from the installed rules (a test keeps the file equal to it)."""
    header = "| | who | " + " | ".join(r.value for r in Role) + " |"
    rule_line = "|---" * (len(Role) + 2) + "|"
    out = [
        "# Roles: who may use which endpoint and command",
        "",
        "Generated by `onewindow.kit.access.markdown()` from each domain's `domain.py`; a test",
        "checks that this file equals it, and that every endpoint and command has a rule.",
        "",
        "Roles: **trader** (a company or broker, for its own party only), **officer**,",
        "**supervisor**, **administrator** (customs), **issuing_authority** (issues",
        "certificates of origin), **analyst** (reads declarations, reports, risk models and",
        "statistics; changes nothing). *public*: no token needed. *host operator*: a command",
        "without `--as` that acts on the node itself, for whoever runs it on the node's host.",
        "A command with `--as` run without it acts as the host operator, an administrator.",
        "*(their own key)*: no user, but the machines named (an e-seal vendor's platform),",
        "each with a key of its own; a user's token gets 403.",
        "Services check further: a trader only for its own party, an action only in a status",
        "that allows it.",
        "",
        "## API",
        "",
        header.replace("| |", "| endpoint |", 1),
        rule_line,
    ]
    for (method, path), rule in sorted(API.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        out.append(f"| `{method} {path}` | " + " | ".join(_cells(rule)) + " |")
    out += ["", "## CLI", "", header.replace("| |", "| command |", 1), rule_line]
    for command, rule in sorted(CLI.items()):
        out.append(f"| `onewindow {command}` | " + " | ".join(_cells(rule)) + " |")
    return "\n".join(out) + "\n"
