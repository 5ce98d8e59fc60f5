"""Portal: the web portals' shell: signing in and out, each role's start page, and the
administrators' users and roles."""

from __future__ import annotations

from onewindow.kit.access import ANY_USER, HOST, PUBLIC, Rule, roles
from onewindow.kit.auth import Role
from onewindow.kit.domain import Command, Domain

ADMINISTRATORS = roles(Role.ADMINISTRATOR)
USER = "/users/{username}"

API_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): ANY_USER,
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("POST", "/sign-out"): ANY_USER,
    ("GET", "/language/{language}"): PUBLIC,
    # users and roles (as `onewindow user` and `portal password` on the node's host)
    ("GET", "/users"): ADMINISTRATORS,
    ("POST", "/users"): ADMINISTRATORS,
    ("GET", USER): ADMINISTRATORS,
    ("POST", f"{USER}/disable"): ADMINISTRATORS,
    ("POST", f"{USER}/enable"): ADMINISTRATORS,
    ("POST", f"{USER}/password"): ADMINISTRATORS,
}
CLI_RULES: dict[str, Rule] = {
    "portal password": HOST,
}

DOMAIN = Domain(
    name="portal",
    tables="onewindow.portal.models",
    views=("onewindow.portal.views:router", "onewindow.portal.users:router"),
    commands={"portal": Command("onewindow.portal.cli:app", "The web portals: passwords.")},
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    contributes={"web.navigation": {"users": "onewindow.portal.users:LINKS"}},
)
