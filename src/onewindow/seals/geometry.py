"""A trip's plan in metres: its route corridor, authorised stops and destination, projected
once, and the positions of a batch measured against them at once. Pure: no I/O.

The projection is an azimuthal equidistant one centred on the route, on WGS 84: along a
route of 1,500 km its scale is within 0.3 % of true everywhere near it, a few metres on a
corridor of a kilometre. It is computed as PROJ's own `aeqd` computes it on the ellipsoid
(the geodesic from the centre: x = s sin α, y = s cos α), with pyproj's `Geod`, which takes a
centre per point: so the positions of every trip in a batch, each against its own centre,
are projected in one call, and measured against their own routes in one call of shapely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString

WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Measures:
    """Per position: metres from the route's line; inside an authorised stop; at the
    destination office."""

    off_route_m: np.ndarray
    in_stop: np.ndarray
    at_destination: np.ndarray


def project(
    lat0: np.ndarray, lon0: np.ndarray, lats: np.ndarray, lons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in metres on the azimuthal equidistant projection centred, for each, on
    (lat0, lon0) of the same index."""
    azimuth, _, metres = WGS84.inv(lon0, lat0, lons, lats)
    angle = np.radians(azimuth)
    return metres * np.sin(angle), metres * np.cos(angle)


class Plan:
    def __init__(
        self, route: tuple[tuple[float, float], ...], stops: tuple[Circle, ...], destination: Circle
    ) -> None:
        centre = LineString(route).centroid
        self.lat0, self.lon0 = float(centre.y), float(centre.x)
        xs, ys = self.project(np.array([p[1] for p in route]), np.array([p[0] for p in route]))
        self.route = LineString(np.column_stack([xs, ys]))
        shapely.prepare(self.route)
        self.stops = self._projected(stops)  # x, y, radius: a row per stop
        self.destination = self._projected((destination,))[0]

    def project(self, lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
        return project(np.full(lats.shape, self.lat0), np.full(lons.shape, self.lon0), lats, lons)

    def _projected(self, circles: tuple[Circle, ...]) -> np.ndarray:
        xs, ys = self.project(
            np.array([c.lat for c in circles]), np.array([c.lon for c in circles])
        )
        return np.column_stack([xs, ys, [c.radius_m for c in circles]]).reshape(-1, 3)

    def measure(self, lats: np.ndarray, lons: np.ndarray) -> Measures:
        return measure([self], np.zeros(len(lats), dtype=np.intp), lats, lons)


def measure(
    plans: Sequence[Plan], which: np.ndarray, lats: np.ndarray, lons: np.ndarray
) -> Measures:
    """Positions measured each against its own plan, `plans[which[n]]`: one projection and
    one distance call for all of them, whatever the number of plans."""
    if len(lats) == 0:
        empty = np.zeros(0)
        return Measures(empty, empty.astype(bool), empty.astype(bool))
    # trips on the same road share a plan (`plan` is cached): each one's arrays made once
    rank: dict[int, int] = {}
    each = [rank.setdefault(id(p), len(rank)) for p in plans]
    if len(rank) < len(plans):
        plans = list({id(p): p for p in plans}.values())  # in the order of `rank`
        which = np.array(each, dtype=np.intp)[which]
    centres = np.array([(p.lat0, p.lon0) for p in plans])[which]
    xs, ys = project(centres[:, 0], centres[:, 1], lats, lons)
    routes = np.array([p.route for p in plans], dtype=object)[which]
    off = shapely.distance(shapely.points(xs, ys), routes)
    destinations = np.array([p.destination for p in plans])[which]
    at_destination = _inside(xs, ys, destinations[:, None, :])[:, 0]
    most = max(len(p.stops) for p in plans)
    in_stop: np.ndarray = np.zeros(len(xs), dtype=bool)
    if most:
        # every plan's stops in one array, the missing ones with a radius no point is within
        stops = np.full((len(plans), most, 3), -1.0)
        for n, p in enumerate(plans):
            stops[n, : len(p.stops)] = p.stops
        in_stop = np.asarray(_inside(xs, ys, stops[which]).any(axis=1), dtype=bool)
    return Measures(np.asarray(off, dtype=float), in_stop, at_destination)


def _inside(xs: np.ndarray, ys: np.ndarray, circles: np.ndarray) -> np.ndarray:
    """Positions by circles: whether each position is within each of its circles."""
    dx, dy = xs[:, None] - circles[:, :, 0], ys[:, None] - circles[:, :, 1]
    return np.hypot(dx, dy) <= circles[:, :, 2]


@lru_cache(maxsize=4096)
def plan(
    route: tuple[tuple[float, float], ...], stops: tuple[Circle, ...], destination: Circle
) -> Plan:
    """The plan of these places, built once per process: projecting a route costs some time
    and trips on the same road share it."""
    return Plan(route, stops, destination)
