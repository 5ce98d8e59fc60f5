"""The ledger over HTTP: the signed tree head, inclusion and consistency proofs.

Public on purpose, like a Certificate Transparency log: whoever holds a document can check that
it was logged, and partners watch heads for consistency. Nothing here reveals a document's
content, only its identifier, type, version and hash."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from onewindow import keys
from onewindow.api_deps import NodeDep
from onewindow.ledger import service
from onewindow.ledger.encoding import ledger_origin
from onewindow.ledger.schemas import ConsistencyRead, InclusionRead, SignedHeadRead

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


@lru_cache(maxsize=1)
def node_key() -> keys.NodeKey:
    """Loaded once per process; created on first use like the CLI does."""
    return keys.load_or_create_key()


def get_signer(node: NodeDep) -> service.HeadSigner:
    return service.HeadSigner(node_key(), ledger_origin(node.settings.country), node.clock)


SignerDep = Annotated[service.HeadSigner, Depends(get_signer)]


@router.get("/head", response_model=SignedHeadRead)
def head(node: NodeDep, signer: SignerDep) -> SignedHeadRead:
    """The signed head of the whole log (signed anew only when the log has grown)."""
    with node.transaction() as session:
        return SignedHeadRead.of(service.current_signed_head(session, signer), signer.key)


@router.get("/proof/{document_id}", response_model=InclusionRead)
def proof(
    node: NodeDep,
    signer: SignerDep,
    document_id: str = Path(min_length=1, max_length=service.MAX_DOCUMENT_ID),
    document_type: str | None = Query(None, max_length=40),
    tree_size: int | None = Query(
        None, ge=0, description="Prove against a head you already hold; default: a current one"
    ),
) -> InclusionRead:
    """Inclusion proof of the document's latest entry."""
    with node.transaction() as session:
        if tree_size is not None:
            found = service.prove(session, document_id, tree_size, document_type)
            return InclusionRead.of(found)
        found, sth = service.prove_signed(session, signer, document_id, document_type)
        return InclusionRead.of(found, SignedHeadRead.of(sth, signer.key))


@router.get("/consistency", response_model=ConsistencyRead)
def consistency(
    node: NodeDep,
    old: int = Query(ge=0),
    new: int | None = Query(None, ge=0, description="Default: the current size"),
) -> ConsistencyRead:
    """Proof that the log at size `old` is a prefix of the log at size `new`."""
    with node.transaction() as session:
        return ConsistencyRead.of(service.consistency(session, old, new))
