"""The officers' queue: declarations by status and time of lodging, for all offices or one

Two indexes read the queue in order (oldest first) and stop at the page's end, however many
declarations wait. They replace `ix_declarations_status`, which repeats their leading column:
lodging keeps one index more, not two.

Revision ID: declarations_0002
Revises: declarations_0001
Create Date: 2026-12-03
"""

from alembic import op

revision = "declarations_0002"
down_revision = "declarations_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_declarations_status_lodged_at", "declarations", ["status", "lodged_at", "id"]
    )
    op.create_index(
        "ix_declarations_status_office_lodged_at",
        "declarations",
        ["status", "office", "lodged_at", "id"],
    )
    op.drop_index("ix_declarations_status", table_name="declarations")


def downgrade() -> None:
    op.create_index("ix_declarations_status", "declarations", ["status"])
    op.drop_index("ix_declarations_status_office_lodged_at", table_name="declarations")
    op.drop_index("ix_declarations_status_lodged_at", table_name="declarations")
