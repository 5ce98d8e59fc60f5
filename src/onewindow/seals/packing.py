"""Events as packed records: 23 bytes each, a chunk of them one row (models.EventChunk); in
the log of batches (models.EventLog), 39 bytes each with their seal and time (`LOGGED`).

A record is the device's event id (int64), the time as milliseconds from the chunk's base
(int32, so a chunk spans at most ±24 days around its base), latitude and longitude in 1e-7
degrees (int32; `NO_COORD` where the event had no position), the speed in 0.1 km/h (uint16)
and the kind's number (uint8, its index in `KINDS`). Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

import numpy as np

KINDS: Final = (
    "armed",
    "position",
    "door_open",
    "tamper",
    "signal_lost",
    "signal_restored",
    "low_battery",
    "released",
)
KIND_CODE: Final = {kind: n for n, kind in enumerate(KINDS)}
RECORD: Final = np.dtype(
    [
        ("seq", "<i8"),
        ("dt", "<i4"),
        ("lat", "<i4"),
        ("lon", "<i4"),
        ("speed", "<u2"),
        ("kind", "u1"),
    ]
)
# a record in the log of batches (`chunks.py`): the seal on its trip (`TripSeal.id`) and the
# time in full, since the log's records are not grouped by seal
LOGGED: Final = np.dtype([("seat", "<i8"), ("ms", "<i8"), ("record", RECORD)])
NO_COORD: Final = -(2**31)
SCALE: Final = 10_000_000  # 1e-7 degrees: about 1 cm
CHUNK: Final = 512  # records a chunk holds before a new one is started
SPAN: Final = 2**31 - 1


def fits(base_ms: int, ms: int) -> bool:
    """Whether a time can be written as an offset from a chunk's base."""
    return -SPAN <= ms - base_ms <= SPAN


def records(
    base_ms: int,
    rows: list[tuple[int, int, float | None, float | None, float | None, str]],
) -> np.ndarray:
    """(seq, ms, lat, lon, speed km/h, kind) rows as records against `base_ms`."""
    if not rows:
        return np.empty(0, dtype=RECORD)
    seqs, times, lats, lons, speeds, kinds = zip(*rows, strict=True)
    out = columns(
        np.array(seqs, dtype=np.int64),
        np.array(lats, dtype=float),
        np.array(lons, dtype=float),
        np.array(speeds, dtype=float),
        np.array([KIND_CODE[k] for k in kinds], dtype=np.uint8),
    )
    out["dt"] = np.array(times, dtype=np.int64) - base_ms
    return out


def columns(
    seqs: np.ndarray, lats: np.ndarray, lons: np.ndarray, speeds: np.ndarray, kinds: np.ndarray
) -> np.ndarray:
    """Records filled a column at a time, their times (`dt`) left for `pieces`. No position:
    NaN latitude and longitude; no speed: NaN (stored as 0); `kinds`: the kinds' numbers."""
    out = np.zeros(len(seqs), dtype=RECORD)
    out["seq"] = seqs
    out["lat"] = _degrees(lats)
    out["lon"] = _degrees(lons)
    out["speed"] = np.rint(np.nan_to_num(speeds, nan=0.0) * 10)
    out["kind"] = kinds
    return out


def _degrees(values: np.ndarray) -> np.ndarray:
    """Rounded half to even, as Python's round() of the same product."""
    return np.where(np.isnan(values), NO_COORD, np.rint(values * SCALE)).astype(np.int64)


def pieces(ms: np.ndarray, found: np.ndarray, size: int = CHUNK) -> list[tuple[int, np.ndarray]]:
    """Records in their order cut into chunks of at most `size`, each with its base (its
    first record's time) and its records' times against it; a time that does not fit a
    chunk's base starts the next one."""
    out = []
    start, total = 0, len(ms)
    while start < total:
        base = int(ms[start])
        end = min(start + size, total)
        far = np.flatnonzero(np.abs(ms[start:end] - base) > SPAN)
        if len(far):
            end = start + int(far[0])
        piece = found[start:end].copy()
        piece["dt"] = ms[start:end] - base
        out.append((base, piece))
        start = end
    return out


def times(base_ms: int, found: np.ndarray) -> np.ndarray:
    return found["dt"].astype(np.int64) + base_ms


def pack(found: np.ndarray) -> bytes:
    return found.astype(RECORD, copy=False).tobytes()


def unpack(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=RECORD)
