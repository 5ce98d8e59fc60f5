"""Who may do what: every API operation and every CLI command, in one table.

The API enforces it for every route before the body is read into a schema
(`api_deps.authorize`); the CLI in `cli.output.acting` for the commands that take `--as`. A
command without `--as` acts on the node itself and is its host operator's alone. Services keep
their finer checks (a trader acts only for its own party; a status allows an action or not).
A test walks the OpenAPI document and the command tree: an endpoint or a command without a rule
here fails the build. docs/roles.md is generated from this table (`markdown()`).
"""

from __future__ import annotations

from dataclasses import dataclass

from onewindow.kit.auth import Principal, Role
from onewindow.kit.errors import Forbidden

T, OF, S, A = Role.TRADER, Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR
IA, AN = Role.ISSUING_AUTHORITY, Role.ANALYST


@dataclass(frozen=True)
class Rule:
    """`roles` may use it; `public`: no token at all (partners, anyone checking a document);
    `host`: a CLI command for the node's host operator, without `--as`; `own`: a trader only
    for its own party (the service checks which records that is)."""

    roles: frozenset[Role] = frozenset()
    public: bool = False
    host: bool = False
    own: bool = False

    def allows(self, role: Role) -> bool:
        return self.public or role in self.roles


def roles(*allowed: Role, own: bool = False) -> Rule:
    return Rule(frozenset(allowed), own=T in allowed and own)


PUBLIC = Rule(public=True)
HOST = Rule(host=True)
ANY_USER = roles(*Role)
OFFICIALS = roles(OF, S, A)
SENIOR = roles(S, A)
READERS = roles(OF, S, A, AN)  # officials and analysts: reading, no change
TRADERS_OFFICIALS = roles(T, OF, S, A, own=True)
TRADERS_READERS = roles(T, OF, S, A, AN, own=True)
AUTHORITIES = roles(IA, A)

DECLARATION = "/api/v1/declarations/{number}"
CERTIFICATE = "/api/v1/origin/certificates/{reference}"

API: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/health"): PUBLIC,
    # declarations
    ("POST", "/api/v1/declarations"): TRADERS_OFFICIALS,
    ("GET", "/api/v1/declarations"): TRADERS_READERS,
    ("GET", DECLARATION): TRADERS_READERS,
    ("GET", f"{DECLARATION}/history"): TRADERS_READERS,
    ("PUT", DECLARATION): TRADERS_OFFICIALS,
    ("POST", f"{DECLARATION}/cancellation"): TRADERS_OFFICIALS,
    ("POST", f"{DECLARATION}/payment"): TRADERS_OFFICIALS,
    ("POST", f"{DECLARATION}/document-check"): OFFICIALS,
    ("POST", f"{DECLARATION}/inspection"): OFFICIALS,
    ("POST", f"{DECLARATION}/release"): OFFICIALS,
    ("POST", f"{DECLARATION}/opening"): OFFICIALS,
    ("POST", f"{DECLARATION}/amendment-requests"): TRADERS_OFFICIALS,
    ("GET", f"{DECLARATION}/amendment-requests"): TRADERS_READERS,
    ("POST", f"{DECLARATION}/amendment-requests/{{request_id}}/decision"): OFFICIALS,
    ("GET", "/api/v1/reports/clearance"): READERS,
    # tariff and rates: public facts, but only for the node's users
    ("GET", "/api/v1/tariff/lines"): ANY_USER,
    ("GET", "/api/v1/tariff/lines/{code}"): ANY_USER,
    ("GET", "/api/v1/rates/{currency}"): ANY_USER,
    # certificates of origin
    ("POST", "/api/v1/origin/certificates"): AUTHORITIES,
    ("GET", CERTIFICATE): roles(T, OF, S, A, IA, own=True),
    ("POST", f"{CERTIFICATE}/transmission"): roles(T, IA, A, own=True),
    ("POST", f"{CERTIFICATE}/cancellation"): AUTHORITIES,
    # risk
    ("GET", "/api/v1/risk/models"): READERS,
    ("POST", "/api/v1/risk/models/{version}/activation"): SENIOR,
    # exchange: partners authenticate each envelope by its signature
    ("POST", "/exchange/v1/messages"): PUBLIC,
    ("GET", "/api/v1/exchange/messages"): OFFICIALS,
    ("GET", "/api/v1/exchange/stats"): READERS,
    ("GET", "/api/v1/exchange/partners"): OFFICIALS,
    # ledger: public like a Certificate Transparency log, but for acknowledging alarms
    ("GET", "/api/v1/ledger/head"): PUBLIC,
    ("GET", "/api/v1/ledger/proof/{document_id}"): PUBLIC,
    ("GET", "/api/v1/ledger/proofs/{document_id}"): PUBLIC,
    ("GET", "/api/v1/ledger/consistency"): PUBLIC,
    ("GET", "/api/v1/ledger/witnesses"): PUBLIC,
    ("GET", "/api/v1/ledger/alarms"): PUBLIC,
    ("GET", "/api/v1/ledger/cosignatures"): PUBLIC,
    ("POST", "/api/v1/ledger/verify"): PUBLIC,
    ("POST", "/api/v1/ledger/witnesses/{country}/acknowledgement"): SENIOR,
    ("POST", "/api/v1/ledger/check"): SENIOR,
}

CLI: dict[str, Rule] = {
    # declarations: the commands with --as follow the API's rules
    "declaration submit": TRADERS_OFFICIALS,
    "declaration show": TRADERS_READERS,
    "declaration list": TRADERS_READERS,
    "declaration history": TRADERS_READERS,
    "declaration amend": TRADERS_OFFICIALS,
    "declaration cancel": TRADERS_OFFICIALS,
    "declaration pay": TRADERS_OFFICIALS,
    "declaration check": OFFICIALS,
    "declaration inspect": OFFICIALS,
    "declaration release": OFFICIALS,
    "declaration acdd-cancel": OFFICIALS,
    "declaration open": OFFICIALS,
    "declaration request-amendment": TRADERS_OFFICIALS,
    "declaration amendment-requests": TRADERS_READERS,
    "declaration decide-amendment": OFFICIALS,
    "declaration clearance": READERS,
    "declaration pre-arrivals": HOST,
    "tariff import": HOST,
    "tariff show": HOST,
    "tariff list": HOST,
    "rates import": HOST,
    "rates list": HOST,
    "rates show": HOST,
    "origin issue": AUTHORITIES,
    "origin replace": AUTHORITIES,
    "origin cancel": AUTHORITIES,
    "origin transmit": roles(T, IA, A, own=True),
    "origin record": HOST,
    "origin show": HOST,
    "origin list": HOST,
    "origin verify-request": HOST,
    "origin verify-answer": HOST,
    "origin verifications": HOST,
    "exchange messages": HOST,
    "exchange retry": HOST,
    "exchange stats": HOST,
    "exchange partners": HOST,
    "exchange send": HOST,
    "exchange deliver": HOST,
    "federation init": HOST,
    "federation add-node": HOST,
    "federation rotate-key": HOST,
    "federation retire-key": HOST,
    "federation list": HOST,
    "federation renew-tls": HOST,
    "ledger acknowledge": SENIOR,
    "ledger check": HOST,
    "ledger head": HOST,
    "ledger prove": HOST,
    "ledger consistency": HOST,
    "ledger append-demo": HOST,
    "ledger issue": HOST,
    "ledger revoke": HOST,
    "ledger witness": HOST,
    "ledger alarms": HOST,
    "ledger witnesses": HOST,
    "verify": HOST,
    "risk train": HOST,
    "risk evaluate": HOST,
    "risk simulate": HOST,
    "risk retrain": HOST,
    "risk models": HOST,
    "risk activate": HOST,
    "risk rollback": HOST,
    "user add": HOST,
    "user list": HOST,
    "user disable": HOST,
    "user enable": HOST,
    "user token list": HOST,
    "user token revoke": HOST,
    "user token rotate": HOST,
    "db upgrade": HOST,
    "db status": HOST,
    "serve": HOST,
    "demo": HOST,
}


def _deny(actor: Principal, what: str, rule: Rule) -> Forbidden:
    allowed = ", ".join(r.value for r in Role if r in rule.roles) or "the host operator"
    return Forbidden(
        f"{actor.name} ({actor.role.value}) may not use {what}; allowed: {allowed}",
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
    marks = ["own party" if role is T and rule.own else "yes" for role in Role]
    return [""] + [m if role in rule.roles else "" for role, m in zip(Role, marks, strict=True)]


def markdown() -> str:
    """docs/roles.md, generated from the tables above (a test keeps the file equal to it)."""
    header = "| | who | " + " | ".join(r.value for r in Role) + " |"
    rule_line = "|---" * (len(Role) + 2) + "|"
    out = [
        "# Roles: who may use which endpoint and command",
        "",
        "Generated from `src/onewindow/access.py` by `onewindow.kit.access.markdown()`; a test",
        "checks that this file equals it, and that every endpoint and command has a rule.",
        "",
        "Roles: **trader** (a company or broker, for its own party only), **officer**,",
        "**supervisor**, **administrator** (customs), **issuing_authority** (issues",
        "certificates of origin), **analyst** (reads declarations, reports, risk models and",
        "statistics; changes nothing). *public*: no token needed. *host operator*: a command",
        "without `--as` that acts on the node itself, for whoever runs it on the node's host.",
        "A command with `--as` run without it acts as the host operator, an administrator.",
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
