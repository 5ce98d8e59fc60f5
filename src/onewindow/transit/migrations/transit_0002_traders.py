"""Transit: traders registered for ACTS and their authorisations; a movement's lane and its
consignee; e-seal alerts passed on to the next office

Revision ID: transit_0002
Revises: transit_0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "transit_0002"
down_revision = "transit_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transit_traders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.String(length=35), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("consignor", sa.Boolean(), nullable=False),
        sa.Column("consignee", sa.Boolean(), nullable=False),
        sa.Column("premises", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("party_id"),
    )
    op.create_table(
        "transit_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=18), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("device", sa.String(length=35), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("sent_to", sa.String(length=2), nullable=True),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("country", "alert_id"),
    )
    op.create_index("ix_transit_alerts_mrn", "transit_alerts", ["mrn"])
    with op.batch_alter_table("transit_movements") as batch:
        batch.add_column(sa.Column("consignee_id", sa.String(length=35), nullable=True))
        batch.add_column(sa.Column("lane", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("lane_reasons", sa.JSON(), nullable=True))
        batch.create_index("ix_transit_movements_consignee_id", ["consignee_id"])


def downgrade() -> None:
    with op.batch_alter_table("transit_movements") as batch:
        batch.drop_index("ix_transit_movements_consignee_id")
        batch.drop_column("lane_reasons")
        batch.drop_column("lane")
        batch.drop_column("consignee_id")
    op.drop_index("ix_transit_alerts_mrn", table_name="transit_alerts")
    op.drop_table("transit_alerts")
    op.drop_table("transit_traders")
