"""The ledger's word on the documents a declaration rests on, for the officer who decides it:
each Form D its items claim and the export data (ACDD) it was matched to, proven included in
this node's ledger under a head the node signed, and the proof checked here as any verifier
would check it (the head's signature, then the inclusion path to its root).

A document the ledger does not hold, or whose proof does not check, is reported, not raised:
the officer sees which document fails and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from onewindow import ledger
from onewindow.declarations import workflow
from onewindow.declarations.access import get
from onewindow.declarations.models import Declaration
from onewindow.kit.auth import Principal
from onewindow.kit.errors import NotFound, OneWindowError, Text
from onewindow.kit.i18n import N_

FORM_D = "FORM_D"
ACDD = "ACDD"
LABELS = {FORM_D: N_("Form D"), ACDD: "ACDD"}


@dataclass(frozen=True)
class DocumentProof:
    """One document's inclusion as checked: where it is in the log (`leaf_index` of the signed
    head of `tree_size`), or the `problem` that kept the check from passing."""

    document_type: str
    document_id: str
    ok: bool
    leaf_index: int | None = None
    tree_size: int | None = None
    kind: str | None = None  # of the latest entry: received, issued, status_change, revoked
    issuer: str | None = None
    logged_at: datetime | None = None
    entries: int = 0
    problem: str | None = None

    @property
    def label(self) -> str:
        return LABELS.get(self.document_type, self.document_type)


def documents(decl: Declaration) -> list[tuple[str, str]]:
    """(document type, ledger id) of each Form D the items claim, then the matched ACDD."""
    found = []
    for item in decl.items:
        ref = item.preference_certificate
        if ref and (FORM_D, ref) not in found:
            found.append((FORM_D, ref))
    if decl.pre_arrival:  # "TH:TH-EX-2026-001": the exporting country, its declaration
        _, _, export = decl.pre_arrival.partition(":")
        found.append((ACDD, export))
    return found


def document_proofs(
    session: Session, actor: Principal, number: str, signer: ledger.HeadSigner
) -> list[DocumentProof]:
    """The proofs of the documents of declaration `number`: for customs officials only."""
    actor.require(*workflow.OFFICIALS)
    decl = get(session, actor, number)
    return [check(session, signer, kind, ref) for kind, ref in documents(decl)]


def check(
    session: Session, signer: ledger.HeadSigner, document_type: str, document_id: str
) -> DocumentProof:
    """Every entry of the document, proven under one signed head covering the whole log."""

    def failed(problem: str) -> DocumentProof:
        return DocumentProof(document_type, document_id, ok=False, problem=problem)

    try:
        inclusions, head = ledger.prove_document(session, signer, document_id, document_type)
    except NotFound:
        return failed(Text("not in this node's ledger"))
    except OneWindowError as exc:  # the ledger is damaged: no head is signed over it
        return failed(exc.detail)
    size = head.tree_size
    if not ledger.verify_signed_head(head, signer.key.public_key):
        return failed(
            Text("the head of size {size} does not verify with this node's key", size=size)
        )
    for inclusion in inclusions:
        index = inclusion.entry.leaf_index
        if inclusion.tree_size != size or not ledger.verify_inclusion(
            inclusion.leaf_data, index, size, inclusion.proof, head.root_hash
        ):
            return failed(
                Text(
                    "the proof of entry {index} does not lead to the head of size {size}",
                    index=index,
                    size=size,
                )
            )
    latest = inclusions[-1].entry
    revoked = next((i.entry for i in inclusions if i.entry.kind == "revoked"), None)
    return DocumentProof(
        document_type,
        document_id,
        ok=revoked is None,
        leaf_index=latest.leaf_index,
        tree_size=size,
        kind=latest.kind,
        issuer=latest.issuer_country,
        logged_at=latest.logged_at,
        entries=len(inclusions),
        problem=Text("revoked by its issuer (entry {index})", index=revoked.leaf_index)
        if revoked
        else None,
    )
