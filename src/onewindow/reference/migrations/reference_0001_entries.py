"""The national reference lists: one table of entries, each version with its validity dates

Revision ID: reference_0001
Revises: 0011_ledger_checks
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "reference_0001"
down_revision = "0011_ledger_checks"
branch_labels = ("reference",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reference_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=30), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_entries")),
        sa.UniqueConstraint(
            "list_name", "code", "valid_from", name=op.f("uq_reference_entries_list_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("reference_entries")
