"""Analytics: dashboards over declarations, certificates and messages, with their tables and
CSV downloads; read-only, for customs readers (officials and analysts)."""

from __future__ import annotations

from onewindow.kit.access import READERS, Rule
from onewindow.kit.domain import Domain

API_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/analytics"): READERS,
    ("GET", "/analytics/{chart}.csv"): READERS,
}

DOMAIN = Domain(
    name="analytics",
    uses=("declarations", "origin", "exchange"),
    views=("onewindow.analytics.views:router",),
    api_rules=API_RULES,
    contributes={"web.navigation": {"analytics": "onewindow.analytics.views:LINKS"}},
)
