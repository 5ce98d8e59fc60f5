"""The ledger's self-checks and the damage found while serving: the node's own alarms

Revision ID: 0011_ledger_checks
Revises: 0010_exchange_issuers
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_ledger_checks"
down_revision = "0010_exchange_issuers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("from_index", sa.BigInteger(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("first_bad_entry", sa.BigInteger(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checks")),
    )


def downgrade() -> None:
    op.drop_table("ledger_checks")
