"""Seals: electronic seals on trips under customs control, the rules their events are held
to (route corridor, stops, doors, silence, arrival), and officers' alerts."""

from onewindow.seals.credentials import add_device, add_platform, open_signed, platform_of, sign
from onewindow.seals.intake import Source, ingest
from onewindow.seals.models import (
    EventChunk,
    EventLog,
    SealAlert,
    SealDevice,
    SealPlatform,
    SealTrip,
)
from onewindow.seals.schemas import (
    AlertRead,
    EventIn,
    IngestResult,
    Track,
    TrackPoint,
    TripCreate,
    TripRead,
)
from onewindow.seals.service import (
    acknowledge,
    alerts,
    alerts_after,
    end_trip,
    register_trip,
    sweep,
    track,
    trip,
    trips,
)

__all__ = [
    "AlertRead",
    "EventChunk",
    "EventIn",
    "EventLog",
    "IngestResult",
    "SealAlert",
    "SealDevice",
    "SealPlatform",
    "SealTrip",
    "Source",
    "Track",
    "TrackPoint",
    "TripCreate",
    "TripRead",
    "acknowledge",
    "add_device",
    "add_platform",
    "alerts",
    "alerts_after",
    "end_trip",
    "ingest",
    "open_signed",
    "platform_of",
    "register_trip",
    "sign",
    "sweep",
    "track",
    "trip",
    "trips",
]
