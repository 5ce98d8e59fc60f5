"""Ledger use cases: append entries, compute and sign tree heads, prove inclusion and
consistency from the stored subtrees (never from all the leaves)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from onewindow.kit import keys
from onewindow.kit.clock import Clock
from onewindow.kit.db import insert_values
from onewindow.kit.errors import InvalidInput, NotFound, invalid
from onewindow.ledger import merkle, repository, selfcheck
from onewindow.ledger.encoding import (
    LeafEntry,
    check_entry,
    is_valid,
    leaf_data,
    tree_head_message,
)
from onewindow.ledger.models import LedgerEntry, SignedTreeHead

MAX_BATCH = 100_000  # one statement's worth; bigger batches go in several appends
MAX_DOCUMENT_ID = 100


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True)
class Inclusion:
    entry: LedgerEntry
    leaf_data: bytes
    tree_size: int
    proof: list[bytes]
    root_hash: bytes


@dataclass(frozen=True)
class Consistency:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]


@dataclass(frozen=True)
class HeadSigner:
    """What signing a head needs: the node's key, the log's name, and the time."""

    key: keys.NodeKey
    origin: str
    clock: Clock


# ---- appending ----


_GATHERED = "ledger.gathered"  # session.info key: what `log_entry` holds back for one append


def log_entry(session: Session, entry: LeafEntry) -> None:
    """Append one entry now, or at the end of the enclosing `gathered` block."""
    held: list[LeafEntry] | None = session.info.get(_GATHERED)
    if held is None:
        append_many(session, [entry])
    else:
        held.append(entry)


@contextmanager
def gathered(session: Session) -> Iterator[None]:
    """Entries logged with `log_entry` inside the block are appended when it ends, in the order
    logged, in one `append_many`: some five statements for the whole batch instead of five
    per entry. If the block raises, none is appended; the caller rolls back what else the
    block wrote (a receiving pass runs inside a savepoint)."""
    if _GATHERED in session.info:  # already gathering: the outer block appends
        yield
        return
    held: list[LeafEntry] = []
    session.info[_GATHERED] = held
    try:
        yield
    finally:
        del session.info[_GATHERED]
    if held:
        append_many(session, held)


def append(session: Session, entry: LeafEntry) -> LedgerEntry:
    """Log one entry; returns it with its leaf index and hash."""
    (index,) = append_many(session, [entry])
    found = session.get(LedgerEntry, index)
    assert found is not None
    return found


def append_many(session: Session, entries: Sequence[LeafEntry]) -> range:
    """Log entries in order, all or none; returns their leaf indexes.

    Work is O(k + log n) for k entries: the right edge of the tree (one complete subtree per
    set bit of n) is read once, and each new complete subtree is hashed and written once."""
    if len(entries) > MAX_BATCH:
        raise invalid("entries", "too_many", f"at most {MAX_BATCH} entries per append")
    errors = [
        error
        for i, entry in enumerate(entries)
        if not (isinstance(entry, LeafEntry) and is_valid(entry))
        for error in check_entry(entry, f"entries[{i}]")
    ]
    if errors:
        raise InvalidInput(errors)
    start = repository.lock_size(session)
    edge = repository.load_nodes(session, merkle.root_nodes(start))
    stack = [(level, pos, edge[(level, pos)]) for level, pos in merkle.root_nodes(start)]
    dialect = session.get_bind().dialect
    time_type = repository.ENTRIES.c.logged_at.type.dialect_impl(dialect)
    to_driver = time_type.bind_processor(dialect) or (lambda value: value)
    stored_times: dict[datetime, Any] = {}  # entries of a batch mostly share one time
    rows, nodes = [], []
    for index, entry in enumerate(entries, start):
        value = merkle.leaf_hash(leaf_data(entry))
        logged_at = stored_times.get(entry.logged_at)
        if logged_at is None:
            logged_at = stored_times[entry.logged_at] = to_driver(entry.logged_at.astimezone(UTC))
        rows.append(
            (
                index,
                entry.document_type,
                entry.document_id,
                entry.version,
                entry.issuer_country,
                entry.document_sha256,
                logged_at,
                entry.kind,
                value,
            )
        )
        level, pos = 0, index
        while stack and stack[-1][0] == level:
            left = stack.pop()[2]
            level, pos, value = level + 1, pos >> 1, merkle.node_hash(left, value)
            nodes.append((level, pos, value))
        stack.append((level, pos, value))
    insert_values(session, repository.ENTRIES, repository.ENTRY_COLUMNS, rows)
    insert_values(session, repository.NODES, repository.NODE_COLUMNS, nodes)
    end = start + len(rows)
    repository.set_size(session, end)
    return range(start, end)


# ---- reading the tree ----


def _check_size(session: Session, size: int | None, name: str = "tree_size") -> int:
    current = repository.tree_size(session)
    if size is None:
        return current
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise invalid(name, "range", "must be a non-negative integer")
    if size > current:
        raise invalid(name, "range", f"the log has only {current} entries")
    return size


def head(session: Session, size: int | None = None) -> TreeHead:
    """The root at the current size, or at an earlier one."""
    size = _check_size(session, size)
    nodes = repository.load_nodes(session, merkle.root_nodes(size))
    return TreeHead(size, merkle.root_from_nodes(nodes, size))


# ---- signed tree heads ----


def sign_head(session: Session, signer: HeadSigner) -> SignedTreeHead:
    """Sign the current root, once the ledger passes what `selfcheck.before_signing` asks:
    LedgerDamaged (503) instead while a self-check failure stands or the entries since the
    last signed head do not check."""
    selfcheck.before_signing(session, signer.key.public_key)
    current = head(session)
    # Whole microseconds survive every database round trip, so the signed bytes can be rebuilt.
    signed_at = signer.clock.now().astimezone(UTC)
    message = tree_head_message(signer.origin, current.tree_size, current.root_hash, signed_at)
    sth = SignedTreeHead(
        tree_size=current.tree_size,
        root_hash=current.root_hash,
        signed_at=signed_at,
        origin=signer.origin,
        key_id=signer.key.key_id,
        signature=signer.key.sign(message),
    )
    session.add(sth)
    session.flush()
    return sth


def current_signed_head(session: Session, signer: HeadSigner) -> SignedTreeHead:
    """The latest signed head if it covers the whole log under this key; else a new one."""
    latest = repository.latest_signed_head(session)
    if (
        latest is not None
        and latest.tree_size == repository.tree_size(session)
        and latest.key_id == signer.key.key_id
        and latest.origin == signer.origin
    ):
        return latest
    return sign_head(session, signer)


def tree_size(session: Session) -> int:
    return repository.tree_size(session)


def latest_signed_head(session: Session) -> SignedTreeHead | None:
    return repository.latest_signed_head(session)


def signed_head_message(sth: SignedTreeHead) -> bytes:
    signed_at = sth.signed_at
    if signed_at.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        signed_at = signed_at.replace(tzinfo=UTC)
    return tree_head_message(sth.origin, sth.tree_size, sth.root_hash, signed_at)


def verify_signed_head(sth: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    if sth.key_id != keys.key_id(public_key):
        return False
    return keys.verify(public_key, sth.signature, signed_head_message(sth))


# ---- proofs ----


def entry_leaf_data(entry: LedgerEntry) -> bytes:
    logged_at = entry.logged_at
    if logged_at.tzinfo is None:
        logged_at = logged_at.replace(tzinfo=UTC)
    return leaf_data(
        LeafEntry(
            document_type=entry.document_type,
            document_id=entry.document_id,
            version=entry.version,
            issuer_country=entry.issuer_country,
            document_sha256=entry.document_sha256,
            logged_at=logged_at,
            kind=entry.kind,
        )
    )


def _inclusion(session: Session, entry: LedgerEntry, size: int) -> Inclusion:
    data = entry_leaf_data(entry)
    if merkle.leaf_hash(data) != entry.leaf_hash:
        raise repository.damaged(
            f"ledger entry {entry.leaf_index} no longer matches its leaf hash; "
            "its row was altered outside OneWindow",
            entry.leaf_index,
        )
    wanted = merkle.inclusion_nodes(entry.leaf_index, size) | set(merkle.root_nodes(size))
    nodes = repository.load_nodes(session, wanted - {(0, entry.leaf_index)})
    nodes[(0, entry.leaf_index)] = entry.leaf_hash
    return Inclusion(
        entry=entry,
        leaf_data=data,
        tree_size=size,
        proof=merkle.inclusion_proof_from_nodes(nodes, entry.leaf_index, size),
        root_hash=merkle.root_from_nodes(nodes, size),
    )


def prove(
    session: Session,
    document_id: str,
    tree_size: int | None = None,
    document_type: str | None = None,
) -> Inclusion:
    """Inclusion of the document's latest entry in the tree of `tree_size` (default: now)."""
    size = _check_size(session, tree_size)
    entry = repository.latest_entry(session, _document_id(document_id), size, document_type)
    if entry is None:
        raise NotFound(f"document {document_id!r} is not in the ledger", document_id=document_id)
    return _inclusion(session, entry, size)


def prove_signed(
    session: Session, signer: HeadSigner, document_id: str, document_type: str | None = None
) -> tuple[Inclusion, SignedTreeHead]:
    """Inclusion of the document's latest entry under a signed head covering the whole log."""
    sth = current_signed_head(session, signer)
    return prove(session, document_id, sth.tree_size, document_type), sth


def prove_all(
    session: Session,
    document_id: str,
    tree_size: int | None = None,
    document_type: str | None = None,
) -> list[Inclusion]:
    """Inclusion of every entry of the document (issue, status changes, revocation)."""
    size = _check_size(session, tree_size)
    entries = repository.document_entries(session, _document_id(document_id), size, document_type)
    if not entries:
        raise NotFound(f"document {document_id!r} is not in the ledger", document_id=document_id)
    return [_inclusion(session, entry, size) for entry in entries]


def prove_document(
    session: Session, signer: HeadSigner, document_id: str, document_type: str | None = None
) -> tuple[list[Inclusion], SignedTreeHead]:
    """Every entry of the document (issue, status changes, revocation), each proven under one
    signed head covering the whole log: what a verifier needs to see it was not revoked."""
    sth = current_signed_head(session, signer)
    return prove_all(session, document_id, sth.tree_size, document_type), sth


def prove_index(session: Session, leaf_index: int, tree_size: int | None = None) -> Inclusion:
    size = _check_size(session, tree_size)
    if isinstance(leaf_index, bool) or not isinstance(leaf_index, int) or leaf_index < 0:
        raise invalid("leaf_index", "range", "must be a non-negative integer")
    entry = session.get(LedgerEntry, leaf_index) if leaf_index < size else None
    if entry is None:
        raise NotFound(f"no entry {leaf_index} in a tree of size {size}")
    return _inclusion(session, entry, size)


def consistency(session: Session, old_size: int, new_size: int | None = None) -> Consistency:
    """Proof that the tree of `old_size` is a prefix of the tree of `new_size` (default: now)."""
    new = _check_size(session, new_size, "new_size")
    old = _check_size(session, old_size, "old_size")
    if old > new:
        raise invalid("old_size", "range", f"must not exceed the new size {new}")
    wanted = set(merkle.root_nodes(old)) | set(merkle.root_nodes(new))
    if 0 < old < new:
        wanted |= merkle.consistency_nodes(old, new)
    nodes = repository.load_nodes(session, wanted)
    return Consistency(
        old_size=old,
        new_size=new,
        old_root=merkle.root_from_nodes(nodes, old),
        new_root=merkle.root_from_nodes(nodes, new),
        proof=merkle.consistency_proof_from_nodes(nodes, old, new),
    )


def revoke(
    session: Session, document_id: str, document_type: str | None, issuer: str, now: datetime
) -> LedgerEntry:
    """Log the revocation of a document this node issued: its latest entry, kind `revoked`."""
    latest = repository.latest_entry(
        session, _document_id(document_id), repository.tree_size(session), document_type
    )
    if latest is None:
        raise NotFound(f"document {document_id!r} is not in the ledger", document_id=document_id)
    if latest.issuer_country != issuer:
        message = f"{document_id} was issued by {latest.issuer_country}, not this node"
        raise invalid("document_id", "not_ours", message)
    if latest.kind == "revoked":
        return latest
    entry = LeafEntry(
        latest.document_type,
        latest.document_id,
        latest.version,
        latest.issuer_country,
        latest.document_sha256,
        now,
        "revoked",
    )
    return append(session, entry)


def is_revoked(session: Session, document_id: str, document_type: str | None = None) -> bool:
    """Revocation is final: one `revoked` entry for the document is enough."""
    return repository.has_revocation(session, _document_id(document_id), document_type)


def _document_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_DOCUMENT_ID:
        raise invalid("document_id", "pattern", f"1-{MAX_DOCUMENT_ID} characters")
    return value
