"""A batch's records stored, and the event ids a seal has stored already.

Each seal's new records are appended as an open chunk of their own (a row inserted, none
rewritten), until the seal's open chunks would hold `packing.CHUNK` records, or be more than
`MAX_OPEN` rows: then they are read back, merged with the new ones, and written as full chunks
of `CHUNK` (the rest one open chunk). A seal so has at most `MAX_OPEN` + 1 open chunks, and a
record is rewritten a few times at most (each time `MAX_OPEN` batches of the seal have come),
where rewriting the open chunk at every batch rewrote it up to `CHUNK` times.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from onewindow.kit import db
from onewindow.seals import packing
from onewindow.seals.models import EventChunk


@dataclass
class Part:
    """One seal's new records in a batch: their times and the records (times not set)."""

    trip: int
    device: str
    ms: np.ndarray
    records: np.ndarray


def stored_seqs(session: Session, trip_id: int, device: str, low: int, high: int) -> set[int]:
    query = select(EventChunk.data).where(
        EventChunk.trip_id == trip_id,
        EventChunk.device_id == device,
        EventChunk.seq_to >= low,
        EventChunk.seq_from <= high,
    )
    seqs: set[int] = set()
    for data in session.scalars(query):
        seqs.update(packing.unpack(data)["seq"].tolist())
    return seqs


MAX_OPEN = 32
MERGED_AT_ONCE = 128  # seals
Open = tuple[int, int]  # a seal's open chunks: (records, rows)
COLUMNS = ("trip_id", "device_id", "base_ms", "count", "seq_from", "seq_to", "full", "data")
Chunk = tuple[int, str, int, int, int, int, bool, bytes]  # in COLUMNS' order


def _chunks(part: Part, ms: np.ndarray, found: np.ndarray) -> list[Chunk]:
    """The chunks of these records, all full but the last unless it holds `CHUNK`."""
    cut = packing.pieces(ms, found)
    made = []
    for n, (base, piece) in enumerate(cut):
        seqs = piece["seq"]
        full = n < len(cut) - 1 or len(piece) == packing.CHUNK
        made.append(
            (
                part.trip,
                part.device,
                base,
                len(piece),
                int(seqs.min()),
                int(seqs.max()),
                full,
                packing.pack(piece),
            )
        )
    return made


def write(
    session: Session,
    seals: list[tuple[int, str]],
    counts: list[int],
    ms: np.ndarray,
    found: np.ndarray,
    pending: dict[tuple[int, str], Open],
) -> dict[tuple[int, str], Open]:
    """Store a batch's records: `found` (times not set, `ms` beside) holds `counts[n]`
    records of the seal `seals[n]` (trip id, device), one seal after the other; `pending`:
    each seal's open chunks before. Returns them after. The usual case, a seal's records
    appended as one open chunk, is computed for the whole batch at once."""
    if not seals:
        return {}
    starts = np.concatenate([[0], np.cumsum(counts[:-1])]).astype(np.intp)
    bases = ms[starts]
    dt = ms - np.repeat(bases, counts)
    far = np.abs(dt) > packing.SPAN
    found["dt"] = np.where(far, 0, dt)
    far_seal = np.logical_or.reduceat(far, starts).tolist()
    seq_from = np.minimum.reduceat(found["seq"], starts).tolist()
    seq_to = np.maximum.reduceat(found["seq"], starts).tolist()
    bases_list, starts_list = bases.tolist(), starts.tolist()
    after: dict[tuple[int, str], Open] = {}
    rows: list[Chunk] = []
    merging: list[Part] = []
    for n, key in enumerate(seals):
        (have, open_rows), count, start = pending.get(key, (0, 0)), counts[n], starts_list[n]
        if have + count < packing.CHUNK and open_rows < MAX_OPEN and not far_seal[n]:
            data = found[start : start + count].tobytes()
            rows.append((*key, bases_list[n], count, seq_from[n], seq_to[n], False, data))
            after[key] = (have + count, open_rows + 1)
        else:
            end = start + count
            merging.append(Part(*key, ms[start:end], found[start:end]))
    db.insert_values(session, db.table(EventChunk), COLUMNS, rows)
    # A few seals at a time: when every seal of a batch merges at once, what is read and
    # written stays a few megabytes.
    for at in range(0, len(merging), MERGED_AT_ONCE):
        group = merging[at : at + MERGED_AT_ONCE]
        db.insert_values(session, db.table(EventChunk), COLUMNS, _merge(session, group, after))
    return after


def _merge(session: Session, parts: list[Part], after: dict[tuple[int, str], Open]) -> list[Chunk]:
    keys = {(p.trip, p.device) for p in parts}
    found: dict[tuple[int, str], list[tuple[int, int, bytes]]] = defaultdict(list)
    newest: dict[tuple[int, str], int] = {}  # the last open chunk read, per seal
    c = db.table(EventChunk).c
    query = (
        select(c.id, c.trip_id, c.device_id, c.base_ms, c.count, c.data)
        .where(c.trip_id.in_({p.trip for p in parts}), c.full.is_(False))
        .order_by(c.id)
    )
    for chunk_id, trip_id, device, base_ms, count, data in session.connection().execute(query):
        if (trip_id, device) in keys:
            found[(trip_id, device)].append((base_ms, count, data))
            newest[(trip_id, device)] = chunk_id
    rows = []
    for part in parts:
        stored = found[(part.trip, part.device)]
        # the stored records and the new ones as one array, made from their bytes: joining
        # structured arrays costs numpy more than the records themselves
        data = b"".join([*(d for _, _, d in stored), part.records.tobytes()])
        records = np.frombuffer(data, dtype=packing.RECORD)
        bases = np.repeat([b for b, _, _ in stored], [n for _, n, _ in stored])
        old = len(bases)
        ms = np.concatenate([records["dt"][:old].astype(np.int64) + bases, part.ms])
        made = _chunks(part, ms, records)
        rows += made
        last = made[-1]
        after[(part.trip, part.device)] = (0, 0) if last[6] else (last[3], 1)
    if newest:
        t = db.table(EventChunk)
        statement = delete(t).where(
            t.c.trip_id == bindparam("b_trip"),
            t.c.device_id == bindparam("b_device"),
            t.c.full.is_(False),
            t.c.id <= bindparam("b_id"),
        )
        session.connection().execute(
            statement,
            [{"b_trip": k[0], "b_device": k[1], "b_id": v} for k, v in newest.items()],
        )
    return rows
