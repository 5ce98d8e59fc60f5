"""Exchange (a shared service): signed documents between the nodes of a federation."""

from __future__ import annotations

from onewindow.kit.access import HOST, OFFICIALS, PUBLIC, READERS, SENIOR, Rule
from onewindow.kit.domain import Command, Domain

API_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/exchange/v1/messages"): PUBLIC,
    ("GET", "/api/v1/exchange/messages"): OFFICIALS,
    ("GET", "/api/v1/exchange/stats"): READERS,
    ("GET", "/api/v1/exchange/partners"): OFFICIALS,
    # the portals' page: the messages and their counts, as the API's messages; a retry (the
    # host's `exchange retry`) for supervisors and administrators
    ("GET", "/exchange/messages"): OFFICIALS,
    ("POST", "/exchange/messages/{message_id}/retry"): SENIOR,
}
CLI_RULES: dict[str, Rule] = {
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
}


DOMAIN = Domain(
    name="exchange",
    tables="onewindow.exchange.models",
    routers=("onewindow.exchange.api:router",),
    views=("onewindow.exchange.views:router",),
    commands={
        "exchange": Command(
            "onewindow.exchange.cli:app",
            "Messages with partner nodes: status, retries, statistics.",
        ),
        "federation": Command(
            "onewindow.exchange.cli:federation_app",
            "Create and grow a federation of nodes (CA, keys, configs).",
        ),
    },
    documents="onewindow.exchange.documents:OWN_TYPES",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    contributes={"web.navigation": {"exchange": "onewindow.exchange.views:LINKS"}},
)
