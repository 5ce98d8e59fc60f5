"""A batch's events through the rules: sorted by trip, time, device and id; the positions
of every trip measured in one call (`geometry.measure`), but those sure to be late; classed
(`rules.quiet`) so that runs of quiet events are settled at once and late ones that change
nothing only counted; the others stepped. No I/O: the trips' state comes in, copies go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import Any

import numpy as np

from onewindow.seals import geometry, memory, packing, rules
from onewindow.seals.seats import Seat

POSITION, DOOR_OPEN, TAMPER = (packing.KIND_CODE[k] for k in ("position", "door_open", "tamper"))
NEVER = -(2**63)  # before any time: a trip with no event taken yet


@dataclass
class Columns:
    """The batch's events a field at a time (read once from the models), and each device's
    events (their indexes)."""

    times: list[int]  # ms
    ids: list[int]
    kinds: list[str]
    lats: list[float | None]
    lons: list[float | None]
    speeds: list[float | None]
    by_device: dict[str, list[int]]

    @cached_property
    def lat_array(self) -> np.ndarray:
        return np.array(self.lats, dtype=float)  # NaN: none

    @cached_property
    def lon_array(self) -> np.ndarray:
        return np.array(self.lons, dtype=float)

    @cached_property
    def speed_array(self) -> np.ndarray:
        return np.array(self.speeds, dtype=float)

    @cached_property
    def kind_array(self) -> np.ndarray:
        return np.array([packing.KIND_CODE[k] for k in self.kinds], dtype=np.uint8)


@dataclass
class Taken:
    """The events taken, seal after seal (`seats`, sorted by trip and device, each with
    `counts[k]` events): their indexes in the batch, and their times and ids."""

    seats: list[Seat]
    counts: list[int]
    events: np.ndarray
    ms: np.ndarray
    ids: np.ndarray

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.counts[:-1])]).astype(np.intp)


def evaluate(
    trips: dict[int, memory.Known], taken: Taken, cols: Columns
) -> tuple[int, list[tuple[int, rules.Alert]], dict[int, rules.TripState]]:
    """Every trip's events through the rules in time order (then by device and id), the
    positions of all of them measured at once. The kept states are not changed: each trip
    steps a copy."""
    if not taken.seats:
        return 0, [], {}
    trip_ids = [seat.trip for seat in taken.seats]
    starts_trip = [True] + [a != b for a, b in pairwise(trip_ids)]
    order = [t for t, new in zip(trip_ids, starts_trip, strict=True) if new]
    seat_rank = np.repeat(np.arange(len(taken.seats)), taken.counts)  # by trip, then device
    trip_rank = np.repeat(np.cumsum(starts_trip) - 1, taken.counts)
    sorted_ = np.lexsort((taken.ids, seat_rank, taken.ms, trip_rank))
    events = taken.events[sorted_]
    ranks = trip_rank[sorted_]
    lats, lons = cols.lat_array[events], cols.lon_array[events]
    placed = ~np.isnan(lats)  # and lon: checked
    ms = taken.ms[sorted_]
    first = np.empty(len(ranks), dtype=bool)
    first[0], first[1:] = True, ranks[1:] != ranks[:-1]
    starts = np.flatnonzero(first)
    states = {t: trips[t].state.copy() for t in order}
    limits = [trips[t].limits for t in order]
    newest = [NEVER if states[t].last_ms is None else states[t].last_ms for t in order]
    # late positions change nothing: only the others are measured
    where = placed & ~rules.surely_late(ms, first, np.array(newest, dtype=np.int64)[ranks])
    measured = geometry.measure(
        [trips[t].plan for t in order], ranks[where], lats[where], lons[where]
    )
    off = np.zeros(len(events))
    in_stop = np.zeros(len(events), dtype=bool)
    at_destination = np.zeros(len(events), dtype=bool)
    off[where], in_stop[where], at_destination[where] = (
        measured.off_route_m,
        measured.in_stop,
        measured.at_destination,
    )
    devices = [seat.device for seat in taken.seats]
    kinds = cols.kind_array[events]
    speeds = cols.speed_array[events]
    first_ok = [
        rules.first_ok(states[t], m, lim)
        for t, m, lim in zip(order, ms[starts].tolist(), limits, strict=True)
    ]
    found_classes = rules.quiet(
        ms,
        first,
        np.array(first_ok, dtype=bool)[ranks],
        kinds == POSITION,
        (kinds == DOOR_OPEN) | (kinds == TAMPER),
        placed,
        speeds,
        off,
        np.array([lim.corridor_m for lim in limits])[ranks],
        np.array([lim.max_silence_ms for lim in limits], dtype=np.int64)[ranks],
    )
    # Most trips' events in a batch are quiet, or at the time of the one before (a truck's
    # seals report together): `run` settles the last quiet one and counts the others late.
    quiet = found_classes == rules.QUIET
    same = found_classes == rules.SAME
    calm = np.logical_and.reduceat(quiet | same, starts).tolist()
    same_counts = np.add.reduceat(same, starts).tolist()
    last_quiet = np.maximum.reduceat(np.where(quiet, np.arange(len(quiet)), -1), starts).tolist()
    classes = found_classes.tolist()
    rows = _Rows(
        ms.tolist(),
        [devices[k] for k in seat_rank[sorted_].tolist()],
        events.tolist(),
        off.tolist(),
        in_stop.tolist(),
        at_destination.tolist(),
        cols,
    )
    late = 0
    raised: list[tuple[int, rules.Alert]] = []
    bounds = [*starts.tolist(), len(events)]
    ms_of, events_of, at_destination_of = rows.ms, rows.events, rows.at_destination
    lats_of, lons_of = cols.lats, cols.lons
    for k, trip_id in enumerate(order):
        if calm[k]:  # what `run` does with them, without its loop (nor a row made)
            j = last_quiet[k]
            e = events_of[j]
            rules.settle_at(states[trip_id], ms_of[j], lats_of[e], lons_of[e], at_destination_of[j])
            late += same_counts[k]
            continue
        a, b = bounds[k], bounds[k + 1]
        rows.start = a
        found, behind = rules.run(states[trip_id], rows, classes[a:b], limits[k])
        late += behind
        raised += [(trip_id, alert) for alert in found]
    return late, raised, states


@dataclass
class _Rows:
    """The sorted events as `rules.Event` fields, each made when `rules.run` asks for it (the
    quiet ones but the last of each run are not): the n-th of the trip starting at `start`."""

    ms: list[int]
    devices: list[str]
    events: list[int]  # their indexes in the batch
    off: list[float]
    in_stop: list[bool]
    at_destination: list[bool]
    cols: Columns
    start: int = 0

    def __getitem__(self, n: int) -> tuple[Any, ...]:
        j = self.start + n
        e = self.events[j]
        return (
            self.ms[j],
            self.cols.kinds[e],
            self.devices[j],
            self.cols.lats[e],
            self.cols.lons[e],
            self.cols.speeds[e],
            self.off[j],
            self.in_stop[j],
            self.at_destination[j],
        )
