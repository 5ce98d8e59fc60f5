"""Origin: certificates of origin (ATIGA e-Form D), issued, received and verified."""

from __future__ import annotations

from onewindow.kit.access import AUTHORITIES, HOST, IA, OF, OFFICIALS, A, Rule, S, T, roles
from onewindow.kit.domain import Command, Domain

CERTIFICATE = "/api/v1/origin/certificates/{reference}"
PAGE = "/certificates/{reference}"
READERS = roles(T, OF, S, A, IA, own=True)  # a trader: the certificates naming its party
TRANSMITTERS = roles(T, IA, A, own=True)  # a trader: as the exporter in box 1
VERIFIERS = roles(IA, OF, S, A)  # customs ask, the issuing authority answers

API_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/origin/certificates"): AUTHORITIES,
    ("GET", CERTIFICATE): READERS,
    ("POST", f"{CERTIFICATE}/transmission"): TRANSMITTERS,
    ("POST", f"{CERTIFICATE}/cancellation"): AUTHORITIES,
    # the portals' pages
    ("GET", "/certificates"): READERS,
    ("GET", "/certificates/new"): AUTHORITIES,
    ("POST", "/certificates/new"): AUTHORITIES,
    ("POST", "/certificates/upload"): AUTHORITIES,
    ("GET", PAGE): READERS,
    ("POST", f"{PAGE}/transmission"): TRANSMITTERS,
    ("POST", f"{PAGE}/cancellation"): AUTHORITIES,
    ("GET", f"{PAGE}/replacement"): AUTHORITIES,
    ("POST", f"{PAGE}/replacement"): AUTHORITIES,
    ("POST", f"{PAGE}/verification"): OFFICIALS,
    ("GET", "/verifications"): VERIFIERS,
    ("GET", "/verifications/{request_id}"): VERIFIERS,
    ("POST", "/verifications/{request_id}/answer"): AUTHORITIES,
}
CLI_RULES: dict[str, Rule] = {
    "origin issue": AUTHORITIES,
    "origin replace": AUTHORITIES,
    "origin cancel": AUTHORITIES,
    "origin transmit": TRANSMITTERS,
    "origin record": HOST,
    "origin show": HOST,
    "origin list": HOST,
    "origin verify-request": OFFICIALS,
    "origin verify-answer": AUTHORITIES,
    "origin verifications": HOST,
}


DOMAIN = Domain(
    name="origin",
    uses=("tariff", "exchange", "ledger"),
    tables="onewindow.origin.models",
    routers=("onewindow.origin.api:router",),
    views=("onewindow.origin.views:router",),
    commands={
        "origin": Command("onewindow.origin.cli:app", "Certificates of origin (ATIGA e-Form D)."),
    },
    settings="onewindow.origin.settings:OriginSettings",
    documents="onewindow.origin.documents:DOCUMENT_TYPES",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    handlers="onewindow.origin.receiving:register",
    contributes={"web.navigation": {"origin": "onewindow.origin.views:LINKS"}},
)
