"""The analysts' daily roll-up: each closed day's figures per office, kept

`declaration_day_figures` holds them, `declaration_rolled_days` says which days are kept,
and the one row of `declaration_rollup` up to which audit event they have been checked.
Nothing is computed here: the first dashboard that asks for a day computes it. An index on
(office, lodged_at) replaces the one on office alone: a changed day is computed again for
one office, and its leading column serves every look-up by office.

Revision ID: declarations_0003
Revises: declarations_0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "declarations_0003"
down_revision = "declarations_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declaration_day_figures",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("office", sa.String(length=5), nullable=False),
        sa.Column("figure", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("sub", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("buckets", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("day", "office", "figure", "key", "sub"),
    )
    op.create_table(
        "declaration_rolled_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "declaration_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_index("ix_declarations_office_lodged_at", "declarations", ["office", "lodged_at"])
    op.drop_index("ix_declarations_office", table_name="declarations")


def downgrade() -> None:
    op.create_index("ix_declarations_office", "declarations", ["office"])
    op.drop_index("ix_declarations_office_lodged_at", table_name="declarations")
    op.drop_table("declaration_rollup")
    op.drop_table("declaration_rolled_days")
    op.drop_table("declaration_day_figures")
