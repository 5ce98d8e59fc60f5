"""An exporter's application for a Form D as the issuing form shows it, and back. Pure.

The form names its fields by the paths of the application the API takes (`exporter.name`,
`items.0.hs_code`), so `web.nested` makes the document of them; what a browser does not send
(a box of box 13 not ticked) is added here, and the Form D's error paths (`items[0].hs_code`)
become the form's field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from onewindow.exchange.mapping import F
from onewindow.kit import web
from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.kit.i18n import N_
from onewindow.origin.documents import FORM_D_FIELDS

# Box 13: the flags of the application, as the Form D's schema lists them.
FLAGS = next(f for f in FORM_D_FIELDS if f.key == "flags").children
FLAG_LABELS = {
    "third_country_invoicing": N_("Third-country invoicing"),
    "back_to_back": N_("Back-to-back certificate"),
    "exhibition": N_("Exhibition"),
    "issued_retroactively": N_("Issued retroactively"),
    "de_minimis": N_("De minimis"),
    "accumulation": N_("Accumulation"),
    "partial_cumulation": N_("Partial cumulation"),
}
_ITEM = re.compile(r"^items\.(\d+)\.")
_INDEX = re.compile(r"\[(\d+)\]")


def item_count(fields: Mapping[str, str]) -> int:
    found = [int(m.group(1)) for name in fields if (m := _ITEM.match(name))]
    return max(found, default=0) + 1


def as_fields(application: Mapping[str, Any]) -> dict[str, str]:
    """An application as the form's fields: box 13's flags ticked or not."""
    fields = web.flat({k: v for k, v in application.items() if k != "flags"})
    flags = application.get("flags")
    if isinstance(flags, Mapping):
        fields |= {f"flags.{k}": "true" for k, v in flags.items() if v is True or v == "true"}
    return fields


def from_fields(fields: Mapping[str, str]) -> dict[str, Any]:
    """The form's fields as the application the API takes: every flag of box 13 true or
    false (a box not ticked is not sent by a browser)."""
    document = web.nested(fields)
    ticked = document.get("flags")
    ticked = ticked if isinstance(ticked, dict) else {}
    document["flags"] = ticked | {f.key: ticked.get(f.key) == "true" for f in FLAGS}
    return document


def form_errors(exc: InvalidInput) -> dict[str, FieldError]:
    """The errors by form field: the Form D's paths (`items[0].hs_code`) as the form names
    its fields (`items.0.hs_code`); an error about a group without a box of its own (an
    item's packages or invoice) goes to its first field."""
    found: dict[str, FieldError] = {}
    for error in exc.errors:
        found.setdefault(_first_field(_INDEX.sub(r".\1", error.path)), error)
    return found


def _first_field(path: str) -> str:
    spec: tuple[F, ...] = FORM_D_FIELDS
    parts = [p for p in path.split(".") if not p.isdigit()]
    for depth, part in enumerate(parts):
        f = next((f for f in spec if f.key == part), None)
        if f is None or not f.children:
            return path
        if depth == len(parts) - 1 and depth > 0 and not f.many:
            return f"{path}.{f.children[0].key}"
        spec = f.children
    return path
