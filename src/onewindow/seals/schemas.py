"""What the seals domain takes and answers: events, trips, alerts, tracks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from onewindow.kit.errors import pattern
from onewindow.kit.fields import Text60, Text300, Text500

DEVICE = pattern(
    r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$",
    "must be 1 to 40 letters, digits, '.', '_', ':' or '-', such as SEAL-0001",
)
# The caller's reference for a trip: an MRN (18 characters) or another of up to 40.
TRIP_REFERENCE = pattern(
    r"^[A-Z0-9][A-Z0-9/-]{0,39}$",
    "must be 1 to 40 capital letters, digits, '/' or '-', such as an MRN",
)
OFFICE = pattern(
    r"^[A-Z0-9][A-Z0-9._/-]{0,19}$", "must be 1 to 20 capital letters, digits, '.', '_', '/' or '-'"
)
DeviceId = Annotated[str, StringConstraints(pattern=DEVICE)]
TripReference = Annotated[str, StringConstraints(pattern=TRIP_REFERENCE)]
OfficeCode = Annotated[str, StringConstraints(pattern=OFFICE)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Radius = Annotated[float, Field(gt=0, le=50_000, allow_inf_nan=False)]
Kind = Literal[
    "armed",
    "position",
    "door_open",
    "tamper",
    "signal_lost",
    "signal_restored",
    "low_battery",
    "released",
]
AlertKind = Literal["off_route", "long_stop", "door_open", "tamper", "silence", "wrong_arrival"]
MAX_SEQ = 2**63 - 1


class EventIn(BaseModel):
    """One event of a seal. `id`: the device's own event counter (0 to 2^63-1), which makes a
    repeated event a duplicate; `lat`/`lon` in degrees (WGS 84), both or neither, required
    for a position; `speed` in km/h."""

    model_config = ConfigDict(extra="forbid")
    device: DeviceId
    id: int = Field(ge=0, le=MAX_SEQ)
    kind: Kind
    at: AwareDatetime
    lat: Lat | None = None
    lon: Lon | None = None
    speed: float | None = Field(None, ge=0, le=400, allow_inf_nan=False)


class DeviceEventIn(EventIn):
    """An event a device publishes itself over MQTT: its device id is in the topic."""

    device: DeviceId = ""


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn]


class Route(BaseModel):
    """A GeoJSON LineString, positions as [longitude, latitude]."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["LineString"]
    coordinates: list[tuple[Lon, Lat]] = Field(min_length=2, max_length=20_000)


class Stop(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text60 | None = None
    lat: Lat
    lon: Lon
    radius_m: Radius


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office: OfficeCode
    lat: Lat
    lon: Lon
    radius_m: Radius


class TripCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: TripReference
    seals: list[DeviceId] = Field(min_length=1, max_length=20)
    route: Route
    corridor_m: float = Field(gt=0, le=50_000, allow_inf_nan=False)
    stops: list[Stop] = Field(default_factory=list, max_length=500)
    max_stop_minutes: int = Field(ge=1, le=7 * 24 * 60)
    max_silence_minutes: int = Field(ge=1, le=7 * 24 * 60)
    destination: Destination


class AcknowledgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text500


class AlertRead(BaseModel):
    id: int
    reference: str
    kind: str
    at: datetime
    lat: float | None
    lon: float | None
    device: str | None
    detail: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    note: str | None = None


class TripRead(BaseModel):
    reference: str
    status: Literal["active", "ended"]
    seals: list[str]
    corridor_m: float
    destination_office: str
    registered_at: datetime
    ended_at: datetime | None
    ended_office: str | None
    last_at: datetime | None
    lat: float | None
    lon: float | None
    alerts: list[AlertRead]


class TrackPoint(BaseModel):
    at: datetime
    device: str
    kind: str
    lat: float
    lon: float
    speed: float


class Track(BaseModel):
    reference: str
    points: list[TrackPoint]


class IngestResult(BaseModel):
    """What a batch did: events taken, duplicates ignored, late ones (stored, the trip's
    state left as it was), and the alerts raised."""

    accepted: int
    duplicates: int
    late: int
    alerts: list[AlertRead]


class DeviceRead(BaseModel):
    id: str
    platform: str | None
    created_at: datetime
    trip: str | None = None


class PlatformRead(BaseModel):
    name: str
    created_at: datetime
    disabled: bool


class Credential(BaseModel):
    """A new device's secret or a platform's key: shown once, never again."""

    name: str
    secret: str
    note: Text300
