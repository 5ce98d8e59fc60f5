"""The portals' passwords: one per user, scrypt with its salt

Revision ID: portal_0001
Revises: 0011_ledger_checks
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "portal_0001"
down_revision = "0011_ledger_checks"
branch_labels = ("portal",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_passwords",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_portal_passwords_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_passwords")),
        sa.UniqueConstraint("user_id", name=op.f("uq_portal_passwords_user_id")),
    )


def downgrade() -> None:
    op.drop_table("portal_passwords")
