"""Seals: electronic seals watching trips under customs control (position, door, tamper),
the rules their events are held to, and the alerts for officers. Its caller (transit)
registers a trip when it releases a movement and reads its alerts and track."""

from __future__ import annotations

from onewindow.kit.access import HOST, OFFICIALS, READERS, Rule, machines
from onewindow.kit.domain import Command, Domain

TRIP = "/api/v1/seals/trips/{reference}"
PLATFORMS = machines("e-seal platforms")

API_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/seals/events"): PLATFORMS,
    ("GET", "/api/v1/seals/alerts"): READERS,
    ("GET", TRIP): READERS,
    ("GET", f"{TRIP}/track"): READERS,
    ("POST", f"{TRIP}/alerts/{{alert_id}}/acknowledgement"): OFFICIALS,
    # the portals' pages: reading as the API's GETs, acknowledging as its acknowledgement
    ("GET", "/seals/alerts"): READERS,
    ("GET", "/seals/trips"): READERS,
    ("GET", "/seals/trips/{reference}"): READERS,
    ("POST", "/seals/trips/{reference}/acknowledgement"): OFFICIALS,
}
CLI_RULES: dict[str, Rule] = {
    "seals device add": HOST,
    "seals device list": HOST,
    "seals platform add": HOST,
    "seals platform list": HOST,
    "seals trips": HOST,
    "seals alerts": HOST,
    "seals sweep": HOST,
    "seals listen": HOST,
}

DOMAIN = Domain(
    name="seals",
    tables="onewindow.seals.models",
    routers=("onewindow.seals.api:router",),
    views=("onewindow.seals.views:router",),
    commands={
        "seals": Command("onewindow.seals.cli:app", "E-seals: devices, platforms, trips, alerts."),
    },
    settings="onewindow.seals.settings:SealsSettings",
    api_rules=API_RULES,
    cli_rules=CLI_RULES,
    contributes={"web.navigation": {"seals": "onewindow.seals.views:LINKS"}},
)
