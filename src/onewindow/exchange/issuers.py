"""Whether a message about a document comes from that document's issuer. Pure.

The envelope already binds the sender to the signer's certificate: a TH key cannot send for
SG. What a document says is checked here, for every document type alike, from the fields
each type declares (`DocumentType.issuance`), before any handler runs:
- the country a document names as its author is the signer's;
- the document it is about was issued by the sender (a new version, a status, a
  cancellation, an answer) or by this node (a request or a notice addressed to its issuer),
  never by a third country;
- where references are one space for every issuer (Form D), a reference is bound to the
  first country whose document under it was applied here, and a message naming any other
  issuer for it is refused. Without that, a second partner could reuse a certificate's
  reference to rewrite it, then cancel it as its new "issuer".
A refusal is InvalidInput coded `not_issuer` at the offending field. Whether the sender is
the partner a document went to (the importing country of a certificate) stays the domain's
to check: only it knows where its own documents went.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onewindow.exchange import documents
from onewindow.kit.errors import InvalidInput, invalid

Key = tuple[str, str]  # the type of the document concerned, its reference


def _field(payload: Mapping[str, Any], path: str) -> str | None:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) else None


def _issuance(document_type: str) -> documents.Issuance | None:
    kind = documents.document_types().get(document_type)
    return kind.issuance if kind else None


def _not_issuer(path: str, message: str) -> InvalidInput:
    return invalid(path, "not_issuer", message)


def key_of(document_type: str, payload: Mapping[str, Any]) -> Key | None:
    """The bound reference a message is about, if its type's references are bound."""
    spec = _issuance(document_type)
    if spec is None or not spec.bound:
        return None
    reference = _field(payload, spec.reference)
    return (spec.about, reference) if reference else None


def check(
    document_type: str,
    payload: Mapping[str, Any],
    *,
    sender: str,
    receiver: str,
    bound: Mapping[Key, str],
) -> Key | None:
    """InvalidInput (`not_issuer`) unless `sender` may send this document (see the module's
    doc); `bound` holds the issuer bound to each reference concerned. Returns the reference
    to bind to `sender` once the message is applied: that of a document issued here for
    the first time, else None."""
    spec = _issuance(document_type)
    if spec is None:  # fail closed: a new exchanged type must say who issues it
        raise invalid("document_type", "no_issuer_rule", f"{document_type}: no issuer declared")
    if spec.author is not None:
        author = _field(payload, spec.author)
        if author != sender:
            raise _not_issuer(spec.author, f"{spec.author} is {author}; the signer is {sender}")
    issuer = receiver if spec.issuer is None else _field(payload, spec.issuer)
    if issuer not in (sender, receiver):
        path = spec.issuer or spec.reference
        raise _not_issuer(
            path, f"the {spec.about} concerned is {issuer}'s: {sender} cannot send it"
        )
    key = key_of(document_type, payload)
    if key is None:
        return None
    first = bound.get(key)
    if first is not None and first != issuer:
        message = f"{spec.about} {key[1]} was issued by {first}, not {issuer}"
        raise _not_issuer(spec.reference, message)
    return key if first is None and document_type == spec.about else None
