"""Verifiable documents: what a node hands out with a document it issues, and how anyone checks
one with nothing but the federation's root certificate and the issuer's public endpoint.

A verifiable document is one JSON object (UTF-8):

    {
      "format": "onewindow.verifiable/1",
      "document_type": "FORM_D",               the ledger's document type
      "document_id": "TH-2026-000123",         the ledger's document id
      "version": 1,
      "issuer_country": "TH",                  ISO 3166 alpha-2 of the issuing node
      "issuer_endpoint": "https://ow.th.example",   base URL of the issuer's public API
      "media_type": "application/xml",         what the document bytes are
      "document_encoding": "base64",           or "utf-8" when the bytes are text
      "document": "PD94bWwg...",               the canonical document bytes, so encoded
      "document_sha256": "9f86d0...",          lowercase hex SHA-256 of those bytes
      "signature": {"key_id": "1a2b3c4d5e6f7a8b", "algorithm": "Ed25519",
                    "value": "<base64 Ed25519 signature over the document bytes>"},
      "certificate": "-----BEGIN CERTIFICATE-----\\n..."   the issuer node's certificate
    }

The bytes signed and hashed are the document's canonical bytes exactly as carried (for a
Form D, its XML as exchanged); the ledger entry of the document holds the same SHA-256. The
key id is the first 16 hex digits of SHA-256 over the key's SubjectPublicKeyInfo DER.

`check_document` runs these checks; each yields {check, ok, detail} and none raises:

- format:       the file is a verifiable document of this format;
- certificate:  the issuer's certificate is signed by the federation root, is not a CA, names
                the issuer country (subject and `urn:onewindow:node:XX`), certifies an Ed25519
                key, and it and the root are within their validity periods;
- signature:    the signature verifies with the certificate's key over the document bytes;
- hash:         the document bytes hash to `document_sha256` (not altered);
- log_head:     the issuer's log, fetched from the endpoint the verifier configured for that
                partner (never the `issuer_endpoint` the document names, which is only
                informative), has a head signed by that same key under the issuer's log name
                (`onewindow/XX/ledger`); not asked at all when the certificate check failed;
- inclusion:    an `issued` entry of this type, id, version and issuer, with the hash of these
                very bytes, is in the log under that head (RFC 9162 inclusion proof);
- not_revoked:  no entry of the document under that head is a `revoked` one.
A log can prove what it holds, not what it lacks: a revocation the issuer hides from its own
log's answers goes unseen, which is what partners' witnessing of its heads limits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError
from sqlalchemy.orm import Session

from onewindow.kit import certificates, keys
from onewindow.kit.errors import ConfigurationError, InvalidInput, PartnerError, PartnerRefused
from onewindow.ledger import merkle, service, trust
from onewindow.ledger.encoding import LeafEntry, ledger_origin
from onewindow.ledger.remote import Checkpoint, Fetcher, ProvenEntry, parse_head, parse_proofs
from onewindow.ledger.schemas import DocumentSignature, VerifiableDocument

ALGORITHM = "Ed25519"
LABELS = {
    "format": "verifiable document format",
    "certificate": "issuer certificate chains to the federation CA",
    "signature": "issuer signature over the document",
    "hash": "document not altered (hash matches)",
    "log_head": "issuer's log head signed by the issuer",
    "inclusion": "document included in the issuer's log",
    "not_revoked": "document not revoked",
}
LOG_CHECKS = ("log_head", "inclusion", "not_revoked")


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    detail: str


def passed(checks: list[Check]) -> bool:
    return bool(checks) and all(c.ok for c in checks)


# ---- issuing ----


def make_verifiable(
    document: bytes,
    *,
    document_type: str,
    document_id: str,
    version: int,
    issuer_country: str,
    issuer_endpoint: str | None,
    key: keys.NodeKey,
    certificate_pem: bytes,
    media_type: str = "application/octet-stream",
    session: Session | None = None,
    logged_at: datetime | None = None,
) -> VerifiableDocument:
    """Sign the document's canonical bytes with the node key; with a session, also log it as
    `issued` (at `logged_at`) in the caller's transaction."""
    try:
        certificate = certificates.load_certificates(certificate_pem)[0]
    except InvalidInput as exc:
        raise ConfigurationError("the node certificate is not a PEM certificate") from exc
    certified = certificates.ed25519_key(certificate)
    if certified is None or keys.key_id(certified) != key.key_id:
        raise ConfigurationError("the node certificate does not certify the node's signing key")
    digest = hashlib.sha256(document).hexdigest()
    if session is not None:
        if logged_at is None:
            raise ValueError("logging a document needs the time (logged_at)")
        entry = LeafEntry(
            document_type, document_id, version, issuer_country, digest, logged_at, "issued"
        )
        service.append(session, entry)
    return VerifiableDocument(
        document_type=document_type,
        document_id=document_id,
        version=version,
        issuer_country=issuer_country,
        issuer_endpoint=issuer_endpoint,
        media_type=media_type,
        document=base64.b64encode(document).decode(),
        document_sha256=digest,
        signature=DocumentSignature(
            key_id=key.key_id,
            algorithm=ALGORITHM,
            value=base64.b64encode(key.sign(document)).decode(),
        ),
        certificate=certificates.certificate_pem(certificate).decode(),
    )


def document_bytes(doc: VerifiableDocument) -> bytes:
    """The document's bytes; ValueError if `document` is not in its stated encoding."""
    if doc.document_encoding == "utf-8":
        return doc.document.encode()
    try:
        return base64.b64decode(doc.document, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"the document is not valid base64: {exc}") from None


# ---- checking ----


def parse_verifiable(raw: bytes | str | dict[str, Any]) -> tuple[VerifiableDocument | None, Check]:
    try:
        if isinstance(raw, dict):
            doc = VerifiableDocument.model_validate(raw)
        else:
            doc = VerifiableDocument.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        return None, Check("format", False, f"not a verifiable document: {problems}")
    return doc, Check("format", True, f"{doc.document_type} {doc.document_id} v{doc.version}")


def verify(
    raw: bytes | str | dict[str, Any],
    *,
    ca: x509.Certificate | None,
    fetcher: Fetcher,
    now: datetime,
    endpoint: str | None = None,
) -> list[Check]:
    """Every check of a document as received, asking the issuer's log at `endpoint`: the
    configured partner's, never the `issuer_endpoint` the document names (whoever forged the
    document chose that one)."""
    doc, parsed = parse_verifiable(raw)
    if doc is None:
        return [parsed]
    return [parsed, *check_document(doc, ca=ca, fetcher=fetcher, now=now, endpoint=endpoint)]


def check_document(
    doc: VerifiableDocument,
    *,
    ca: x509.Certificate | None,
    fetcher: Fetcher,
    now: datetime,
    endpoint: str | None,
) -> list[Check]:
    """The checks after `format`, asking the issuer's log at `endpoint` (none: those fail)."""
    certificate_check, key = _certificate(doc, ca, now)
    try:
        body = document_bytes(doc)
    except ValueError as exc:
        unreadable = [Check(name, False, str(exc)) for name in ("signature", "hash", *LOG_CHECKS)]
        return [certificate_check, *unreadable]
    if not certificate_check.ok:
        # An issuer the federation does not vouch for: its log is not asked, wherever it is.
        log_checks = _fail_log("not asked: the issuer's certificate is not trusted")
    else:
        log_checks = _log(doc, body, key, fetcher, endpoint)
    return [certificate_check, _signature(doc, body, key), _hash(doc, body), *log_checks]


def _certificate(
    doc: VerifiableDocument, ca: x509.Certificate | None, now: datetime
) -> tuple[Check, Ed25519PublicKey | None]:
    try:
        certificate = certificates.load_certificates(doc.certificate.encode())[0]
    except InvalidInput:
        return Check("certificate", False, "the issuer certificate is not a PEM certificate"), None
    key = certificates.ed25519_key(certificate)
    if ca is None:
        detail = "no federation CA certificate to check it against (--ca, or ca_file)"
        return Check("certificate", False, detail), key
    problem = trust.chain_problem(certificate, ca, country=doc.issuer_country, now=now)
    if problem:
        return Check("certificate", False, problem), key
    detail = (
        f"{certificate.subject.rfc4514_string()}, issued by {ca.subject.rfc4514_string()}, "
        f"valid until {certificate.not_valid_after_utc:%Y-%m-%d}"
    )
    return Check("certificate", True, detail), key


def _signature(doc: VerifiableDocument, body: bytes, key: Ed25519PublicKey | None) -> Check:
    sig = doc.signature
    if key is None:
        return Check("signature", False, "the certificate holds no Ed25519 key to check with")
    if sig.algorithm != ALGORITHM:
        return Check("signature", False, f"algorithm {sig.algorithm!r} is not {ALGORITHM}")
    if sig.key_id != keys.key_id(key):
        detail = f"signed by key {sig.key_id!r}, but the certificate is for {keys.key_id(key)}"
        return Check("signature", False, detail)
    try:
        value = base64.b64decode(sig.value, validate=True)
    except binascii.Error:
        return Check("signature", False, "the signature is not valid base64")
    if not keys.verify(key, value, body):
        return Check("signature", False, "the signature does not match the document bytes")
    return Check("signature", True, f"Ed25519 by key {sig.key_id}")


def _hash(doc: VerifiableDocument, body: bytes) -> Check:
    actual = hashlib.sha256(body).hexdigest()
    if doc.document_sha256 != actual:
        detail = f"the document hashes to {actual}, not {doc.document_sha256[:64]!r}: altered"
        return Check("hash", False, detail)
    return Check("hash", True, f"sha256 {actual}")


def _fail_log(detail: str, names: tuple[str, ...] = LOG_CHECKS) -> list[Check]:
    return [Check(name, False, detail) for name in names]


def _log(
    doc: VerifiableDocument,
    body: bytes,
    key: Ed25519PublicKey | None,
    fetcher: Fetcher,
    endpoint: str | None,
) -> list[Check]:
    if not endpoint:
        return _fail_log(f"no public endpoint is known for issuer {doc.issuer_country}")
    if key is None:
        return _fail_log("no issuer key to check the log's head with")
    refused: str | None = None
    entries: list[ProvenEntry] = []
    try:
        head, entries = parse_proofs(fetcher.proofs(endpoint, doc.document_id, doc.document_type))
    except PartnerRefused as exc:
        refused = exc.detail
        try:
            head = parse_head(fetcher.head(endpoint))
        except PartnerError as again:
            return _fail_log(f"the issuer's log at {endpoint}: {again.detail}")
    except PartnerError as exc:
        return _fail_log(f"the issuer's log at {endpoint}: {exc.detail}")
    problem = _head_problem(head, doc.issuer_country, key)
    if problem:
        return [
            Check("log_head", False, problem),
            *_fail_log("not checked: the log head is not the issuer's", LOG_CHECKS[1:]),
        ]
    signed = head.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    detail = f"size {head.tree_size}, root {head.root_hash.hex()}, signed {signed}Z"
    head_check = Check("log_head", True, detail)
    if refused is not None:
        detail = f"the log of size {head.tree_size} has no entry for {doc.document_id}: {refused}"
        return [head_check, *_fail_log(detail, LOG_CHECKS[1:])]
    mine = [e for e in entries if _is_of(e, doc)]
    proven = [e for e in mine if _proves(e, head)]
    return [head_check, _inclusion(doc, body, mine, proven, head), _not_revoked(mine, proven)]


def _head_problem(head: Checkpoint, country: str, key: Ed25519PublicKey) -> str | None:
    if head.origin != ledger_origin(country):
        return f"the head is of log {head.origin!r}, not {ledger_origin(country)!r}"
    if head.key_id != keys.key_id(key):
        return f"the head is signed by key {head.key_id!r}, not the issuer's {keys.key_id(key)}"
    if not keys.verify(key, head.signature, head.message()):
        return f"bad signature on the issuer's head of size {head.tree_size}"
    return None


def _is_of(entry: ProvenEntry, doc: VerifiableDocument) -> bool:
    f = entry.fields
    return (
        f.get("document_id") == doc.document_id
        and f.get("document_type") == doc.document_type
        and f.get("issuer_country") == doc.issuer_country
    )


def _proves(entry: ProvenEntry, head: Checkpoint) -> bool:
    """The entry's leaf is under the signed root, and its fields are what the leaf hashes."""
    try:
        canonical = orjson.dumps(entry.fields, option=orjson.OPT_SORT_KEYS) == entry.leaf_data
    except TypeError:
        canonical = False
    return (
        canonical
        and entry.tree_size == head.tree_size
        and merkle.verify_inclusion(
            entry.leaf_data, entry.leaf_index, head.tree_size, entry.proof, head.root_hash
        )
    )


def _inclusion(
    doc: VerifiableDocument,
    body: bytes,
    mine: list[ProvenEntry],
    proven: list[ProvenEntry],
    head: Checkpoint,
) -> Check:
    digest = hashlib.sha256(body).hexdigest()
    issued = [
        e
        for e in proven
        if e.fields.get("kind") == "issued" and e.fields.get("version") == doc.version
    ]
    for e in issued:
        if e.fields.get("document_sha256") == digest:
            detail = f"leaf {e.leaf_index} of {head.tree_size}, logged {e.fields.get('logged_at')}"
            return Check("inclusion", True, detail)
    if issued:
        logged = issued[0].fields.get("document_sha256")
        detail = (
            f"the issuer logged hash {logged} for v{doc.version}; this document hashes to {digest}"
        )
        return Check("inclusion", False, detail)
    failing = len(mine) - len(proven)
    detail = f"no proven 'issued' entry of {doc.document_id} v{doc.version}"
    if failing:
        detail += f" ({failing} entries came with proofs that do not lead to the signed root)"
    return Check("inclusion", False, detail)


def _not_revoked(mine: list[ProvenEntry], proven: list[ProvenEntry]) -> Check:
    revoked = [e for e in proven if e.fields.get("kind") == "revoked"]
    if revoked:
        e = revoked[0]
        detail = f"revoked: leaf {e.leaf_index}, logged {e.fields.get('logged_at')}"
        return Check("not_revoked", False, detail)
    claimed = [e for e in mine if e.fields.get("kind") == "revoked" and e not in proven]
    if claimed:
        return Check("not_revoked", False, "a revocation entry came with a proof that fails")
    return Check("not_revoked", True, f"{len(proven)} entries of the document, none revoked")
