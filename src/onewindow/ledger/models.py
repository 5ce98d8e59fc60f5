"""Ledger tables: entries (the leaves), the complete subtrees above them, signed heads, and
the partners' heads this node witnesses.

Only complete, aligned subtrees are stored (level L, position p covers leaves
[p * 2**L, (p + 1) * 2**L)); level 0 is the entry's own leaf hash, so it is not repeated in
`ledger_nodes`. A node never changes once written, so any proof or root, at the current size or
an earlier one, reads O(log n) rows and hashes O(log n) times.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base

# On SQLite only a column typed exactly INTEGER is the rowid: the leaf index then costs no
# separate index, and appends go at the end of the table's B-tree.
Position = BigInteger().with_variant(Integer(), "sqlite")
KIND_CHECK = "kind IN ('issued', 'received', 'revoked', 'status_change')"


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(KIND_CHECK, name="kind"),
        Index("ix_ledger_entries_document_id", "document_id", "leaf_index"),
    )

    leaf_index: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=False)
    document_type: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    issuer_country: Mapped[str] = mapped_column(String(2))
    document_sha256: Mapped[str] = mapped_column(String(64))
    logged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(20))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerNode(Base):
    __tablename__ = "ledger_nodes"
    # Clustered on (level, position): a node lookup is one B-tree descent.
    __table_args__ = {"sqlite_with_rowid": False}

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerState(Base):
    """One row: the tree size. Appenders lock it, so appends are serialised on PostgreSQL."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)


class SignedTreeHead(Base):
    __tablename__ = "ledger_tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    origin: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class WitnessedHead(Base):
    """A partner's signed head as this node saw it, and this node's cosignature on it.

    Two heads of one partner that are not consistent (same size, different roots, or a failed
    consistency proof) raise the alarm: the partner showed different logs to different nodes."""

    __tablename__ = "ledger_witnessed_heads"
    __table_args__ = (
        UniqueConstraint(
            "partner_country", "tree_size", "root_hash", name="uq_ledger_witnessed_heads_head"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_country: Mapped[str] = mapped_column(String(2), index=True)
    origin: Mapped[str] = mapped_column(String(200))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    partner_key_id: Mapped[str] = mapped_column(String(16))
    partner_signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cosignature: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    cosigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The key this node cosigned with (None on heads cosigned before 0007 kept it).
    cosigner_key_id: Mapped[str | None] = mapped_column(String(16))
    alarm: Mapped[bool] = mapped_column(Boolean, default=False)
    alarm_detail: Mapped[str | None] = mapped_column(Text)
    # An operator who looked into the alarm says so; the alarm itself stays on record.
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    acknowledgement: Mapped[str | None] = mapped_column(Text)


class LedgerCheck(Base):
    """One run of the ledger's self-check (`selfcheck.py`), or damage found while serving (a
    proof, a head to sign). A failure is this node's own alarm: it stands, and no head is
    signed, until a full check passes; rows are never deleted."""

    __tablename__ = "ledger_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(String(10))  # full, tail or serving
    from_index: Mapped[int] = mapped_column(BigInteger)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    ok: Mapped[bool] = mapped_column(Boolean)
    first_bad_entry: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(120))
