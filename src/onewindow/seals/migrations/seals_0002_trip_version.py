"""E-seals: a version on each trip, changed by every write of its state

A process that keeps trips' state between batches (`seals.memory`) reads the version with
the trip's seals and reuses what it kept only while the version is the one it wrote or read:
another process's write, or its own rolled back, is noticed at the next batch.

Revision ID: seals_0002
Revises: seals_0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "seals_0002"
down_revision = "seals_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seal_trips") as batch:
        batch.add_column(
            sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("seal_trips") as batch:
        batch.drop_column("version")
