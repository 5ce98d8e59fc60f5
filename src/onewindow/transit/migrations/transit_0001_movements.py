"""Transit: guarantees, their reservations, movements, their events, reference sequences

Revision ID: transit_0001
Revises: 0011_ledger_checks
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "transit_0001"
down_revision = "0011_ledger_checks"
branch_labels = ("transit",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transit_guarantees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grn", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=15), nullable=False),
        sa.Column("holder_id", sa.String(length=35), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("grn"),
    )
    op.create_index("ix_transit_guarantees_holder_id", "transit_guarantees", ["holder_id"])
    op.create_table(
        "transit_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guarantee_id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=18), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("exposure", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["guarantee_id"], ["transit_guarantees.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mrn"),
    )
    op.create_index(
        "ix_transit_reservations_guarantee_id", "transit_reservations", ["guarantee_id"]
    )
    op.create_table(
        "transit_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=18), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("holder_id", sa.String(length=35), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("departure_office", sa.String(length=8), nullable=False),
        sa.Column("destination_office", sa.String(length=8), nullable=False),
        sa.Column("transit_offices", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("grn", sa.String(length=18), nullable=False),
        sa.Column("seals", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_limit", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mrn"),
    )
    op.create_index("ix_transit_movements_status", "transit_movements", ["status"])
    op.create_index("ix_transit_movements_holder_id", "transit_movements", ["holder_id"])
    op.create_table(
        "transit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("movement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["movement_id"], ["transit_movements.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_transit_events_movement_id", "transit_events", ["movement_id"])
    op.create_table(
        "transit_seals",
        sa.Column("seal", sa.String(length=35), nullable=False),
        sa.Column("mrn", sa.String(length=18), nullable=False),
        sa.PrimaryKeyConstraint("seal"),
    )
    op.create_index("ix_transit_seals_mrn", "transit_seals", ["mrn"])
    op.create_table(
        "transit_sequences",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "year"),
    )


def downgrade() -> None:
    op.drop_table("transit_sequences")
    op.drop_table("transit_seals")
    op.drop_table("transit_events")
    op.drop_table("transit_movements")
    op.drop_table("transit_reservations")
    op.drop_table("transit_guarantees")
