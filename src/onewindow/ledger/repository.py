"""Ledger storage: the queries behind the service, tuned because proofs and appends are hot.

Statements are built once (building one costs more than running it on an indexed table), and
appends go to the driver's executemany through `db.insert_values` (SQLAlchemy's per-row
processing costs more than the hashing)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Executable,
    String,
    Table,
    and_,
    bindparam,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from onewindow.kit.errors import LedgerDamaged, Text
from onewindow.ledger import merkle
from onewindow.ledger.models import LedgerEntry, LedgerNode, LedgerState, SignedTreeHead

log = logging.getLogger("onewindow.ledger")
STATE_ID = 1
ENTRIES = cast(Table, LedgerEntry.__table__)
NODES = cast(Table, LedgerNode.__table__)
ENTRY_COLUMNS = (
    "leaf_index",
    "document_type",
    "document_id",
    "version",
    "issuer_country",
    "document_sha256",
    "logged_at",
    "kind",
    "leaf_hash",
)
NODE_COLUMNS = ("level", "position", "hash")

_SIZE = select(LedgerState.tree_size).where(LedgerState.id == STATE_ID)
# The document type narrows a look-up only when given (a NULL parameter matches any type).
_OF_DOCUMENT = and_(
    LedgerEntry.document_id == bindparam("document_id"),
    or_(
        bindparam("document_type", type_=String) == None,  # noqa: E711 (SQL IS NULL)
        LedgerEntry.document_type == bindparam("document_type", type_=String),
    ),
)
_DOCUMENT_ENTRIES = select(LedgerEntry).where(
    _OF_DOCUMENT, LedgerEntry.leaf_index < bindparam("size")
)
_LATEST_ENTRY = _DOCUMENT_ENTRIES.order_by(LedgerEntry.leaf_index.desc()).limit(1)
_ALL_ENTRIES = _DOCUMENT_ENTRIES.order_by(LedgerEntry.leaf_index)
_REVOKED = (
    select(LedgerEntry.leaf_index).where(_OF_DOCUMENT, LedgerEntry.kind == "revoked").limit(1)
)
_LATEST_HEAD = select(SignedTreeHead).order_by(SignedTreeHead.id.desc()).limit(1)


# Built once, in Core: asked in every append, where building an ORM statement costs more
# than running it.
STATE = cast(Table, LedgerState.__table__)
_LOCK_SIZE = select(STATE.c.tree_size).where(STATE.c.id == STATE_ID).with_for_update()
_SET_SIZE = STATE.update().where(STATE.c.id == STATE_ID).values(tree_size=bindparam("size"))


def lock_size(session: Session) -> int:
    """The current size, with the state row locked until commit (a no-op on SQLite, whose
    writers are serialised anyway). Creates the row if a test emptied the table."""
    size = session.scalar(_LOCK_SIZE)
    if size is None:
        session.execute(insert(STATE).values(id=STATE_ID, tree_size=0))
        return 0
    return cast(int, size)


def set_size(session: Session, size: int) -> None:
    session.execute(_SET_SIZE, {"size": size})


def tree_size(session: Session) -> int:
    return session.scalar(_SIZE) or 0


@lru_cache(maxsize=512)
def _nodes_query(leaf_count: int, inner_count: int) -> Executable:
    """One round trip for the leaf hashes and stored nodes a proof needs, built once per
    shape. Equality pairs joined by OR, because SQLite scans the table for a row-value IN."""
    parts = []
    if leaf_count:
        indexes: list[Any] = [bindparam(f"e{i}") for i in range(leaf_count)]
        parts.append(
            select(literal(0).label("level"), ENTRIES.c.leaf_index, ENTRIES.c.leaf_hash).where(
                ENTRIES.c.leaf_index.in_(indexes)
            )
        )
    if inner_count:
        pairs = [
            and_(NODES.c.level == bindparam(f"l{i}"), NODES.c.position == bindparam(f"p{i}"))
            for i in range(inner_count)
        ]
        parts.append(select(NODES.c.level, NODES.c.position, NODES.c.hash).where(or_(*pairs)))
    return union_all(*parts) if len(parts) > 1 else parts[0]


def load_nodes(session: Session, keys_: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    wanted = set(keys_)
    if not wanted:
        return {}
    leaves = [pos for level, pos in wanted if level == 0]
    inner = [(level, pos) for level, pos in wanted if level > 0]
    params: dict[str, int] = {f"e{i}": pos for i, pos in enumerate(leaves)}
    for i, (level, pos) in enumerate(inner):
        params[f"l{i}"], params[f"p{i}"] = level, pos
    rows = session.execute(_nodes_query(len(leaves), len(inner)), params)
    found = {(level, pos): value for level, pos, value in rows}
    missing = wanted - found.keys()
    if missing:
        first = min(pos << level for level, pos in missing)
        message = Text(
            "the ledger is missing {count} stored subtree(s), the first over entry {first}; "
            "its tables were altered outside OneWindow",
            count=len(missing),
            first=first,
        )
        raise damaged(message, first)
    return found


def damaged(detail: str, first_bad_entry: int | None) -> LedgerDamaged:
    """The error for a stored log found damaged, logged where it is found: whoever answers
    the request only sees a 503."""
    log.error("ledger.self_check_failed first_bad_entry=%s detail=%s", first_bad_entry, detail)
    return LedgerDamaged(detail, first_bad_entry=first_bad_entry)


def latest_entry(
    session: Session, document_id: str, size: int, document_type: str | None
) -> LedgerEntry | None:
    params = {"document_id": document_id, "size": size, "document_type": document_type}
    return session.scalar(_LATEST_ENTRY, params)


def document_entries(
    session: Session, document_id: str, size: int, document_type: str | None
) -> list[LedgerEntry]:
    params = {"document_id": document_id, "size": size, "document_type": document_type}
    return list(session.scalars(_ALL_ENTRIES, params))


def has_revocation(session: Session, document_id: str, document_type: str | None) -> bool:
    params = {"document_id": document_id, "document_type": document_type}
    return session.scalar(_REVOKED, params) is not None


def latest_signed_head(session: Session) -> SignedTreeHead | None:
    return session.scalar(_LATEST_HEAD)
