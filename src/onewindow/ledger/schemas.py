"""What the ledger shows the outside world (API and CLI). Hashes are lowercase hex; signatures
and public keys are base64, as in tlog checkpoints."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from onewindow.keys import NodeKey
from onewindow.ledger.models import LedgerEntry, SignedTreeHead
from onewindow.ledger.service import Consistency, Inclusion, signed_head_message


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SignedHeadRead(BaseModel):
    tree_size: int
    root_hash: str
    signed_at: datetime
    origin: str
    key_id: str
    signature: str = Field(description="Ed25519 over `signed_message`, base64")
    signed_message: str = Field(description="The exact signed text (a tlog checkpoint body)")
    public_key: str | None = Field(None, description="The node's Ed25519 key, raw, base64")

    @classmethod
    def of(cls, sth: SignedTreeHead, key: NodeKey | None = None) -> SignedHeadRead:
        public = key.public_raw() if key is not None and key.key_id == sth.key_id else None
        return cls(
            tree_size=sth.tree_size,
            root_hash=sth.root_hash.hex(),
            signed_at=_utc(sth.signed_at),
            origin=sth.origin,
            key_id=sth.key_id,
            signature=base64.b64encode(sth.signature).decode(),
            signed_message=signed_head_message(sth).decode(),
            public_key=base64.b64encode(public).decode() if public else None,
        )


class EntryRead(BaseModel):
    leaf_index: int
    document_type: str
    document_id: str
    version: int
    issuer_country: str
    document_sha256: str
    logged_at: datetime
    kind: str
    leaf_hash: str

    @classmethod
    def of(cls, entry: LedgerEntry) -> EntryRead:
        return cls(
            leaf_index=entry.leaf_index,
            document_type=entry.document_type,
            document_id=entry.document_id,
            version=entry.version,
            issuer_country=entry.issuer_country,
            document_sha256=entry.document_sha256,
            logged_at=_utc(entry.logged_at),
            kind=entry.kind,
            leaf_hash=entry.leaf_hash.hex(),
        )


class InclusionRead(BaseModel):
    entry: EntryRead
    leaf_data: str = Field(description="The canonical JSON the leaf hash covers (UTF-8)")
    leaf_index: int
    tree_size: int
    root_hash: str
    proof: list[str] = Field(description="RFC 9162 inclusion path, deepest sibling first")
    signed_head: SignedHeadRead | None = None

    @classmethod
    def of(cls, inclusion: Inclusion, head: SignedHeadRead | None = None) -> InclusionRead:
        return cls(
            entry=EntryRead.of(inclusion.entry),
            leaf_data=inclusion.leaf_data.decode(),
            leaf_index=inclusion.entry.leaf_index,
            tree_size=inclusion.tree_size,
            root_hash=inclusion.root_hash.hex(),
            proof=[p.hex() for p in inclusion.proof],
            signed_head=head,
        )


class ConsistencyRead(BaseModel):
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str] = Field(description="RFC 9162 consistency proof")

    @classmethod
    def of(cls, c: Consistency) -> ConsistencyRead:
        return cls(
            old_size=c.old_size,
            new_size=c.new_size,
            old_root=c.old_root.hex(),
            new_root=c.new_root.hex(),
            proof=[p.hex() for p in c.proof],
        )
