"""E-seals: platforms, devices, trips and their seals, packed event chunks, alerts

Revision ID: seals_0001
Revises: 0011_ledger_checks
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "seals_0001"
down_revision = "0011_ledger_checks"
branch_labels = ("seals",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seal_platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_platforms")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_seal_platforms_key_sha256")),
        sa.UniqueConstraint("name", name=op.f("uq_seal_platforms_name")),
    )
    op.create_table(
        "seal_trips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.Column("corridor_m", sa.Float(), nullable=False),
        sa.Column("stops", sa.JSON(), nullable=False),
        sa.Column("max_stop_s", sa.Integer(), nullable=False),
        sa.Column("max_silence_s", sa.Integer(), nullable=False),
        sa.Column("destination_office", sa.String(length=20), nullable=False),
        sa.Column("destination_lat", sa.Float(), nullable=False),
        sa.Column("destination_lon", sa.Float(), nullable=False),
        sa.Column("destination_radius_m", sa.Float(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_office", sa.String(length=20), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_trips")),
        sa.UniqueConstraint("reference", name=op.f("uq_seal_trips_reference")),
    )
    op.create_index(op.f("ix_seal_trips_last_at"), "seal_trips", ["last_at"], unique=False)
    op.create_table(
        "seal_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("device_id", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=60), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["seal_trips.id"], name=op.f("fk_seal_alerts_trip_id_seal_trips")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_alerts")),
    )
    op.create_index(op.f("ix_seal_alerts_trip_id"), "seal_alerts", ["trip_id"], unique=False)
    op.create_table(
        "seal_devices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform"],
            ["seal_platforms.name"],
            name=op.f("fk_seal_devices_platform_seal_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_devices")),
    )
    op.create_table(
        "seal_event_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("base_ms", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("seq_from", sa.BigInteger(), nullable=False),
        sa.Column("seq_to", sa.BigInteger(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["seal_trips.id"], name=op.f("fk_seal_event_chunks_trip_id_seal_trips")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_event_chunks")),
    )
    op.create_index(
        "ix_seal_event_chunks_trip_device",
        "seal_event_chunks",
        ["trip_id", "device_id"],
        unique=False,
    )
    op.create_table(
        "seal_trip_seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trip_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["seal_devices.id"],
            name=op.f("fk_seal_trip_seals_device_id_seal_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["seal_trips.id"], name=op.f("fk_seal_trip_seals_trip_id_seal_trips")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_trip_seals")),
        sa.UniqueConstraint("trip_id", "device_id", name=op.f("uq_seal_trip_seals_trip_id")),
    )
    op.create_index(
        op.f("ix_seal_trip_seals_device_id"), "seal_trip_seals", ["device_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_seal_trip_seals_device_id"), table_name="seal_trip_seals")
    op.drop_table("seal_trip_seals")
    op.drop_index("ix_seal_event_chunks_trip_device", table_name="seal_event_chunks")
    op.drop_table("seal_event_chunks")
    op.drop_table("seal_devices")
    op.drop_index(op.f("ix_seal_alerts_trip_id"), table_name="seal_alerts")
    op.drop_table("seal_alerts")
    op.drop_index(op.f("ix_seal_trips_last_at"), table_name="seal_trips")
    op.drop_table("seal_trips")
    op.drop_table("seal_platforms")
