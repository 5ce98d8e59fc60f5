"""The seals domain's settings: where its MQTT broker is, and its limits."""

from __future__ import annotations

from pydantic import Field

from onewindow.kit.config import Section


class SealsSettings(Section):
    # mqtt://host:port of the broker the node subscribes to for devices' events; empty: none
    # (`onewindow serve` then runs no subscriber; `onewindow seals listen --broker` still can)
    seals_mqtt_url: str = ""
    seals_mqtt_prefix: str = "onewindow/seals"  # topics <prefix>/{device}/events
    # given, the broker keeps the node's session (QoS 1) while it is down; default
    # onewindow-<country>, a clean session
    seals_mqtt_client_id: str = ""
    # a platform's batch: at most this many bytes (413 beyond, the rest never read) and events
    seals_max_batch_bytes: int = Field(4_000_000, ge=1_000)
    seals_max_batch_events: int = Field(20_000, ge=1)
    seals_sweep_seconds: float = Field(60.0, ge=0)  # 0: no sweep for silent trips
