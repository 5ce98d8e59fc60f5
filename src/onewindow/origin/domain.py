"""Origin: certificates of origin (ATIGA e-Form D), issued, received and verified."""

from __future__ import annotations

from onewindow.kit.access import AUTHORITIES, HOST, IA, OF, A, Rule, S, T, roles
from onewindow.kit.domain import Command, Domain

CERTIFICATE = "/api/v1/origin/certificates/{reference}"

API_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/origin/certificates"): AUTHORITIES,
    ("GET", CERTIFICATE): roles(T, OF, S, A, IA, own=True),
    ("POST", f"{CERTIFICATE}/transmission"): roles(T, IA, A, own=True),
    ("POST", f"{CERTIFICATE}/cancellation"): AUTHORITIES,
}
CLI_RULES: dict[str, Rule] = {
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
}


DOMAIN = Domain(
    name="origin",
    uses=("exchange", "ledger"),
    tables="onewindow.origin.models",
    routers=("onewindow.origin.api:router",),
    commands={
        "origin": Command("onewindow.origin.cli:app", "Certificates of origin (ATIGA e-Form D)."),
    },
    settings="onewindow.origin.settings:OriginSettings",
    documents="onewindow.origin.documents:DOCUMENT_TYPES",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    handlers="onewindow.origin.receiving:register",
)
