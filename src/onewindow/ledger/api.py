"""The ledger over HTTP: the signed tree head, inclusion and consistency proofs.

Public on purpose, like a Certificate Transparency log: whoever holds a document can check that
it was logged, and partners watch heads for consistency. Nothing here reveals a document's
content, only its identifier, type, version and hash."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from onewindow.kit import certificates, keys
from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.kit.auth import Role
from onewindow.kit.fields import MAX_OFFSET
from onewindow.ledger import alarms, selfcheck, service, verify, witness
from onewindow.ledger.encoding import ledger_origin
from onewindow.ledger.remote import Fetcher, HttpFetcher, LocalFetcher
from onewindow.ledger.schemas import (
    Acknowledgement,
    AlarmRead,
    CheckRead,
    ConsistencyRead,
    CosignatureRead,
    DocumentProofsRead,
    InclusionRead,
    SelfCheckRead,
    SignedHeadRead,
    VerifyRead,
    WitnessRead,
)
from onewindow.ledger.tasks import damage_recorded

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


@lru_cache(maxsize=4)
def node_key(path: FilePath) -> keys.NodeKey:
    """Loaded once per process; created on first use like the CLI does."""
    return keys.load_or_create_key(path)


def get_signer(node: NodeDep) -> service.HeadSigner:
    key = node_key(node.settings.key_file)
    return service.HeadSigner(key, ledger_origin(node.settings.country), node.clock)


SignerDep = Annotated[service.HeadSigner, Depends(get_signer)]
COUNTRY = "^[A-Z]{2}$"  # a partner's ISO 3166 alpha-2 code


@router.get("/head", response_model=SignedHeadRead)
def head(node: NodeDep, signer: SignerDep) -> SignedHeadRead:
    """The signed head of the whole log (signed anew only when the log has grown, and only
    over a log that passes its self-check: else 503 `ledger_damaged`)."""
    with damage_recorded(node) as session:
        return SignedHeadRead.of(service.current_signed_head(session, signer), signer.key)


@router.get("/proof/{document_id}", response_model=InclusionRead)
def proof(
    node: NodeDep,
    signer: SignerDep,
    document_id: str = Path(min_length=1, max_length=service.MAX_DOCUMENT_ID),
    document_type: str | None = Query(None, max_length=40),
    tree_size: int | None = Query(
        None,
        ge=0,
        le=MAX_OFFSET,
        description="Prove against a head you already hold; default: a current one",
    ),
) -> InclusionRead:
    """Inclusion proof of the document's latest entry."""
    with damage_recorded(node) as session:
        if tree_size is not None:
            found = service.prove(session, document_id, tree_size, document_type)
            return InclusionRead.of(found)
        found, sth = service.prove_signed(session, signer, document_id, document_type)
        return InclusionRead.of(found, SignedHeadRead.of(sth, signer.key))


@router.get("/consistency", response_model=ConsistencyRead)
def consistency(
    node: NodeDep,
    old: int = Query(ge=0, le=MAX_OFFSET),
    new: int | None = Query(None, ge=0, le=MAX_OFFSET, description="Default: the current size"),
) -> ConsistencyRead:
    """Proof that the log at size `old` is a prefix of the log at size `new`."""
    with damage_recorded(node) as session:
        return ConsistencyRead.of(service.consistency(session, old, new))


@router.get("/proofs/{document_id}", response_model=DocumentProofsRead)
def proofs(
    node: NodeDep,
    signer: SignerDep,
    document_id: str = Path(min_length=1, max_length=service.MAX_DOCUMENT_ID),
    document_type: str | None = Query(None, max_length=40),
) -> DocumentProofsRead:
    """Every entry of the document (issued, status changes, revoked), each with its inclusion
    proof under one signed head: what `onewindow verify` asks the issuer."""
    with damage_recorded(node) as session:
        found, sth = service.prove_document(session, signer, document_id, document_type)
        return DocumentProofsRead.of(found, sth, signer.key)


@router.post("/check", response_model=SelfCheckRead)
def check(
    node: NodeDep,
    signer: SignerDep,
    token: TokenDep,
    tail: int | None = Query(None, ge=0, description="Only the last TAIL entries"),
) -> SelfCheckRead:
    """A supervisor or administrator runs the ledger's self-check (see `onewindow ledger
    check`): in full by default, a few seconds per 200,000 entries. The result is put on
    record and shown by /api/v1/health; a failure is an answer, not an error."""
    with node.transaction() as session:
        actor = principal(session, token)
        actor.require(Role.SUPERVISOR, Role.ADMINISTRATOR)
        found = selfcheck.check(session, tail=tail, public_key=signer.key.public_key)
        row = selfcheck.record(session, found, node.clock.now(), actor.name)
        return SelfCheckRead.of(found, row.checked_at)


@router.get("/witnesses", response_model=list[WitnessRead])
def witnesses(node: NodeDep) -> list[WitnessRead]:
    """The partners' logs this node witnesses: the last head cosigned, and any alarm."""
    endpoints = {country: p.endpoint for country, p in node.settings.partners.items()}
    with node.transaction() as session:
        return [witness.to_read(s) for s in witness.witness_status(session, endpoints)]


@router.get("/alarms", response_model=list[AlarmRead])
def list_alarms(
    node: NodeDep,
    partner: str | None = Query(None, pattern=COUNTRY, description="Only this partner"),
    open_only: bool = Query(False, alias="open", description="Only those not acknowledged"),
) -> list[AlarmRead]:
    """Alarms raised by witnessing partners' logs, newest first."""
    with node.transaction() as session:
        return [AlarmRead.of(r) for r in alarms.list_alarms(session, partner, open_only)]


@router.post("/witnesses/{country}/acknowledgement", response_model=list[AlarmRead])
def acknowledge(
    node: NodeDep,
    token: TokenDep,
    body: Acknowledgement,
    country: str = Path(pattern=COUNTRY, description="The partner"),
) -> list[AlarmRead]:
    """A supervisor or administrator acknowledges the partner's open alarms with a note. The
    alarms stay on record; the partner's status leaves ALARM until a new one comes in."""
    with node.transaction() as session:
        actor = principal(session, token)
        done = alarms.acknowledge(session, actor, country, body.note, node.clock.now())
        return [AlarmRead.of(r) for r in done]


@router.get("/cosignatures", response_model=list[CosignatureRead])
def cosignatures(
    node: NodeDep,
    signer: SignerDep,
    country: str = Query(pattern=COUNTRY, description="The partner whose heads"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[CosignatureRead]:
    """This node's cosignatures of a partner's heads, largest head first."""
    with node.transaction() as session:
        rows = witness.cosignatures(session, country, limit)
        own = node.settings.country
        return [CosignatureRead.of(row, own, signer.key) for row in rows]


@router.post("/verify", response_model=VerifyRead)
def verify_document(
    node: NodeDep,
    signer: SignerDep,
    document: Annotated[dict[str, Any], Body(description="A verifiable document")],
) -> VerifyRead:
    """Check a verifiable document (see `onewindow verify`). Bad documents are answered with
    failed checks, not errors. Only this node's own log and its configured partners' are
    asked: never an endpoint the document names."""
    settings = node.settings
    ca = certificates.read_ca(settings.ca_file) if settings.ca_file else None
    now = node.clock.now()
    doc, parsed = verify.parse_verifiable(document)
    checks = [parsed]
    if doc is not None:
        with damage_recorded(node) as session, HttpFetcher() as http:
            fetcher: Fetcher = http
            endpoint: str | None = None
            if doc.issuer_country == settings.country:
                fetcher, endpoint = LocalFetcher(session, signer), "local"
            elif doc.issuer_country in settings.partners:
                endpoint = settings.partners[doc.issuer_country].endpoint
            checks += verify.check_document(doc, ca=ca, fetcher=fetcher, now=now, endpoint=endpoint)
    return VerifyRead(
        ok=verify.passed(checks),
        document_id=doc.document_id if doc else None,
        checks=[CheckRead(check=c.check, ok=c.ok, detail=c.detail) for c in checks],
    )
