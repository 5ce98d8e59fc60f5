"""The domains this node runs with: the one place that names them.

Adding a domain is one line here (docs/architecture.md, "Adding a domain"); the app factory,
the CLI, migrations, the exchange's documents and handlers and the role rules all come from
each domain's own `domain.py`. Shared services first, then each domain after those it uses.
"""

from __future__ import annotations

from onewindow.analytics.domain import DOMAIN as ANALYTICS
from onewindow.declarations.domain import DOMAIN as DECLARATIONS
from onewindow.exchange.domain import DOMAIN as EXCHANGE
from onewindow.kit import domain
from onewindow.kit.access import HOST, PUBLIC, Rules
from onewindow.kit.domain import Command, Domain
from onewindow.ledger.domain import DOMAIN as LEDGER
from onewindow.origin.domain import DOMAIN as ORIGIN
from onewindow.portal.domain import DOMAIN as PORTAL
from onewindow.reference.domain import DOMAIN as REFERENCE
from onewindow.risk.domain import DOMAIN as RISK
from onewindow.seals.domain import DOMAIN as SEALS
from onewindow.tariff.domain import DOMAIN as TARIFF
from onewindow.transit.domain import DOMAIN as TRANSIT

DOMAINS: tuple[Domain, ...] = (
    EXCHANGE, LEDGER, REFERENCE, TARIFF, RISK, SEALS, ORIGIN, DECLARATIONS, TRANSIT, ANALYTICS,
    PORTAL,
)  # fmt: skip

# The node's own commands and endpoints, beside the domains': users, database, serving.
COMMANDS: dict[str, Command] = {
    "user": Command("onewindow.cli.users:app", "Users, roles and API tokens."),
    "db": Command("onewindow.cli.db:app", "The node's database: migrations and status."),
    "serve": Command("onewindow.cli.serve:serve", "Run the node: API, gateway and workers."),
    "demo": Command(
        "onewindow.cli.demo:demo",
        "Set up a demo federation on SQLite, run a scenario, keep serving.",
    ),
}
_OWN = ("user add", "user list", "user disable", "user enable", "user token list",
        "user token revoke", "user token rotate", "db upgrade", "db status", "serve",
        "demo")  # fmt: skip
RULES = Rules(
    api={("GET", "/api/v1/health"): PUBLIC},
    cli=dict.fromkeys(_OWN, HOST),
)


def install() -> tuple[Domain, ...]:
    """Make DOMAINS the ones this process runs with; the composition roots call it first."""
    domain.install(DOMAINS, RULES)
    return DOMAINS
