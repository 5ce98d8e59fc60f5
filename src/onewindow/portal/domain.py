"""Portal: the web portals' shell: signing in and out, each role's start page."""

from __future__ import annotations

from onewindow.kit.access import ANY_USER, HOST, PUBLIC, Rule
from onewindow.kit.domain import Command, Domain

API_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): ANY_USER,
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("POST", "/sign-out"): ANY_USER,
    ("GET", "/language/{language}"): PUBLIC,
}
CLI_RULES: dict[str, Rule] = {
    "portal password": HOST,
}

DOMAIN = Domain(
    name="portal",
    tables="onewindow.portal.models",
    views=("onewindow.portal.views:router",),
    commands={"portal": Command("onewindow.portal.cli:app", "The web portals: passwords.")},
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
)
