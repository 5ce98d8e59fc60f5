"""Reference: the node's national code lists (customs offices, kinds of package, supporting
documents), kept beside the international standards of onewindow.kit.codes."""

from __future__ import annotations

from onewindow.kit.access import ANY_USER, HOST, Rule
from onewindow.kit.domain import Command, Domain

API_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/reference/lists"): ANY_USER,
    ("GET", "/api/v1/reference/lists/{name}"): ANY_USER,
}
CLI_RULES: dict[str, Rule] = {
    "reference import": HOST,
    "reference lists": HOST,
    "reference show": HOST,
}

DOMAIN = Domain(
    name="reference",
    tables="onewindow.reference.models",
    routers=("onewindow.reference.api:router",),
    commands={
        "reference": Command(
            "onewindow.reference.cli:app",
            "National reference lists: customs offices, packages, documents.",
        ),
    },
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
)
