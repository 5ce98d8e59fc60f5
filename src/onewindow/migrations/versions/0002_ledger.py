"""ledger: entries, stored subtrees, the tree size, signed heads, witnessed partner heads

Revision ID: 0002_ledger
Revises: 0001_core
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ledger"
down_revision = "0001_core"
branch_labels = None
depends_on = None

# INTEGER on SQLite so that the leaf index is the rowid (see ledger/models.py).
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("leaf_index", POSITION, autoincrement=False, nullable=False),
        sa.Column("document_type", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("issuer_country", sa.String(length=2), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(
            "kind IN ('issued', 'received', 'revoked', 'status_change')",
            name=op.f("ck_ledger_entries_kind"),
        ),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_ledger_entries")),
    )
    op.create_index(
        "ix_ledger_entries_document_id", "ledger_entries", ["document_id", "leaf_index"]
    )
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "position", name=op.f("pk_ledger_nodes")),
        sqlite_with_rowid=False,
    )
    state = op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state")),
    )
    op.bulk_insert(state, [{"id": 1, "tree_size": 0}])
    op.create_table(
        "ledger_tree_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_tree_heads")),
    )
    op.create_index(op.f("ix_ledger_tree_heads_tree_size"), "ledger_tree_heads", ["tree_size"])
    op.create_table(
        "ledger_witnessed_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_country", sa.String(length=2), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_key_id", sa.String(length=16), nullable=False),
        sa.Column("partner_signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cosignature", sa.LargeBinary(length=64), nullable=True),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.Column("alarm_detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_witnessed_heads")),
        sa.UniqueConstraint(
            "partner_country", "tree_size", "root_hash", name="uq_ledger_witnessed_heads_head"
        ),
    )
    op.create_index(
        op.f("ix_ledger_witnessed_heads_partner_country"),
        "ledger_witnessed_heads",
        ["partner_country"],
    )


def downgrade() -> None:
    op.drop_table("ledger_witnessed_heads")
    op.drop_table("ledger_tree_heads")
    op.drop_table("ledger_state")
    op.drop_table("ledger_nodes")
    op.drop_table("ledger_entries")
