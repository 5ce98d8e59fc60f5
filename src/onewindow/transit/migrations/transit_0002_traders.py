"""Transit: traders registered for ACTS and their authorisations; a movement's lane and its
consignee

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
    op.drop_table("transit_traders")
