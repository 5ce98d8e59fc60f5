"""The geometry of a batch: positions projected with a centre per position equal PROJ's own
azimuthal equidistant projection of each trip, and measuring the positions of several trips
at once gives what measuring each trip alone gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer

from onewindow.seals.geometry import Circle, measure, plan

SOUTH = ((100.50, 13.75), (99.96, 12.57), (99.18, 10.50))  # Bangkok towards Chumphon
EAST = ((100.50, 13.75), (102.10, 14.00), (104.90, 11.60))  # Bangkok towards Phnom Penh
NORTH = ((105.85, 21.03), (106.30, 21.70), (106.76, 22.00))  # Hanoi towards Lang Son


def aeqd(lat0: float, lon0: float) -> Transformer:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m +no_defs")
    return Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-2.0, 2.0), st.floats(-2.0, 2.0)), min_size=1, max_size=40))
def test_the_projection_is_projs_aeqd_to_a_millimetre(offsets: list[tuple[float, float]]) -> None:
    made = plan(SOUTH, (), Circle(10.5, 99.18, 1000))
    lats = np.array([made.lat0 + a for a, _ in offsets])
    lons = np.array([made.lon0 + b for _, b in offsets])
    xs, ys = made.project(lats, lons)
    px, py = aeqd(made.lat0, made.lon0).transform(lons, lats)
    assert np.max(np.hypot(xs - px, ys - py)) < 1e-3


def test_several_trips_at_once_as_each_alone() -> None:
    stop = Circle(12.57, 99.96, 500)
    plans = [
        plan(SOUTH, (stop,), Circle(10.5, 99.18, 1000)),
        plan(EAST, (), Circle(11.6, 104.9, 2000)),
        plan(NORTH, (Circle(21.7, 106.3, 800), Circle(21.03, 105.85, 300)), Circle(22, 106.8, 900)),
    ]
    rng = np.random.default_rng(3)
    which = rng.integers(0, 3, 300)
    lats = np.empty(300)
    lons = np.empty(300)
    for n, k in enumerate(which):  # around each trip's own route, some on its stops
        route = (SOUTH, EAST, NORTH)[k]
        lon, lat = route[rng.integers(0, len(route))]
        lats[n], lons[n] = lat + rng.normal(0, 0.01), lon + rng.normal(0, 0.01)
    together = measure(plans, which, lats, lons)
    for k, each in enumerate(plans):
        mine = which == k
        alone = each.measure(lats[mine], lons[mine])
        assert np.allclose(together.off_route_m[mine], alone.off_route_m, rtol=0, atol=1e-6)
        assert (together.in_stop[mine] == alone.in_stop).all()
        assert (together.at_destination[mine] == alone.at_destination).all()
    assert together.in_stop.any() and together.at_destination.any()
    assert (together.off_route_m > 1000).any() and (together.off_route_m < 1000).any()


def test_trips_sharing_a_plan_as_each_alone() -> None:
    """Trips on the same road share one plan object: measured as if each had its own."""
    south = plan(SOUTH, (Circle(12.57, 99.96, 500),), Circle(10.5, 99.18, 1000))
    east = plan(EAST, (), Circle(11.6, 104.9, 2000))
    plans = [south, east, south, south, east]  # five trips, two plans
    rng = np.random.default_rng(5)
    which = rng.integers(0, len(plans), 200)
    lats, lons = np.empty(200), np.empty(200)
    for n, k in enumerate(which):
        route = SOUTH if plans[k] is south else EAST
        lon, lat = route[rng.integers(0, len(route))]
        lats[n], lons[n] = lat + rng.normal(0, 0.01), lon + rng.normal(0, 0.01)
    together = measure(plans, which, lats, lons)
    for k, each in enumerate(plans):
        mine = which == k
        alone = each.measure(lats[mine], lons[mine])
        assert np.allclose(together.off_route_m[mine], alone.off_route_m, rtol=0, atol=1e-6)
        assert (together.in_stop[mine] == alone.in_stop).all()
        assert (together.at_destination[mine] == alone.at_destination).all()
