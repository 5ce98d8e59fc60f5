"""Risk: rule profiles, the learned model, lanes with target rates."""

from __future__ import annotations

from onewindow.kit.access import HOST, READERS, SENIOR, Rule
from onewindow.kit.domain import Command, Domain

API_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/risk/models"): READERS,
    ("POST", "/api/v1/risk/models/{version}/activation"): SENIOR,
    # the portals' pages: reading as the API's GET, changing as its activation
    ("GET", "/risk/models"): READERS,
    ("POST", "/risk/models/{version}/activation"): SENIOR,
    ("POST", "/risk/models/rollback"): SENIOR,
    ("GET", "/risk/profiles"): READERS,
    ("POST", "/risk/profiles"): SENIOR,
    ("POST", "/risk/profiles/{profile_id}/expiry"): SENIOR,
}
CLI_RULES: dict[str, Rule] = {
    "risk train": HOST,
    "risk evaluate": HOST,
    "risk simulate": HOST,
    "risk retrain": HOST,
    "risk models": HOST,
    "risk activate": HOST,
    "risk rollback": HOST,
}


DOMAIN = Domain(
    name="risk",
    tables="onewindow.risk.models",
    routers=("onewindow.risk.api:router",),
    views=("onewindow.risk.views:router",),
    commands={
        "risk": Command(
            "onewindow.risk.cli:app", "Risk engine: train, evaluate, simulate, models."
        ),
    },
    settings="onewindow.risk.settings:RiskSettings",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    on_open=("onewindow.risk.lanes:load",),
    contributes={"web.navigation": {"risk": "onewindow.risk.views:LINKS"}},
)
