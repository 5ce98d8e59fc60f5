"""A trip under seal on the browser tests' node: TH -> MY -> SG along the road south, two
seals, positions reported over three hours, a detour off the corridor and an opened door
(two open alerts), registered and reported through the seals domain's own functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from onewindow.seals import Source, TripCreate, add_device, add_platform, ingest, register_trip
from onewindow.seals.schemas import EventIn

TRIP = "26TH0000000000042X"
# Bangkok, Hua Hin, Chumphon, Hat Yai (TH); the Bukit Kayu Hitam border post, Kuala Lumpur
# (MY); Woodlands, the SG office of destination.
ROUTE = [[100.50, 13.75], [99.96, 12.57], [99.18, 10.50], [100.47, 7.01], [100.42, 6.51],
         [101.69, 3.14], [103.77, 1.44]]  # fmt: skip
# Lat, lon, minutes after leaving: on the road, then west of it to Ratchaburi (a detour),
# back on it at Hua Hin and on south.
POSITIONS = [(13.75, 100.50, 0), (13.55, 100.41, 25), (13.54, 99.81, 50), (13.00, 100.16, 80),
             (12.57, 99.96, 100), (11.80, 99.67, 130), (10.50, 99.18, 170)]  # fmt: skip


def seal_trip(session: Session, now: datetime) -> str:
    """The trip, registered three hours before `now`; its reference."""
    start = now - timedelta(hours=3)
    add_platform(session, "SEALCO", now=start, actor="test")
    for seal in ("SEAL-11", "SEAL-12"):
        add_device(session, seal, platform="SEALCO", now=start, actor="test")
    trip = {
        "reference": TRIP, "seals": ["SEAL-11", "SEAL-12"],
        "route": {"type": "LineString", "coordinates": ROUTE}, "corridor_m": 3000,
        "stops": [{"name": "Hua Hin rest area", "lat": 12.57, "lon": 99.96, "radius_m": 500}],
        "max_stop_minutes": 45, "max_silence_minutes": 240,
        "destination": {"office": "SGWDL", "lat": 1.44, "lon": 103.77, "radius_m": 1000},
    }  # fmt: skip
    register_trip(session, TripCreate.model_validate(trip), now=start, actor="test")
    events = [
        {"device": "SEAL-11", "id": n, "kind": "position", "lat": lat, "lon": lon,
         "speed": 70.0, "at": (start + timedelta(minutes=minutes)).isoformat()}
        for n, (lat, lon, minutes) in enumerate(POSITIONS, start=1)
    ]  # fmt: skip
    events.append({"device": "SEAL-12", "id": 1, "kind": "door_open", "lat": 11.80, "lon": 99.67,
                   "at": (start + timedelta(minutes=131)).isoformat()})  # fmt: skip
    ingest(session, [EventIn.model_validate(e) for e in events], source=Source(), now=now)
    return TRIP
