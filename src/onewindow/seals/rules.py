"""The rules a trip's events are held to, one event at a time, with what each trip keeps
between events (`TripState`): a few fields per trip whatever the number of its events. Pure.

Each rule raises one alert per episode, not one per event:
- `off_route`: a position further from the route than the corridor's half-width; the episode
  ends back inside the corridor.
- `long_stop`: stopped (at most `STOP_KMH`) longer than the limit, outside the authorised
  stops and the destination; ends when the truck moves.
- `door_open`, `tamper`: the event itself; ends when the seal is armed again.
- `silence`: no event (but `signal_lost`) for longer than the limit; seen at the next event or
  by the sweep (`silent`), ends with the next event.
- `wrong_arrival`: a seal released away from the destination office (or the trip ended at
  another office: `service.end_trip`); once per trip.

Events come in time order per trip (the service sorts each batch). One at or before the
newest already taken (`late`) is stored but moves nothing back: only a door or tamper event
still raises its alert, since the door was opened whenever it says.

Most events are quiet: a truck moving inside its corridor, heard in time. `quiet` finds them
for a whole batch at once and `run` only keeps the last of each run of them (`settle`), which
leaves the state as taking each with `step` would, and raises nothing, as `step` would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np

STOP_KMH = 3.0  # at or below: stopped (GPS speed jitters around zero when parked)


@dataclass(frozen=True)
class Limits:
    corridor_m: float
    max_stop_ms: int
    max_silence_ms: int


class Event(NamedTuple):
    """An event as the rules see it: the geometry is measured beforehand, for the batch. A
    tuple: a batch makes thousands."""

    ms: int
    kind: str
    device: str
    lat: float | None = None
    lon: float | None = None
    speed: float | None = None
    off_route_m: float = 0.0
    in_stop: bool = False
    at_destination: bool = False


@dataclass(frozen=True)
class Alert:
    kind: str
    ms: int
    lat: float | None
    lon: float | None
    device: str | None
    detail: str


@dataclass
class TripState:
    last_ms: int | None = None  # the newest event taken
    heard_ms: int | None = None  # the newest that shows the seal is heard (not signal_lost)
    lat: float | None = None
    lon: float | None = None
    off_route: bool = False
    stopped_ms: int | None = None
    stop_alerted: bool = False
    silent: bool = False
    door: bool = False
    tamper: bool = False
    wrong_arrival: bool = False
    at_destination: bool = False  # where the last position was

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()  # the fields, nothing else: no attribute is ever added

    @classmethod
    def of(cls, data: dict[str, Any]) -> TripState:
        return cls(**data)

    def copy(self) -> TripState:
        made = TripState.__new__(TripState)
        made.__dict__.update(self.__dict__)
        return made


def _minutes(ms: int) -> str:
    return f"{ms / 60_000:.0f} min"


def step(state: TripState, event: Event, limits: Limits) -> list[Alert]:
    """Take one event; the alerts it raises. `state` is changed in place."""
    if state.last_ms is not None and event.ms <= state.last_ms:
        return _late(state, event)
    raised: list[Alert] = []
    if event.kind != "signal_lost":
        raised += _heard(state, event, limits)
    state.last_ms = event.ms
    if event.lat is not None and event.lon is not None:
        state.lat, state.lon = event.lat, event.lon
        state.at_destination = event.at_destination
    if event.kind == "position":
        raised += _position(state, event, limits)
    elif event.kind in ("door_open", "tamper"):
        raised += _opened(state, event)
    elif event.kind == "armed":
        state.door = state.tamper = False
    elif event.kind == "released" and not state.at_destination and not state.wrong_arrival:
        state.wrong_arrival = True
        where = "away from" if state.lat is not None else "with no position known near"
        raised.append(
            _alert("wrong_arrival", event, state, f"released {where} the destination office")
        )
    return raised


def _late(state: TripState, event: Event) -> list[Alert]:
    if event.kind in ("door_open", "tamper"):
        return _opened(state, event)
    return []


def _alert(kind: str, event: Event, state: TripState, detail: str, ms: int | None = None) -> Alert:
    lat, lon = (event.lat, event.lon) if event.lat is not None else (state.lat, state.lon)
    return Alert(kind, event.ms if ms is None else ms, lat, lon, event.device, detail)


def _heard(state: TripState, event: Event, limits: Limits) -> list[Alert]:
    raised = []
    if state.heard_ms is not None and not state.silent:
        gap = event.ms - state.heard_ms
        if gap > limits.max_silence_ms:
            raised.append(
                Alert(
                    "silence",
                    state.heard_ms + limits.max_silence_ms,
                    state.lat,
                    state.lon,
                    event.device,
                    f"no event for {_minutes(gap)} (limit {_minutes(limits.max_silence_ms)})",
                )
            )
    state.silent = False
    state.heard_ms = event.ms
    return raised


def _position(state: TripState, event: Event, limits: Limits) -> list[Alert]:
    raised = []
    if event.off_route_m > limits.corridor_m:
        if not state.off_route:
            state.off_route = True
            raised.append(
                _alert(
                    "off_route",
                    event,
                    state,
                    f"{event.off_route_m:.0f} m from "
                    f"the route (corridor {limits.corridor_m:.0f} m)",
                )
            )
    else:
        state.off_route = False
    if (event.speed or 0.0) > STOP_KMH:
        state.stopped_ms, state.stop_alerted = None, False
        return raised
    if state.stopped_ms is None:
        state.stopped_ms = event.ms
    stopped = event.ms - state.stopped_ms
    allowed = event.in_stop or event.at_destination
    if not state.stop_alerted and not allowed and stopped > limits.max_stop_ms:
        state.stop_alerted = True
        raised.append(
            _alert(
                "long_stop",
                event,
                state,
                f"stopped {_minutes(stopped)} outside "
                f"an authorised stop (limit {_minutes(limits.max_stop_ms)})",
                state.stopped_ms + limits.max_stop_ms,
            )
        )
    return raised


def _opened(state: TripState, event: Event) -> list[Alert]:
    if event.kind == "door_open":
        if state.door:
            return []
        state.door = True
        return [_alert("door_open", event, state, "container door opened")]
    if state.tamper:
        return []
    state.tamper = True
    return [_alert("tamper", event, state, "the seal reports tampering")]


def silence(state: TripState, now_ms: int, limits: Limits, device: str | None) -> Alert | None:
    """The sweep's check of a trip between events: silent too long and not yet alerted."""
    if state.silent or state.heard_ms is None or now_ms - state.heard_ms <= limits.max_silence_ms:
        return None
    state.silent = True
    return Alert(
        "silence",
        state.heard_ms + limits.max_silence_ms,
        state.lat,
        state.lon,
        device,
        f"no event for more than {_minutes(limits.max_silence_ms)}",
    )


def first_ok(state: TripState, ms: int, limits: Limits) -> bool:
    """Whether a trip's first event in a batch, at `ms`, finds the state letting it be quiet:
    newer than the newest taken, and heard within the limit (or never heard, or silent)."""
    if state.last_ms is not None and ms <= state.last_ms:
        return False
    return state.heard_ms is None or state.silent or ms - state.heard_ms <= limits.max_silence_ms


def surely_late(ms: np.ndarray, first: np.ndarray, newest: np.ndarray) -> np.ndarray:
    """For events sorted by trip then time: those `step` takes as late whatever the events
    before them do, a trip's first at or before the newest taken (`newest`, per event), any
    other at or before the event before it (the newest taken is at least that one's time).
    Nothing reads their measures (`off_route_m`, `in_stop`, `at_destination`)."""
    before = np.empty_like(ms)
    before[1:] = ms[:-1]
    return np.where(first, ms <= newest, ms <= before)


STEP, QUIET, SAME, BEHIND = 0, 1, 2, 3  # what `run` does with an event: see `quiet`


def quiet(
    ms: np.ndarray,
    first: np.ndarray,
    first_ok: np.ndarray,
    position: np.ndarray,
    opens: np.ndarray,
    placed: np.ndarray,
    speed: np.ndarray,
    off_route_m: np.ndarray,
    corridor_m: np.ndarray,
    max_silence_ms: np.ndarray,
) -> np.ndarray:
    """For events sorted by trip then time (an array per field; `first`: a trip's first;
    `position`: a position; `opens`: a door or tamper event; `placed`: with its coordinates;
    speed NaN if none), what `run` may do with each without `step`:
    - QUIET: a position moving inside the corridor, newer than the event before it and
      within the silence limit of it: `step` would raise nothing and leave what `settle`
      leaves, if the event before was taken as the newest and heard (`run` checks that).
    - SAME, BEHIND: not a trip's first, at the time of the event before it or before it, and
      neither a door nor a tamper event: late whatever the state (the newest taken is at
      least the event before's time), so `step` would change nothing and raise nothing.
    - STEP: any other."""
    before = np.empty_like(ms)
    before[1:] = ms[:-1]
    gap = ms - before
    follows = (gap > 0) & (gap <= max_silence_ms)
    moving = np.nan_to_num(speed, nan=0.0) > STOP_KMH
    calm = position & placed & moving & (off_route_m <= corridor_m)
    out = np.where(calm & np.where(first, first_ok, follows), QUIET, STEP)
    behind = ~first & (gap <= 0) & ~opens
    out[behind] = np.where(gap[behind] == 0, SAME, BEHIND)
    return out.astype(np.int8)


def settle(state: TripState, event: Sequence[Any]) -> None:
    """What `step` leaves of a quiet event (fields as `Event`'s)."""
    settle_at(state, event[0], event[3], event[4], event[8])


def settle_at(
    state: TripState, ms: int, lat: float | None, lon: float | None, at_destination: bool
) -> None:
    """`settle` from the fields it reads (a batch settles a thousand trips this way)."""
    state.last_ms = state.heard_ms = ms
    state.silent = state.off_route = state.stop_alerted = False
    state.stopped_ms = None
    state.lat, state.lon, state.at_destination = lat, lon, at_destination


class Rows(Protocol):
    def __getitem__(self, n: int, /) -> Sequence[Any]: ...


def run(
    state: TripState, rows: Rows, classes: Sequence[int], limits: Limits
) -> tuple[list[Alert], int]:
    """A trip's events in time order (each the fields of an `Event`), classed by `quiet`: the
    alerts, and how many were late. Each run of quiet events is settled once, with its last;
    late ones that change nothing are counted; the others are stepped. Only the rows used are
    read: `rows` may make them when asked."""
    raised: list[Alert] = []
    late = 0
    pending = -1  # the last quiet event not settled yet
    ok = True  # the event before was taken as the newest and heard (the first: see quiet)
    for n, what in enumerate(classes):
        if what == QUIET and ok:
            pending = n
            continue
        if what in (SAME, BEHIND):
            late += 1
            ok = ok and what == SAME  # the state is as the event before left it
            continue
        if pending >= 0:
            settle(state, rows[pending])
            pending = -1
        row = rows[n]
        ms = row[0]
        if state.last_ms is not None and ms <= state.last_ms:
            late += 1
        found = step(state, Event._make(row), limits)
        if found:
            raised += found
        ok = state.last_ms == ms and state.heard_ms == ms
    if pending >= 0:
        settle(state, rows[pending])
    return raised, late
