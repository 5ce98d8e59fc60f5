"""Amendment requests: a trader asks, an officer accepts or refuses

Revision ID: 0008_amendment_requests
Revises: 0007_witness_acks
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_amendment_requests"
down_revision = "0007_witness_acks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declaration_amendment_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_declaration_amendment_requests_declaration_id_declarations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_amendment_requests")),
    )
    with op.batch_alter_table("declaration_amendment_requests") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_amendment_requests_declaration_id"),
            ["declaration_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("declaration_amendment_requests") as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_amendment_requests_declaration_id"))
    op.drop_table("declaration_amendment_requests")
