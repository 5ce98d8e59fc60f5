"""What the ledger shows the outside world (API and CLI). Hashes are lowercase hex; signatures
and public keys are base64, as in tlog checkpoints."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from onewindow.kit.fields import Country, FreeText
from onewindow.kit.keys import NodeKey
from onewindow.ledger.encoding import tree_head_message
from onewindow.ledger.models import LedgerCheck, LedgerEntry, SignedTreeHead, WitnessedHead
from onewindow.ledger.selfcheck import Finding
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


class DocumentProofsRead(BaseModel):
    """Every entry of one document, each with its inclusion proof under the same signed head:
    a verifier sees the issue and any revocation, and can check both."""

    document_id: str
    signed_head: SignedHeadRead
    entries: list[InclusionRead]

    @classmethod
    def of(
        cls, found: list[Inclusion], sth: SignedTreeHead, key: NodeKey | None = None
    ) -> DocumentProofsRead:
        return cls(
            document_id=found[0].entry.document_id if found else "",
            signed_head=SignedHeadRead.of(sth, key),
            entries=[InclusionRead.of(inclusion) for inclusion in found],
        )


# ---- witnessing ----


class WitnessRead(BaseModel):
    partner: str
    endpoint: str | None
    status: Literal["ok", "ALARM", "never"]
    tree_size: int | None = Field(description="The largest head of the partner we cosigned")
    root_hash: str | None
    signed_at: datetime | None
    seen_at: datetime | None = Field(description="When a head of the partner last came in")
    alarms: int = Field(description="Alarms ever raised for this partner")
    open_alarms: int = Field(description="Alarms no operator has acknowledged yet")
    detail: str = Field(description="The latest alarm, when there is one")


class AlarmRead(BaseModel):
    """An alarm raised by witnessing a partner's head, and its acknowledgement if any."""

    id: int
    partner: str
    tree_size: int
    root_hash: str
    detail: str
    seen_at: datetime = Field(description="When this head last came in")
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement: str | None

    @classmethod
    def of(cls, row: WitnessedHead) -> AlarmRead:
        return cls(
            id=row.id,
            partner=row.partner_country,
            tree_size=row.tree_size,
            root_hash=row.root_hash.hex(),
            detail=row.alarm_detail or "",
            seen_at=_utc(row.received_at),
            acknowledged_at=_utc(row.acknowledged_at) if row.acknowledged_at else None,
            acknowledged_by=row.acknowledged_by,
            acknowledgement=row.acknowledgement,
        )


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: FreeText = Field(
        max_length=2000, description="What was found when the alarm was looked into"
    )


class PartnerAcknowledgement(Acknowledgement):
    """The portal's form: the partner is a field, and a blank note is the service's to refuse
    (with its own words)."""

    partner: Country
    note: FreeText = Field("", max_length=2000)


class CosignatureRead(BaseModel):
    """A partner's head and this node's cosignature on it: Ed25519 by `witness_key_id` over
    `signed_message`, the very checkpoint text the partner signed."""

    partner_country: str
    origin: str
    tree_size: int
    root_hash: str
    signed_at: datetime
    partner_key_id: str
    partner_signature: str
    signed_message: str
    witness_country: str
    witness_key_id: str | None = Field(
        description="The key that cosigned; null for an old cosignature that the node's "
        "current key did not make (its key was not kept before migration 0007)"
    )
    cosignature: str
    cosigned_at: datetime

    @classmethod
    def of(cls, row: WitnessedHead, country: str, key: NodeKey) -> CosignatureRead:
        signed_at = _utc(row.signed_at)
        message = tree_head_message(row.origin, row.tree_size, row.root_hash, signed_at)
        key_id = row.cosigner_key_id
        if key_id is None and key.verify(row.cosignature or b"", message):
            key_id = key.key_id
        return cls(
            partner_country=row.partner_country,
            origin=row.origin,
            tree_size=row.tree_size,
            root_hash=row.root_hash.hex(),
            signed_at=signed_at,
            partner_key_id=row.partner_key_id,
            partner_signature=base64.b64encode(row.partner_signature).decode(),
            signed_message=message.decode(),
            witness_country=country,
            witness_key_id=key_id,
            cosignature=base64.b64encode(row.cosignature or b"").decode(),
            cosigned_at=_utc(row.cosigned_at or row.received_at),
        )


# ---- verifiable documents (see onewindow.ledger.verify for the format) ----


class DocumentSignature(BaseModel):
    key_id: str = Field(max_length=64)
    algorithm: str = Field(max_length=40, description="Ed25519")
    value: str = Field(max_length=200, description="The signature, base64")


class VerifiableDocument(BaseModel):
    model_config = ConfigDict(strict=True)

    format: Literal["onewindow.verifiable/1"] = "onewindow.verifiable/1"
    document_type: str = Field(min_length=1, max_length=40)
    document_id: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1, le=2**31 - 1)
    issuer_country: str = Field(pattern=r"^[A-Z]{2}$")
    issuer_endpoint: str | None = Field(None, max_length=500)
    media_type: str = Field("application/octet-stream", max_length=100)
    document_encoding: Literal["base64", "utf-8"] = "base64"
    document: str = Field(max_length=7_000_000)
    document_sha256: str = Field(max_length=64)
    signature: DocumentSignature
    certificate: str = Field(max_length=20_000, description="The issuer node's PEM certificate")


class CheckRead(BaseModel):
    check: str
    ok: bool
    detail: str


class VerifyRead(BaseModel):
    ok: bool
    document_id: str | None
    checks: list[CheckRead]


class SelfCheckRead(BaseModel):
    """A run of the ledger's self-check (`onewindow ledger check`, POST /api/v1/ledger/check)."""

    status: Literal["ok", "failed"]
    scope: str = Field(description="full, tail (the last entries) or serving (found in use)")
    from_index: int
    tree_size: int
    entries: int = Field(description="Entries recomputed")
    heads: int = Field(description="Signed heads whose root was compared")
    first_bad_entry: int | None
    problem: str | None
    checked_at: datetime

    @classmethod
    def of(cls, found: Finding, checked_at: datetime) -> SelfCheckRead:
        return cls(
            status="ok" if found.ok else "failed",
            scope=found.scope,
            from_index=found.from_index,
            tree_size=found.tree_size,
            entries=found.entries,
            heads=found.heads,
            first_bad_entry=found.first_bad_entry,
            problem=found.problem,
            checked_at=_utc(checked_at),
        )


class LedgerHealth(BaseModel):
    """The ledger in GET /api/v1/health: a failure stands until a full check passes."""

    status: Literal["ok", "failed", "unchecked", "unknown"]
    checked_at: datetime | None = None
    scope: str | None = None
    first_bad_entry: int | None = None
    problem: str | None = None

    @classmethod
    def of(cls, row: LedgerCheck | None) -> LedgerHealth:
        if row is None:
            return cls(status="unchecked")
        return cls(
            status="ok" if row.ok else "failed",
            checked_at=_utc(row.checked_at),
            scope=row.scope,
            first_bad_entry=row.first_bad_entry,
            problem=row.problem,
        )
