"""The pure parts: the rules' episodes, packed records, the geometry against pyproj's own
geodesic distances, an event's time in milliseconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from onewindow.seals import packing, rules
from onewindow.seals.geometry import Circle, plan
from onewindow.seals.intake import EPOCH, MS, ms_of

LIMITS = rules.Limits(corridor_m=1000, max_stop_ms=30 * 60_000, max_silence_ms=20 * 60_000)
MIN = 60_000


def run(state: rules.TripState, *events: rules.Event) -> list[str]:
    return [a.kind for e in events for a in rules.step(state, e, LIMITS)]


def pos(
    minute: int,
    *,
    off: float = 0.0,
    speed: float = 50.0,
    stop: bool = False,
    destination: bool = False,
) -> rules.Event:
    return rules.Event(minute * MIN, "position", "S1", 13.0, 100.0, speed, off, stop, destination)


def test_off_route_once_per_episode_and_again_after_coming_back() -> None:
    state = rules.TripState()
    kinds = run(
        state, pos(1), pos(2, off=1500), pos(3, off=5000), pos(4, off=900), pos(5, off=2000)
    )
    assert kinds == ["off_route", "off_route"]  # minutes 2 and 5: two episodes


def test_a_long_stop_outside_an_authorised_stop_once_and_not_inside_one() -> None:
    state = rules.TripState()
    stopped = [pos(m, speed=0) for m in range(0, 90, 10)]
    assert run(state, *stopped) == ["long_stop"]
    alert = rules.step(rules.TripState(), pos(0, speed=0), LIMITS)
    assert alert == []
    resting = rules.TripState()
    assert run(resting, *[pos(m, speed=0, stop=True) for m in range(0, 90, 10)]) == []
    # moving again ends the episode: the next long stop is a new alert
    assert run(state, pos(100), *[pos(m, speed=1) for m in range(110, 160, 10)]) == ["long_stop"]


def test_the_long_stop_alert_is_dated_when_the_limit_passed() -> None:
    state = rules.TripState()
    stopped = [pos(m, speed=0) for m in range(0, 41, 10)]
    alerts = [a for e in stopped for a in rules.step(state, e, LIMITS)]
    assert [(a.kind, a.ms) for a in alerts] == [("long_stop", 30 * MIN)]


def test_door_and_tamper_once_until_the_seal_is_armed_again() -> None:
    state = rules.TripState()
    door = [rules.Event(m * MIN, "door_open", "S1") for m in (1, 2, 3)]
    assert run(state, *door) == ["door_open"]
    assert run(
        state, rules.Event(4 * MIN, "tamper", "S1"), rules.Event(5 * MIN, "tamper", "S1")
    ) == ["tamper"]
    assert run(
        state, rules.Event(6 * MIN, "armed", "S1"), rules.Event(7 * MIN, "door_open", "S1")
    ) == ["door_open"]


def test_silence_seen_at_the_next_event_once_and_by_the_sweep_once() -> None:
    state = rules.TripState(heard_ms=0)
    assert run(state, pos(25)) == ["silence"]
    assert run(state, pos(30)) == []
    # the sweep between events: once, and the next event does not raise it again
    assert rules.silence(state, 55 * MIN, LIMITS, None) is not None
    assert rules.silence(state, 60 * MIN, LIMITS, None) is None
    assert run(state, pos(61)) == []
    # signal_lost is no sign of life: the silence goes on through it
    assert run(state, rules.Event(70 * MIN, "signal_lost", "S1"), pos(90)) == ["silence"]


def test_a_late_event_moves_nothing_back_but_a_door_still_alerts() -> None:
    state = rules.TripState()
    run(state, pos(10), pos(20, off=3000))
    before = state.as_json()
    assert run(state, pos(15, off=0)) == []
    assert state.as_json() == before  # not back on the route: that position was older
    assert run(state, rules.Event(12 * MIN, "door_open", "S1")) == ["door_open"]


def test_released_away_from_the_destination_once() -> None:
    state = rules.TripState()
    run(state, pos(1))
    released = rules.Event(2 * MIN, "released", "S1")
    assert run(state, released, rules.Event(3 * MIN, "released", "S2")) == ["wrong_arrival"]
    there = rules.TripState()
    run(there, pos(1, destination=True))
    assert run(there, rules.Event(2 * MIN, "released", "S1")) == []


record = st.tuples(
    st.integers(0, 2**63 - 1),
    st.integers(-(2**31) + 1, 2**31 - 1),
    st.one_of(st.none(), st.floats(-90, 90)),
    st.floats(-180, 180),
    st.floats(0, 400),
    st.sampled_from(packing.KINDS),
)


@given(st.lists(record, max_size=50), st.integers(0, 2**40))
def test_records_pack_and_unpack_to_within_a_centimetre(rows: list, base: int) -> None:
    rows = [
        (seq, base + dt, lat, None if lat is None else lon, speed, kind)
        for seq, dt, lat, lon, speed, kind in rows
    ]
    back = packing.unpack(packing.pack(packing.records(base, rows)))
    assert len(back) == len(rows) and back.dtype.itemsize == 23
    for r, (seq, ms, lat, lon, speed, kind) in zip(back, rows, strict=True):
        assert (int(r["seq"]), int(r["dt"]) + base, packing.KINDS[r["kind"]]) == (seq, ms, kind)
        if lat is None:
            assert r["lat"] == r["lon"] == packing.NO_COORD
        else:
            assert abs(r["lat"] / packing.SCALE - lat) < 1e-7
            assert abs(r["lon"] / packing.SCALE - lon) < 1e-7
        assert abs(r["speed"] / 10 - speed) <= 0.05 + 1e-9


def test_distances_agree_with_the_geodesic_within_half_a_percent() -> None:
    route = ((100.50, 13.75), (99.96, 12.57), (99.18, 10.50))
    measured = plan(route, (), Circle(10.5, 99.18, 1000))
    geod = Geod(ellps="WGS84")
    # points due east of the route's vertices (the nearest point of the route is the vertex
    # for the first, near enough for the others): compare with the geodesic distance
    for lon, lat in route:
        for metres in (500.0, 5_000.0, 50_000.0):
            east_lon, east_lat, _ = geod.fwd(lon, lat, 90, metres)
            found = measured.measure(np.array([east_lat]), np.array([east_lon])).off_route_m[0]
            assert found <= metres * 1.005
            assert found >= metres * 0.5  # the route runs south-west: the line comes closer


def test_stops_and_destination_by_their_radius() -> None:
    geod = Geod(ellps="WGS84")
    stop = Circle(12.57, 99.96, 500)
    made = plan(((100.5, 13.75), (99.18, 10.5)), (stop,), Circle(10.5, 99.18, 1000))
    lons, lats = [], []
    for metres in (400.0, 600.0):
        lon, lat, _ = geod.fwd(stop.lon, stop.lat, 0, metres)
        lons.append(lon)
        lats.append(lat)
    found = made.measure(np.array(lats), np.array(lons))
    assert found.in_stop.tolist() == [True, False]
    assert found.at_destination.tolist() == [False, False]


@given(
    st.datetimes(
        timezones=st.builds(
            timezone, st.timedeltas(timedelta(hours=-23, minutes=-59), timedelta(hours=23))
        )
    )
)
def test_an_events_time_in_ms_as_the_subtraction_gives_it(at: datetime) -> None:
    assert ms_of(at) == (at - EPOCH) // MS


MINUTES = st.integers(0, 90).map(lambda m: m * MIN)  # coarse: equal times come up
MAYBE_MS = st.one_of(st.none(), MINUTES)
states = st.builds(
    rules.TripState,
    last_ms=MAYBE_MS,
    heard_ms=MAYBE_MS,
    lat=st.one_of(st.none(), st.just(13.0)),
    lon=st.one_of(st.none(), st.just(100.0)),
    off_route=st.booleans(),
    stopped_ms=MAYBE_MS,
    stop_alerted=st.booleans(),
    silent=st.booleans(),
    door=st.booleans(),
    tamper=st.booleans(),
    wrong_arrival=st.booleans(),
    at_destination=st.booleans(),
)
rows = st.tuples(
    MINUTES,
    st.sampled_from(["position"] * 6 + ["door_open", "armed", "signal_lost", "released"]),
    st.sampled_from(["S1", "S2"]),
    st.one_of(st.none(), st.floats(12.0, 14.0)),
    st.just(100.0),
    st.one_of(st.none(), st.sampled_from([0.0, 2.0, 3.0, 3.5, 60.0])),
    st.sampled_from([0.0, 500.0, 1999.0, 2000.0, 2001.0, 9000.0]),
    st.booleans(),
    st.booleans(),
)


def moving(minute: int, device: str = "S1", kind: str = "position") -> tuple:
    return (minute * MIN, kind, device, 13.0 + minute / 100, 100.0, 60.0, 0.0, False, False)


TWO_AT_ONCE = [moving(1), moving(1, "S2")]  # the second late, at the same time
# late, before the newest: the next is newer than it but still late
GOING_BACK = [moving(10), moving(5, "S2"), moving(7)]
TAMPER_LATE = [moving(10), moving(10, "S2", "tamper")]  # late, and still an alert
HEARD_AT_10 = rules.TripState(last_ms=10 * MIN, heard_ms=10 * MIN)
# the next minute, off the route: not late, so measured, and an alert
OFF_NEXT = [(11 * MIN, "position", "S1", 13.0, 100.0, 60.0, 9000.0, False, False)]


@settings(max_examples=400, deadline=None)
@given(states, st.lists(rows, max_size=40), st.booleans(), st.integers(1, 30))
@example(rules.TripState(), TWO_AT_ONCE, True, 30)
@example(rules.TripState(), GOING_BACK, False, 30)
@example(rules.TripState(), TAMPER_LATE, True, 30)
@example(HEARD_AT_10, OFF_NEXT, True, 30)
@example(rules.TripState(), [moving(1), moving(1, "S2"), moving(2), moving(2, "S2")], True, 30)
def test_quiet_events_settled_at_once_as_each_stepped(
    state: rules.TripState, found: list[tuple], in_order: bool, silence_minutes: int
) -> None:
    found = sorted(found, key=lambda r: r[0]) if in_order else found
    found = [(*r[:4], None if r[3] is None else r[4], *r[5:]) for r in found]  # both or neither
    limits = rules.Limits(2000.0, 45 * MIN, silence_minutes * MIN)
    stepped, late = rules.TripState.of(state.as_json()), 0
    alerts = []
    for r in found:
        late += stepped.last_ms is not None and r[0] <= stepped.last_ms
        alerts += rules.step(stepped, rules.Event(*r), limits)
    n = len(found)
    ms = np.array([r[0] for r in found], dtype=np.int64)
    classes = rules.quiet(
        ms,
        np.arange(n) == 0,
        np.full(n, bool(n) and rules.first_ok(state, found[0][0], limits)),
        np.array([r[1] == "position" for r in found], dtype=bool),
        np.array([r[1] in ("door_open", "tamper") for r in found], dtype=bool),
        np.array([r[3] is not None for r in found], dtype=bool),
        np.array([r[5] for r in found], dtype=float),
        np.array([r[6] for r in found], dtype=float),
        np.full(n, limits.corridor_m),
        np.full(n, limits.max_silence_ms, dtype=np.int64),
    )
    # the late ones' measures are never read: the batch does not measure them
    newest = np.full(n, -(2**63) if state.last_ms is None else state.last_ms)
    unmeasured = rules.surely_late(ms, np.arange(n) == 0, newest).tolist()
    found = [
        (*r[:6], 0.0, False, False) if skip else r
        for r, skip in zip(found, unmeasured, strict=True)
    ]
    ran = rules.TripState.of(state.as_json())
    assert rules.run(ran, found, classes.tolist(), limits) == (alerts, late)
    assert ran.as_json() == stepped.as_json()
    same = classes == rules.SAME
    if n and ((classes == rules.QUIET) | same).all():  # calm: the batch settles one event
        calm = rules.TripState.of(state.as_json())
        rules.settle(calm, found[int(np.flatnonzero(classes == rules.QUIET)[-1])])
        assert (calm.as_json(), alerts, late) == (stepped.as_json(), [], int(same.sum()))
