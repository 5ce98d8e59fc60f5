"""E-seals: what every batch rewrites, in a narrow table of its own

A trip's running state, its version and its seals' highest event ids move from the trip's
row (which carries the route, some kilobytes) and its seals' rows into `seal_trip_states`,
one narrow row per trip: a batch of a thousand trips rewrites a thousand rows of a few
hundred bytes, and no seal's row. `seal_trips.last_at` goes: the state's `last_ms` says it.

Revision ID: seals_0003
Revises: seals_0002
Create Date: 2026-12-03
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "seals_0003"
down_revision = "seals_0002"
branch_labels = None
depends_on = None
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TRIPS = sa.table(
    "seal_trips",
    sa.column("id", sa.Integer),
    sa.column("state", sa.JSON),
    sa.column("version", sa.BigInteger),
)
SEATS = sa.table(
    "seal_trip_seals",
    sa.column("trip_id", sa.Integer),
    sa.column("device_id", sa.String),
    sa.column("last_seq", sa.BigInteger),
)
STATES = sa.table(
    "seal_trip_states",
    sa.column("trip_id", sa.Integer),
    sa.column("state", sa.JSON),
    sa.column("seqs", sa.JSON),
    sa.column("version", sa.BigInteger),
)


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.create_table(
        "seal_trip_states",
        sa.Column("trip_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("seqs", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["seal_trips.id"], name=op.f("fk_seal_trip_states_trip_id_seal_trips")
        ),
        sa.PrimaryKeyConstraint("trip_id", name=op.f("pk_seal_trip_states")),
    )
    conn = op.get_bind()
    seqs: dict[int, dict[str, int]] = {}
    for trip_id, device, last_seq in conn.execute(
        sa.select(SEATS.c.trip_id, SEATS.c.device_id, SEATS.c.last_seq)
    ):
        if last_seq >= 0:
            seqs.setdefault(trip_id, {})[device] = last_seq
    rows = [
        {"trip_id": i, "state": _loaded(state), "seqs": seqs.get(i, {}), "version": version}
        for i, state, version in conn.execute(sa.select(TRIPS.c.id, TRIPS.c.state, TRIPS.c.version))
    ]
    if rows:
        conn.execute(STATES.insert(), rows)
    # Not in batch mode: SQLite (3.35 and later) drops a column in place, where copying
    # seal_trips into a new table would break the foreign keys of its alerts and chunks.
    op.drop_index("ix_seal_trips_last_at", table_name="seal_trips")
    for column in ("last_at", "state", "version"):
        op.drop_column("seal_trips", column)
    op.drop_column("seal_trip_seals", "last_seq")


def downgrade() -> None:
    # Added in place, with defaults for the rows there are (seals_0001 had none: a column
    # added to a table with rows needs one, and changing it after would copy seal_trips)
    op.add_column(
        "seal_trip_seals",
        sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default=sa.text("-1")),
    )
    op.add_column(
        "seal_trips",
        sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("seal_trips", sa.Column("state", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("seal_trips", sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_seal_trips_last_at", "seal_trips", ["last_at"], unique=False)
    conn = op.get_bind()
    trips = sa.table(
        "seal_trips",
        sa.column("id", sa.Integer),
        sa.column("state", sa.JSON),
        sa.column("version", sa.BigInteger),
        sa.column("last_at", sa.DateTime(timezone=True)),
    )
    seats = sa.table(
        "seal_trip_seals",
        sa.column("trip_id", sa.Integer),
        sa.column("device_id", sa.String),
        sa.column("last_seq", sa.BigInteger),
    )
    for trip_id, state, seqs, version in conn.execute(
        sa.select(STATES.c.trip_id, STATES.c.state, STATES.c.seqs, STATES.c.version)
    ).all():
        state, seqs = _loaded(state), _loaded(seqs)
        last_ms = state.get("last_ms")
        last_at = None if last_ms is None else EPOCH + timedelta(milliseconds=last_ms)
        conn.execute(
            trips.update()
            .where(trips.c.id == trip_id)
            .values(state=state, version=version, last_at=last_at)
        )
        for device, last_seq in seqs.items():
            conn.execute(
                seats.update()
                .where(seats.c.trip_id == trip_id, seats.c.device_id == device)
                .values(last_seq=last_seq)
            )
    op.drop_table("seal_trip_states")
