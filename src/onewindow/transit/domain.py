"""Transit: ACTS movements across member states on one declaration and one guarantee."""

from __future__ import annotations

from onewindow.kit.access import HOST, OFFICIALS, TRADERS_OFFICIALS, TRADERS_READERS, Rule
from onewindow.kit.domain import Command, Domain

MOVEMENT = "/api/v1/transit/movements/{mrn}"
PAGE = "/transit/{mrn}"
TRADER = "/api/v1/transit/traders/{party_id}"
API_RULES: dict[tuple[str, str], Rule] = {
    ("PUT", TRADER): OFFICIALS,
    ("GET", TRADER): TRADERS_OFFICIALS,
    ("GET", "/api/v1/transit/traders"): OFFICIALS,
    ("POST", "/api/v1/transit/guarantees"): OFFICIALS,
    ("GET", "/api/v1/transit/guarantees/{grn}"): TRADERS_OFFICIALS,
    ("POST", "/api/v1/transit/movements"): TRADERS_OFFICIALS,
    ("GET", "/api/v1/transit/movements"): TRADERS_READERS,
    ("GET", MOVEMENT): TRADERS_READERS,
    ("POST", f"{MOVEMENT}/release"): OFFICIALS,
    ("POST", f"{MOVEMENT}/cancellation"): TRADERS_OFFICIALS,
    ("POST", f"{MOVEMENT}/crossing"): OFFICIALS,
    ("POST", f"{MOVEMENT}/arrival"): TRADERS_OFFICIALS,  # a trader: authorised consignee
    ("POST", f"{MOVEMENT}/unloading"): TRADERS_OFFICIALS,
    ("POST", f"{MOVEMENT}/discharge"): OFFICIALS,
    ("POST", f"{MOVEMENT}/recovery"): OFFICIALS,
    ("GET", f"{MOVEMENT}/events"): TRADERS_READERS,
    # the portals' pages
    ("GET", "/transit"): TRADERS_READERS,
    ("GET", "/transit/new"): TRADERS_OFFICIALS,
    ("POST", "/transit/new"): TRADERS_OFFICIALS,
    ("POST", "/transit/upload"): TRADERS_OFFICIALS,
    ("GET", PAGE): TRADERS_READERS,
    ("POST", f"{PAGE}/release"): OFFICIALS,
    ("POST", f"{PAGE}/cancellation"): TRADERS_OFFICIALS,
    ("POST", f"{PAGE}/crossing"): OFFICIALS,
    ("POST", f"{PAGE}/arrival"): TRADERS_OFFICIALS,
    ("POST", f"{PAGE}/unloading"): TRADERS_OFFICIALS,
    ("POST", f"{PAGE}/discharge"): OFFICIALS,
    ("POST", f"{PAGE}/recovery"): OFFICIALS,
    ("GET", "/transit/guarantees/new"): OFFICIALS,
    ("POST", "/transit/guarantees/new"): OFFICIALS,
    ("GET", "/transit/guarantees/{grn}"): TRADERS_OFFICIALS,
    ("GET", "/transit/traders"): OFFICIALS,
    ("POST", "/transit/traders"): OFFICIALS,
    ("GET", "/transit/traders/{party_id}"): TRADERS_OFFICIALS,
}
CLI_RULES: dict[str, Rule] = {
    "transit trader register": OFFICIALS,
    "transit trader show": TRADERS_OFFICIALS,
    "transit trader list": OFFICIALS,
    "transit guarantee add": OFFICIALS,
    "transit guarantee show": TRADERS_OFFICIALS,
    "transit declare": TRADERS_OFFICIALS,
    "transit release": OFFICIALS,
    "transit show": TRADERS_READERS,
    "transit list": TRADERS_READERS,
    "transit cancel": TRADERS_OFFICIALS,
    "transit cross": OFFICIALS,
    "transit arrive": TRADERS_OFFICIALS,
    "transit unload": TRADERS_OFFICIALS,
    "transit discharge": OFFICIALS,
    "transit recover": OFFICIALS,
    "transit overdue": HOST,
}

DOMAIN = Domain(
    name="transit",
    uses=("reference", "tariff", "risk", "seals", "exchange", "ledger"),
    tables="onewindow.transit.models",
    routers=("onewindow.transit.api:router",),
    views=("onewindow.transit.register_views:router", "onewindow.transit.views:router"),
    commands={
        "transit": Command("onewindow.transit.cli:app", "ACTS transit: guarantees, movements.")
    },
    settings="onewindow.transit.settings:TransitSettings",
    documents="onewindow.transit.documents:DOCUMENT_TYPES",
    handlers="onewindow.transit.receiving:register",
    lifespan="onewindow.transit.tasks:lifespan",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    contributes={"web.navigation": {"transit": "onewindow.transit.views:LINKS"}},
)
