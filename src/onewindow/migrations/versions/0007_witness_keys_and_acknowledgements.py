"""Witnessed heads keep the key that cosigned them, and who acknowledged an alarm

Revision ID: 0007_witness_acks
Revises: 0006_fewer_indexes
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_witness_acks"
down_revision = "0006_fewer_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_witnessed_heads") as batch:
        batch.add_column(sa.Column("cosigner_key_id", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("acknowledgement", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_witnessed_heads") as batch:
        for column in ("acknowledgement", "acknowledged_by", "acknowledged_at", "cosigner_key_id"):
            batch.drop_column(column)
