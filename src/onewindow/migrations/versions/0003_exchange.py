"""exchange: outgoing messages (the outbox), incoming messages, applied versions, partners

Revision ID: 0003_exchange
Revises: 0002_ledger
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_exchange"
down_revision = "0002_ledger"
branch_labels = None
depends_on = None

OUT = "status IN ('queued', 'sent', 'delivered', 'processed', 'rejected', 'failed')"
IN = "status IN ('processed', 'received', 'superseded', 'rejected')"


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "exchange_outgoing",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("sender", sa.String(length=2), nullable=False),
        sa.Column("receiver", sa.String(length=2), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        _time("created_at"),
        _time("queued_at"),
        _time("next_attempt_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("last_attempt_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        _time("sealed_at", nullable=True),
        sa.Column("receipt", sa.LargeBinary(), nullable=True),
        sa.Column("receipt_status", sa.String(length=30), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        _time("completed_at", nullable=True),
        sa.CheckConstraint(OUT, name=op.f("ck_exchange_outgoing_status")),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_exchange_outgoing")),
    )
    op.create_index(
        "ix_exchange_outgoing_next_attempt_at", "exchange_outgoing", ["next_attempt_at"]
    )
    op.create_index(
        "ix_exchange_outgoing_receiver_status", "exchange_outgoing", ["receiver", "status"]
    )
    op.create_table(
        "exchange_incoming",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("sender", sa.String(length=2), nullable=False),
        sa.Column("receiver", sa.String(length=2), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("received_at"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("receipt", sa.LargeBinary(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.CheckConstraint(IN, name=op.f("ck_exchange_incoming_status")),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_exchange_incoming")),
    )
    op.create_index("ix_exchange_incoming_sender_status", "exchange_incoming", ["sender", "status"])
    op.create_index(
        "ix_exchange_incoming_document", "exchange_incoming", ["document_id", "document_type"]
    )
    op.create_table(
        "exchange_versions",
        sa.Column("sender", sa.String(length=2), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint(
            "sender", "document_type", "document_id", name=op.f("pk_exchange_versions")
        ),
    )
    op.create_table(
        "exchange_partners",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("key_ids", sa.JSON(), nullable=True),
        _time("updated_at"),
        _time("last_received_at", nullable=True),
        sa.PrimaryKeyConstraint("country", name=op.f("pk_exchange_partners")),
    )


def downgrade() -> None:
    op.drop_table("exchange_partners")
    op.drop_table("exchange_versions")
    op.drop_table("exchange_incoming")
    op.drop_table("exchange_outgoing")
