"""What a trip was registered with, for its page: the route and corridor, the authorised
stops, the limits and the destination. Read only; `service.trip` gives its status, seals
and alerts, `service.track` its positions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit.errors import NotFound, Text
from onewindow.seals.models import SealTrip
from onewindow.seals.schemas import Destination, Stop


@dataclass(frozen=True)
class TripPlan:
    route: list[tuple[float, float]]  # lon, lat, as GeoJSON has them
    corridor_m: float
    stops: list[Stop]
    max_stop_minutes: int
    max_silence_minutes: int
    destination: Destination


def trip_plan(session: Session, reference: str) -> TripPlan:
    row = session.scalar(select(SealTrip).where(SealTrip.reference == reference))
    if row is None:
        raise NotFound(Text("no trip {reference} is under seal here", reference=reference))
    return TripPlan(
        route=[(float(lon), float(lat)) for lon, lat in row.route["coordinates"]],
        corridor_m=row.corridor_m,
        stops=[Stop.model_validate(s) for s in row.stops],
        max_stop_minutes=row.max_stop_s // 60,
        max_silence_minutes=row.max_silence_s // 60,
        destination=Destination(
            office=row.destination_office,
            lat=row.destination_lat,
            lon=row.destination_lon,
            radius_m=row.destination_radius_m,
        ),
    )
