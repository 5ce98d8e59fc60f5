"""A batch's records stored, and the event ids a seal has stored already.

A batch's records, every seal's, are appended to the log as one row (`EventLog`: each record
with its seat and time, `packing.LOGGED`): one insert a batch, where a chunk a seal cost a
row a seal and, later, reading and deleting as many to merge them. Once the log holds
`LOG_RECORDS` records or `LOG_ROWS` rows, the batch that finds it so moves them (`settle`):
each seal's records, in time order, become one chunk (more if over `packing.CHUNK` or over
±24 days), the log rows read are deleted. A record so is written twice, and a chunk holds
what a seal sent while the log filled, with a thousand trips some 60 records, never added to.

Reading a seal's records (a duplicate's check, a trip's track) reads its chunks and the log,
which stays small: at most some 5 MB.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.seals import packing
from onewindow.seals.models import EventChunk, EventLog, TripSeal
from onewindow.seals.seats import Seat

LOG_RECORDS = 131_072  # 5 MB of records
LOG_ROWS = 256  # batches (small batches: a device over MQTT)
COLUMNS = ("trip_id", "device_id", "base_ms", "count", "seq_from", "seq_to", "full", "data")
Chunk = tuple[int, str, int, int, int, int, bool, bytes]  # in COLUMNS' order


def append(session: Session, seats: np.ndarray, ms: np.ndarray, records: np.ndarray) -> None:
    """A batch's records (`packing.RECORD`, times not set) with each one's seat
    (`TripSeal.id`) and time in ms, as one row of the log; the log moved into chunks when
    it is full."""
    if not len(records):
        return
    logged = np.empty(len(records), dtype=packing.LOGGED)
    logged["seat"], logged["ms"], logged["record"] = seats, ms, records
    row = (len(logged), logged.tobytes())
    db.insert_values(session, db.table(EventLog), ("count", "data"), [row])
    log = db.table(EventLog).c
    rows, held = session.connection().execute(select(func.count(), func.sum(log.count))).one()
    if held >= LOG_RECORDS or rows >= LOG_ROWS:
        settle(session)


def settle(session: Session) -> None:
    """The log's records moved into chunks, a seal's in time order, and its rows deleted.
    Its rows are locked while read (PostgreSQL): two batches never move the same records."""
    log = db.table(EventLog)
    conn = session.connection()
    query = select(log.c.id, log.c.data).order_by(log.c.id).with_for_update()
    found = conn.execute(query).all()
    if not found:
        return
    logged = np.frombuffer(b"".join(data for _, data in found), dtype=packing.LOGGED)
    logged = logged[np.lexsort((logged["ms"], logged["seat"]))]
    seat_ids, starts = np.unique(logged["seat"], return_index=True)
    s = db.table(TripSeal).c
    owners = {
        i: (trip_id, device)
        for i, trip_id, device in conn.execute(
            select(s.id, s.trip_id, s.device_id).where(s.id.in_(seat_ids.tolist()))
        )
    }
    rows: list[Chunk] = []
    counts = np.diff([*starts.tolist(), len(logged)])
    # the usual case: a seal's records fit one chunk, made for all such seals at once
    ms = logged["ms"]
    span = np.maximum.reduceat(ms, starts) - ms[starts]
    one = (counts <= packing.CHUNK) & (span <= packing.SPAN)
    records = logged["record"].copy()
    records["dt"] = ms - np.repeat(ms[starts], counts)  # wrong where not `one`: not used
    seq_from = np.minimum.reduceat(records["seq"], starts).tolist()
    seq_to = np.maximum.reduceat(records["seq"], starts).tolist()
    data = records.tobytes()
    size = packing.RECORD.itemsize
    bases, ends = ms[starts].tolist(), (starts + counts).tolist()
    seats = zip(seat_ids.tolist(), starts.tolist(), one.tolist(), strict=True)
    for k, (seat, a, fits) in enumerate(seats):
        trip_id, device = owners[seat]
        if fits:
            piece = data[a * size : ends[k] * size]
            rows.append(
                (trip_id, device, bases[k], ends[k] - a, seq_from[k], seq_to[k], True, piece)
            )
            continue
        mine = logged[a : ends[k]]
        for base, part in packing.pieces(mine["ms"], mine["record"]):
            seqs = part["seq"]
            rows.append(
                (
                    trip_id,
                    device,
                    base,
                    len(part),
                    int(seqs.min()),
                    int(seqs.max()),
                    True,
                    packing.pack(part),
                )
            )
    db.insert_values(session, db.table(EventChunk), COLUMNS, rows)
    conn.execute(log.delete().where(log.c.id.in_([i for i, _ in found])))


def of_trip(session: Session, trip_id: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """A trip's records stored, in its chunks and in the log: (device, times in ms,
    records), a group at a time, in no particular order."""
    c = db.table(EventChunk).c
    conn = session.connection()
    query = select(c.device_id, c.base_ms, c.data).where(c.trip_id == trip_id).order_by(c.id)
    found = []
    for device, base_ms, data in conn.execute(query):
        records = packing.unpack(data)
        found.append((device, packing.times(base_ms, records), records))
    s = db.table(TripSeal).c
    seats = dict(conn.execute(select(s.id, s.device_id).where(s.trip_id == trip_id)).all())
    logged = _log(session)
    for seat_id, device in seats.items():
        mine = logged[logged["seat"] == seat_id]
        if len(mine):
            found.append((device, mine["ms"], mine["record"]))
    return found


def _log(session: Session) -> np.ndarray:
    log = db.table(EventLog).c
    rows = session.connection().execute(select(log.data).order_by(log.id))
    return np.frombuffer(b"".join(rows.scalars()), dtype=packing.LOGGED)


class Stored:
    """The event ids a batch's seals have stored, read when asked (duplicates and late
    events: rare), the log read once for the batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._log: np.ndarray | None = None

    def seqs(self, seat: Seat, low: int, high: int) -> set[int]:
        query = select(EventChunk.data).where(
            EventChunk.trip_id == seat.trip,
            EventChunk.device_id == seat.device,
            EventChunk.seq_to >= low,
            EventChunk.seq_from <= high,
        )
        found: set[int] = set()
        for data in self.session.scalars(query):
            found.update(packing.unpack(data)["seq"].tolist())
        if self._log is None:
            self._log = _log(self.session)
        mine = self._log[self._log["seat"] == seat.id]["record"]["seq"]
        found.update(mine[(mine >= low) & (mine <= high)].tolist())
        return found
