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


def _loaded(value: object) -> object:
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
        for i, state, version in conn.execute(
            sa.select(TRIPS.c.id, TRIPS.c.state, TRIPS.c.version)
        )
    ]
    if rows:
        conn.execute(STATES.insert(), rows)
    with op.batch_alter_table("seal_trips") as batch:
        batch.drop_index("ix_seal_trips_last_at")
        batch.drop_column("last_at")
        batch.drop_column("state")
        batch.drop_column("version")
    with op.batch_alter_table("seal_trip_seals") as batch:
        batch.drop_column("last_seq")


def downgrade() -> None:
    with op.batch_alter_table("seal_trip_seals") as batch:
        batch.add_column(
            sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default=sa.text("-1"))
        )
    with op.batch_alter_table("seal_trips") as batch:
        batch.add_column(
            sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(sa.Column("state", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_seal_trips_last_at", ["last_at"], unique=False)
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
    # the defaults only filled the rows there were: seals_0001 had none
    with op.batch_alter_table("seal_trips") as batch:
        batch.alter_column("state", server_default=None)
    with op.batch_alter_table("seal_trip_seals") as batch:
        batch.alter_column("last_seq", server_default=None)
