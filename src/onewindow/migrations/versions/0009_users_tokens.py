"""Users can be disabled; tokens have a creation time, an expiry, a last use and a revocation

Tokens made before this migration had no expiry: they are given one 30 days (the default of
ONEWINDOW_TOKEN_DAYS) from the day of the migration, so they keep working until then.

Revision ID: 0009_users_tokens
Revises: 0008_amendment_requests
Create Date: 2026-12-01
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009_users_tokens"
down_revision = "0008_amendment_requests"
branch_labels = None
depends_on = None

EXISTING_TOKEN_DAYS = 30


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    now = datetime.now(UTC)
    tokens = sa.table(
        "api_tokens",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        tokens.update().values(created_at=now, expires_at=now + timedelta(EXISTING_TOKEN_DAYS))
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        for column in ("revoked_at", "last_used_at", "expires_at", "created_at"):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
