"""Drop two indexes that cost every lodging and serve no query

`ix_declaration_items_declaration_id` repeats the leading column of the unique index on
(declaration_id, seq); nothing looks audit events up by `action`.

Revision ID: 0006_fewer_indexes
Revises: 0005_risk
Create Date: 2026-11-23
"""

from alembic import op

revision = "0006_fewer_indexes"
down_revision = "0005_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_declaration_items_declaration_id", table_name="declaration_items")
    op.drop_index("ix_audit_events_action", table_name="audit_events")


def downgrade() -> None:
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_declaration_items_declaration_id", "declaration_items", ["declaration_id"])
