"""Declarations: the customs core, from lodging to release."""

from __future__ import annotations

from onewindow.kit.access import HOST, OFFICIALS, READERS, TRADERS_OFFICIALS, TRADERS_READERS, Rule
from onewindow.kit.domain import Command, Domain

DECLARATION = "/api/v1/declarations/{number}"
PAGE = "/declarations/{number}"

API_RULES: dict[tuple[str, str], Rule] = {
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
    # the portals' pages
    ("GET", "/declarations"): TRADERS_READERS,
    ("GET", "/declarations/new"): TRADERS_OFFICIALS,
    ("POST", "/declarations/new"): TRADERS_OFFICIALS,
    ("POST", "/declarations/upload"): TRADERS_OFFICIALS,
    ("GET", PAGE): TRADERS_READERS,
    ("GET", f"{PAGE}/amendment"): TRADERS_OFFICIALS,
    ("POST", f"{PAGE}/amendment"): TRADERS_OFFICIALS,
    ("POST", f"{PAGE}/payment"): TRADERS_OFFICIALS,
    ("POST", f"{PAGE}/cancellation"): TRADERS_OFFICIALS,
    ("GET", f"{PAGE}/release-note"): TRADERS_READERS,
    # the officers' pages
    ("GET", "/queue"): READERS,
    ("POST", f"{PAGE}/opening"): OFFICIALS,
    ("POST", f"{PAGE}/document-check"): OFFICIALS,
    ("POST", f"{PAGE}/inspection"): OFFICIALS,
    ("POST", f"{PAGE}/release"): OFFICIALS,
    ("POST", f"{PAGE}/amendment-requests/{{request_id}}/decision"): OFFICIALS,
}
CLI_RULES: dict[str, Rule] = {
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
}


DOMAIN = Domain(
    name="declarations",
    uses=("tariff", "risk", "origin", "exchange", "ledger"),
    tables="onewindow.declarations.models",
    routers=(
        "onewindow.declarations.api:router",
        "onewindow.declarations.api:reports",
    ),
    views=(
        "onewindow.declarations.views:router",
        "onewindow.declarations.control_views:router",
    ),
    commands={
        "declaration": Command("onewindow.declarations.cli:app", "Import and export declarations."),
    },
    settings="onewindow.declarations.settings:DeclarationsSettings",
    documents="onewindow.declarations.documents:DOCUMENT_TYPES",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    handlers="onewindow.declarations.acdd:register",
    lifespan="onewindow.declarations.tasks:lifespan",
    contributes={
        "risk.training_sources": {"native": "onewindow.declarations.history:NATIVE"},
        "risk.recent_scores": {"declarations": "onewindow.declarations.repository:recent_scores"},
        "web.navigation": {
            "declarations": "onewindow.declarations.views:LINKS",
            "declarations.control": "onewindow.declarations.control_views:CONTROL_LINKS",
        },
    },
)
