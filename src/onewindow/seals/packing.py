"""Events as packed records: 23 bytes each, a chunk of them one row (models.EventChunk).

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
NO_COORD: Final = -(2**31)
SCALE: Final = 10_000_000  # 1e-7 degrees: about 1 cm
CHUNK: Final = 512  # records a chunk holds before a new one is started
_SPAN: Final = 2**31 - 1


def fits(base_ms: int, ms: int) -> bool:
    """Whether a time can be written as an offset from a chunk's base."""
    return -_SPAN <= ms - base_ms <= _SPAN


def degrees(value: float | None) -> int:
    return NO_COORD if value is None else round(value * SCALE)


def records(
    base_ms: int,
    rows: list[tuple[int, int, float | None, float | None, float | None, str]],
) -> np.ndarray:
    """(seq, ms, lat, lon, speed km/h, kind) rows as records against `base_ms`, filled a
    column at a time."""
    out = np.empty(len(rows), dtype=RECORD)
    if not rows:
        return out
    seqs, times, lats, lons, speeds, kinds = zip(*rows, strict=True)
    out["seq"] = seqs
    out["dt"] = np.array(times, dtype=np.int64) - base_ms
    out["lat"] = [NO_COORD if v is None else round(v * SCALE) for v in lats]
    out["lon"] = [NO_COORD if v is None else round(v * SCALE) for v in lons]
    out["speed"] = [round((v or 0.0) * 10) for v in speeds]
    out["kind"] = [KIND_CODE[k] for k in kinds]
    return out


def pack(found: np.ndarray) -> bytes:
    return found.astype(RECORD, copy=False).tobytes()


def unpack(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=RECORD)


def join(old: bytes, new: np.ndarray) -> bytes:
    return old + pack(new)
