"""E-seals: a log of batches before the chunks

A batch's records, every seal's, are one row of `seal_event_log` (each record with its seat
and its time in full) until the log has grown enough and they are moved into the seals'
chunks: one insert a batch where a chunk a seal was appended. Chunks written from then on
are never added to; the open chunks there are stay as they are, readable like any other.
Downgrading moves the log's records into chunks first, in the chunks' own format.

Revision ID: seals_0004
Revises: seals_0003
Create Date: 2026-12-02
"""

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "seals_0004"
down_revision = "seals_0003"
branch_labels = None
depends_on = None

# the formats as they were when this migration was written (seals.packing), frozen here
RECORD = np.dtype(
    [
        ("seq", "<i8"),
        ("dt", "<i4"),
        ("lat", "<i4"),
        ("lon", "<i4"),
        ("speed", "<u2"),
        ("kind", "u1"),
    ]
)
LOGGED = np.dtype([("seat", "<i8"), ("ms", "<i8"), ("record", RECORD)])
CHUNK = 512
SPAN = 2**31 - 1

LOG = sa.table(
    "seal_event_log",
    sa.column("id", sa.Integer),
    sa.column("count", sa.Integer),
    sa.column("data", sa.LargeBinary),
)
SEATS = sa.table(
    "seal_trip_seals",
    sa.column("id", sa.Integer),
    sa.column("trip_id", sa.Integer),
    sa.column("device_id", sa.String),
)
CHUNKS = sa.table(
    "seal_event_chunks",
    sa.column("trip_id", sa.Integer),
    sa.column("device_id", sa.String),
    sa.column("base_ms", sa.BigInteger),
    sa.column("count", sa.Integer),
    sa.column("seq_from", sa.BigInteger),
    sa.column("seq_to", sa.BigInteger),
    sa.column("full", sa.Boolean),
    sa.column("data", sa.LargeBinary),
)


def upgrade() -> None:
    op.create_table(
        "seal_event_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_event_log")),
    )


def downgrade() -> None:
    conn = op.get_bind()
    data = b"".join(conn.execute(sa.select(LOG.c.data).order_by(LOG.c.id)).scalars())
    logged = np.frombuffer(data, dtype=LOGGED)
    owners = {i: (t, d) for i, t, d in conn.execute(sa.select(SEATS))}
    logged = logged[np.lexsort((logged["ms"], logged["seat"]))]  # by seal, then time
    rows = []
    start = 0
    while start < len(logged):  # chunks of a seal: at most CHUNK, within ±24 days of a base
        seat, base = int(logged["seat"][start]), int(logged["ms"][start])
        end = min(start + CHUNK, len(logged))
        piece = logged[start:end]
        end = start + int(np.argmin((piece["seat"] == seat) & (piece["ms"] - base <= SPAN)))
        if end == start:  # all of the piece fits
            end = start + len(piece)
        part = logged[start:end]["record"].copy()
        part["dt"] = logged[start:end]["ms"] - base
        trip_id, device = owners[seat]
        rows.append(
            {
                "trip_id": trip_id,
                "device_id": device,
                "base_ms": base,
                "count": len(part),
                "seq_from": int(part["seq"].min()),
                "seq_to": int(part["seq"].max()),
                "full": True,
                "data": part.tobytes(),
            }
        )
        start = end
    if rows:
        conn.execute(CHUNKS.insert(), rows)
    op.drop_table("seal_event_log")
