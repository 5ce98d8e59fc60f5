"""Who may report events: vendors' platforms, each with an API key (only its SHA-256 kept),
and devices, each with a secret that signs what it publishes (HMAC-SHA256).

A device's MQTT message is its event as JSON, a newline, and the hex HMAC-SHA256 of exactly
those JSON bytes under the device's secret: no canonical form to agree on, the bytes signed
are the bytes sent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    Text,
    from_validation,
    invalid,
)
from onewindow.seals.models import SealDevice, SealPlatform, SealTrip, TripSeal
from onewindow.seals.schemas import (
    DEVICE,
    Credential,
    DeviceEventIn,
    DeviceRead,
    PlatformRead,
)

KEY_PREFIX = "owp_"  # never a user's token's prefix (kit.auth.TOKEN_PREFIX)
SIGNATURE_HEX = 64
DEVICE_RE = re.compile(DEVICE)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _name(value: str, path: str) -> str:
    if not DEVICE_RE.fullmatch(value):
        raise invalid(
            path,
            "string_pattern_mismatch",
            Text("must be 1 to 40 letters, digits, '.', '_', ':' or '-'"),
        )
    return value


def add_platform(session: Session, name: str, *, now: datetime, actor: str) -> Credential:
    """A vendor's platform and its new key, which is shown here once and never again."""
    _name(name, "name")
    if session.scalar(select(SealPlatform.id).where(SealPlatform.name == name)) is not None:
        raise Conflict(Text("platform {name} is registered already", name=name))
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(SealPlatform(name=name, key_sha256=_digest(key), created_at=now))
    audit.record(
        session,
        at=now,
        actor=actor,
        action="seal_platform.added",
        entity_type="seal_platform",
        entity_id=name,
    )
    return Credential(name=name, secret=key, note="the platform's API key: shown once, keep it")


def platform_of(session: Session, key: str | None) -> str:
    """The platform whose key this is; 401 for any other."""
    if not key or not key.startswith(KEY_PREFIX):
        raise NotAuthenticated("send an e-seal platform's key as the bearer token")
    found = session.execute(
        select(SealPlatform.name, SealPlatform.disabled_at).where(
            SealPlatform.key_sha256 == _digest(key)
        )
    ).first()
    if found is None or found.disabled_at is not None:
        raise NotAuthenticated("this key is not a current e-seal platform's")
    return str(found.name)


def add_device(
    session: Session, device: str, *, platform: str | None, now: datetime, actor: str
) -> Credential:
    """A seal and its new secret (shown once): the device signs its MQTT messages with it.
    `platform`: the vendor's platform that may also report its events over HTTPS."""
    _name(device, "device")
    if session.get(SealDevice, device) is not None:
        raise Conflict(Text("seal {device} is registered already", device=device))
    if (
        platform is not None
        and session.scalar(select(SealPlatform.id).where(SealPlatform.name == platform)) is None
    ):
        raise invalid(
            "platform", "unknown_platform", Text("no platform {name} is registered", name=platform)
        )
    secret = secrets.token_hex(32)
    session.add(SealDevice(id=device, secret=secret, platform=platform, created_at=now))
    audit.record(
        session,
        at=now,
        actor=actor,
        action="seal_device.added",
        entity_type="seal_device",
        entity_id=device,
        detail={"platform": platform},
    )
    return Credential(name=device, secret=secret, note="the device's HMAC secret: shown once")


def devices(session: Session) -> list[DeviceRead]:
    on_trip = dict(
        session.execute(
            select(TripSeal.device_id, SealTrip.reference)
            .join(SealTrip, SealTrip.id == TripSeal.trip_id)
            .where(TripSeal.active)
        ).all()
    )
    rows = session.scalars(select(SealDevice).order_by(SealDevice.id))
    return [
        DeviceRead(id=d.id, platform=d.platform, created_at=d.created_at, trip=on_trip.get(d.id))
        for d in rows
    ]


def platforms(session: Session) -> list[PlatformRead]:
    rows = session.scalars(select(SealPlatform).order_by(SealPlatform.name))
    return [
        PlatformRead(name=p.name, created_at=p.created_at, disabled=p.disabled_at is not None)
        for p in rows
    ]


def sign(secret: str, body: bytes) -> bytes:
    """A device's message: the event's JSON bytes, a newline, their signature."""
    mac = hmac.new(bytes.fromhex(secret), body, hashlib.sha256).hexdigest()
    return body + b"\n" + mac.encode()


def open_signed(session: Session, device: str, payload: bytes) -> DeviceEventIn:
    """A device's signed message, checked against its secret, as its event."""
    row = session.get(SealDevice, device)
    if row is None:
        raise NotFound(Text("no seal {device} is registered", device=device))
    body, newline, mac = payload.rpartition(b"\n")
    if not newline or len(mac) != SIGNATURE_HEX:
        raise invalid(
            "signature",
            "unsigned",
            Text(
                "the message must end with a newline and the hex HMAC-SHA256 of the JSON before it"
            ),
        )
    expected = hmac.new(bytes.fromhex(row.secret), body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, mac.lower()):
        raise NotAuthenticated(
            Text("the signature does not match seal {device}'s secret", device=device)
        )
    try:
        event = DeviceEventIn.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput(from_validation(exc.errors())) from exc
    return event.model_copy(update={"device": device})
