"""Tariff: the national schedule (AHTN lines over HS 2022), rates and duty; publishing them to
the partners, and the import taxes due in a partner's country at its published rates."""

from __future__ import annotations

from onewindow.kit.access import ANY_USER, HOST, OFFICIALS, SENIOR, Rule
from onewindow.kit.domain import Command, Domain

API_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/tariff/lines"): ANY_USER,
    ("GET", "/api/v1/tariff/lines/{code}"): ANY_USER,
    ("GET", "/api/v1/rates/{currency}"): ANY_USER,
    ("GET", "/tariff/lookup"): ANY_USER,
    # publishing changes what partners compute guarantees with: senior customs only
    ("POST", "/api/v1/tariff/publications"): SENIOR,
    ("GET", "/api/v1/tariff/partners"): OFFICIALS,
}
CLI_RULES: dict[str, Rule] = {
    "tariff import": HOST,
    "tariff show": HOST,
    "tariff list": HOST,
    "tariff publish": SENIOR,
    "tariff partners": OFFICIALS,
    "rates import": HOST,
    "rates list": HOST,
    "rates show": HOST,
}


DOMAIN = Domain(
    name="tariff",
    uses=("exchange", "ledger"),
    tables="onewindow.tariff.models",
    routers=("onewindow.tariff.api:router",),
    views=("onewindow.tariff.views:router",),
    commands={
        "tariff": Command(
            "onewindow.tariff.cli:app", "The national tariff schedule (AHTN lines over HS 2022)."
        ),
        "rates": Command("onewindow.tariff.cli:rates_app", "Official exchange rates."),
    },
    documents="onewindow.tariff.documents:DOCUMENT_TYPES",
    handlers="onewindow.tariff.publishing:register",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    contributes={"web.navigation": {"tariff": "onewindow.tariff.views:LINKS"}},
)
