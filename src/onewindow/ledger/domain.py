"""Ledger (a shared service): the tamper-evident log of what this node issues and receives."""

from __future__ import annotations

from onewindow.kit.access import HOST, PUBLIC, READERS, SENIOR, Rule
from onewindow.kit.domain import Command, Domain

API_RULES: dict[tuple[str, str], Rule] = {
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
    # the portals' page: what the public GETs show, for officials and analysts; acknowledging
    # as the API's acknowledgement
    ("GET", "/ledger"): READERS,
    ("POST", "/ledger/acknowledgement"): SENIOR,
}
CLI_RULES: dict[str, Rule] = {
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
}


DOMAIN = Domain(
    name="ledger",
    tables="onewindow.ledger.models",
    routers=("onewindow.ledger.api:router",),
    views=("onewindow.ledger.views:router",),
    commands={
        "ledger": Command(
            "onewindow.ledger.cli:app", "The tamper-evident log: heads, proofs, witnesses."
        ),
        "verify": Command(
            "onewindow.ledger.cli:verify_command",
            "Verify a document: signature, log inclusion, not altered, not revoked.",
        ),
    },
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    lifespan="onewindow.ledger.tasks:lifespan",
    contributes={"web.navigation": {"ledger": "onewindow.ledger.views:LINKS"}},
)
