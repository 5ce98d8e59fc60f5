"""Signed envelopes around documents, and signed receipts for them. Pure: keys, certificates
and the time are passed in.

Both are signed the same way: the signature covers the exclusive C14N of the whole element
with its `Signature` child left out, so everything a partner could alter (header, document,
even comments) is covered, and the signature travels inside the message it signs. The
signer's certificate must chain to the federation CA and name the country the message claims
to come from, so one member state cannot speak for another.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography import x509
from lxml import etree

from onewindow.exchange import documents, xmlsafe
from onewindow.exchange.trust import TrustStore
from onewindow.kit import certificates, keys
from onewindow.kit.errors import ConfigurationError, InvalidInput, invalid

ENVELOPE_NS = documents.ENVELOPE.namespace
RECEIPT = documents.RECEIPT
# A sender retries the same signed bytes until its time to live runs out, so the window must
# be longer than that TTL; a receiver keeps message ids at least this long, so any replay is
# either a known duplicate or too old.
DEFAULT_MAX_AGE = timedelta(hours=48)
# How far ahead of our clock a partner's clock may run.
DEFAULT_MAX_SKEW = timedelta(minutes=5)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # as the XSD


@dataclass(frozen=True)
class Header:
    message_id: str
    sender: str
    receiver: str
    document_type: str
    document_id: str
    version: int
    created: datetime


def new_header(
    sender: str, receiver: str, document_type: str, document_id: str, version: int, now: datetime
) -> Header:
    """A header with a fresh message id."""
    return Header(str(uuid.uuid4()), sender, receiver, document_type, document_id, version, now)


@dataclass(frozen=True)
class Signer:
    """A node's key and its certificate. `embed_certificate` sends the certificate along,
    so a partner that accepts embedded certificates learns a rotated key from the message."""

    private_key: keys.SigningKey
    certificate: x509.Certificate
    embed_certificate: bool = False
    key_id: str = field(init=False)
    country: str = field(init=False)

    def __post_init__(self) -> None:
        kid = keys.key_id(self.certificate)
        if keys.key_id(self.private_key.public_key()) != kid:
            raise ConfigurationError("the node key does not match its certificate")
        object.__setattr__(self, "key_id", kid)
        object.__setattr__(self, "country", certificates.certificate_country(self.certificate))


@dataclass(frozen=True)
class Opened:
    """A verified envelope: who sent it with which key, and what it carries."""

    header: Header
    document: etree._Element
    certificate: x509.Certificate
    key_id: str
    digest: str  # SHA-256 of the signed bytes, hex: what a receipt acknowledges


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _text(parent: etree._Element, ns: str, tag: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, _q(ns, tag))
    element.text = value
    return element


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(text: str | None, path: str) -> datetime:
    try:
        return datetime.fromisoformat((text or "").strip()).astimezone(UTC)
    except ValueError as exc:
        raise invalid(path, "invalid_time", f"{text!r} is not a supported time") from exc


def canonical(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=True)


def _sign(root: etree._Element, ns: str, signer: Signer) -> str:
    """Sign `root` in place; return the digest of the signed bytes."""
    signed = canonical(root)
    algorithm, value = keys.sign_bytes(signer.private_key, signed)
    signature = etree.SubElement(root, _q(ns, "Signature"))
    _text(signature, ns, "Algorithm", algorithm)
    _text(signature, ns, "KeyID", signer.key_id)
    if signer.embed_certificate:
        _text(
            signature, ns, "Certificate", certificates.certificate_pem(signer.certificate).decode()
        )
    _text(signature, ns, "Value", base64.b64encode(value).decode())
    return hashlib.sha256(signed).hexdigest()


def _verify(
    root: etree._Element, ns: str, trust: TrustStore, country: str, now: datetime
) -> tuple[x509.Certificate, str, str]:
    """Check the signature of a schema-valid element and detach it; return the signer's
    certificate, key id and the digest of the signed bytes."""
    signature = root.find(_q(ns, "Signature"))
    assert signature is not None  # the schema requires it
    algorithm = signature.findtext(_q(ns, "Algorithm"), "").strip()
    kid = signature.findtext(_q(ns, "KeyID"), "").strip()
    pem = signature.findtext(_q(ns, "Certificate"))
    embedded = certificates.load_certificate(pem.encode()) if pem else None
    certificate = trust.resolve(kid, country=country, now=now, embedded=embedded)
    try:
        value = base64.b64decode(signature.findtext(_q(ns, "Value"), ""), validate=True)
    except (binascii.Error, ValueError):
        value = b""
    root.remove(signature)
    signed = canonical(root)
    if not keys.verify_bytes(certificates.public_key_of(certificate), algorithm, value, signed):
        raise invalid("Signature/Value", "signature_invalid", "the signature does not verify")
    return certificate, kid, hashlib.sha256(signed).hexdigest()


def check_freshness(
    created: datetime,
    now: datetime,
    *,
    max_age: timedelta = DEFAULT_MAX_AGE,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    path: str = "Header/CreationDateTime",
) -> None:
    """Refuse a message created longer than `max_age` ago (a replay) or in the future."""
    if created < now - max_age:
        raise invalid(path, "message_too_old", f"created {created.isoformat()}, too long ago")
    if created > now + max_skew:
        raise invalid(path, "message_from_future", f"created {created.isoformat()}, ahead of us")


# ---- envelopes ----


def seal(header: Header, document: etree._Element | bytes, signer: Signer) -> bytes:
    """The signed envelope carrying `document`, validated against its type's schema."""
    return seal_with_digest(header, document, signer)[0]


def seal_with_digest(
    header: Header, document: etree._Element | bytes, signer: Signer
) -> tuple[bytes, str]:
    """`seal`, and the digest of the signed bytes: what the partner's receipt must name."""
    if header.sender != signer.country:
        raise ConfigurationError(f"a {signer.country} key cannot send for {header.sender}")
    content = xmlsafe.parse(document) if isinstance(document, bytes) else document
    documents.validate(header.document_type, content)
    ns = ENVELOPE_NS
    root = etree.Element(_q(ns, "Envelope"), nsmap={None: ns})
    head = etree.SubElement(root, _q(ns, "Header"))
    _text(head, ns, "MessageID", header.message_id)
    _text(head, ns, "SenderCountry", header.sender)
    _text(head, ns, "ReceiverCountry", header.receiver)
    _text(head, ns, "DocumentType", header.document_type)
    _text(head, ns, "DocumentID", header.document_id)
    _text(head, ns, "Version", str(header.version))
    _text(head, ns, "CreationDateTime", _timestamp(header.created))
    # A copy, so the caller's tree is left as it was (append would move the element).
    etree.SubElement(root, _q(ns, "Content")).append(copy.deepcopy(content))
    digest = _sign(root, ns, signer)
    documents.validate_as(documents.ENVELOPE, root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), digest


def digest_of(sealed: bytes) -> str:
    """The digest of an envelope this node sealed earlier (a retry sends the stored bytes)."""
    root = xmlsafe.parse(sealed)
    signature = root.find(_q(ENVELOPE_NS, "Signature"))
    if signature is not None:
        root.remove(signature)
    return hashlib.sha256(canonical(root)).hexdigest()


def _header(root: etree._Element) -> Header:
    head = root.find(_q(ENVELOPE_NS, "Header"))
    fields = {e.tag: e.text for e in head} if head is not None else {}

    def get(tag: str) -> str:
        return (fields.get(_q(ENVELOPE_NS, tag)) or "").strip()

    created = _parse_time(get("CreationDateTime"), "Header/CreationDateTime")
    return Header(
        message_id=get("MessageID"),
        sender=get("SenderCountry"),
        receiver=get("ReceiverCountry"),
        document_type=get("DocumentType"),
        document_id=get("DocumentID"),
        version=int(get("Version")),
        created=created,
    )


@dataclass(frozen=True)
class Verified:
    """An envelope whose signature verified: its sender is authenticated, its content not
    yet checked (`unpack` does)."""

    header: Header
    root: etree._Element
    certificate: x509.Certificate
    key_id: str
    digest: str


def verify_envelope(
    data: bytes,
    trust: TrustStore,
    *,
    now: datetime,
    receiver: str | None = None,
    max_bytes: int = xmlsafe.MAX_BYTES,
) -> Verified:
    """The first half of `open_envelope`: safe parsing, the envelope schema, the addressee,
    the signer's certificate and signature. Until this passes, nothing in the envelope
    (its message id included) is anyone's word: a refusal here is answered unsigned."""
    root = xmlsafe.parse(data, max_bytes=max_bytes)
    documents.validate_as(documents.ENVELOPE, root)
    header = _header(root)
    if receiver is not None and header.receiver != receiver:
        raise invalid("Header/ReceiverCountry", "wrong_receiver", f"addressed to {header.receiver}")
    certificate, kid, digest = _verify(root, ENVELOPE_NS, trust, header.sender, now)
    return Verified(header, root, certificate, kid, digest)


def unpack(
    verified: Verified,
    *,
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
) -> Opened:
    """The second half of `open_envelope`: freshness, and the document against its type's
    schema."""
    header = verified.header
    check_freshness(header.created, now, max_age=max_age, max_skew=max_skew)
    content = verified.root.find(_q(ENVELOPE_NS, "Content"))
    assert content is not None  # the schema requires it
    document = next(content.iterchildren(etree.Element))
    documents.validate(header.document_type, document)
    return Opened(header, document, verified.certificate, verified.key_id, verified.digest)


def open_envelope(
    data: bytes,
    trust: TrustStore,
    *,
    now: datetime,
    receiver: str | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    max_bytes: int = xmlsafe.MAX_BYTES,
) -> Opened:
    """Parse, verify and unpack an envelope from a partner. In order: safe parsing, the
    envelope schema, the addressee, the signer's certificate and signature, freshness, and
    the document against its type's schema. Any failure is InvalidInput with coded reasons."""
    verified = verify_envelope(data, trust, now=now, receiver=receiver, max_bytes=max_bytes)
    return unpack(verified, now=now, max_age=max_age, max_skew=max_skew)


def message_id_of(data: bytes, *, max_bytes: int = xmlsafe.MAX_BYTES) -> str | None:
    """The message id of an envelope, read without trusting it, or None: for the log of an
    envelope refused before its signature was checked (no receipt is signed for it)."""
    try:
        root = xmlsafe.parse(data, max_bytes=max_bytes)
    except InvalidInput:
        return None
    found = (root.findtext(f"{{{ENVELOPE_NS}}}Header/{{{ENVELOPE_NS}}}MessageID") or "").strip()
    return found if _UUID.fullmatch(found) else None


# ---- receipts ----


class ReceiptStatus(StrEnum):
    RECEIVED = "received"
    RECEIVED_WITH_WARNINGS = "received_with_warnings"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Reason:
    code: str
    text: str | None = None
    pointer: str | None = None


@dataclass(frozen=True)
class Receipt:
    """The answer of `receiver` (the node that got the message and signs this receipt)."""

    message_id: str
    status: ReceiptStatus
    receiver: str
    issued: datetime
    reasons: tuple[Reason, ...] = ()
    message_digest: str | None = None


@dataclass(frozen=True)
class SignedReceipt:
    receipt: Receipt
    certificate: x509.Certificate
    key_id: str


def reasons_from(error: InvalidInput) -> tuple[Reason, ...]:
    """The coded reasons of a rejection, from the error that caused it."""
    return tuple(
        Reason(e.code[:35], e.message[:512] or None, e.path[:256] or None)
        for e in error.errors[:100]
    )


def sign_receipt(receipt: Receipt, signer: Signer) -> bytes:
    if receipt.receiver != signer.country:
        raise ConfigurationError(f"a {signer.country} key cannot sign for {receipt.receiver}")
    if receipt.status is not ReceiptStatus.RECEIVED and not receipt.reasons:
        raise invalid("reasons", "required", f"a receipt {receipt.status} needs its reasons")
    ns = RECEIPT.namespace
    root = etree.Element(RECEIPT.qname, nsmap={None: ns})
    _text(root, ns, "MessageID", receipt.message_id)
    _text(root, ns, "Status", receipt.status.value)
    for reason in receipt.reasons:
        element = etree.SubElement(root, _q(ns, "Reason"))
        _text(element, ns, "Code", reason.code)
        if reason.text:
            _text(element, ns, "Text", reason.text)
        if reason.pointer:
            _text(element, ns, "Pointer", reason.pointer)
    _text(root, ns, "ReceiverCountry", receipt.receiver)
    if receipt.message_digest:
        _text(root, ns, "MessageDigest", receipt.message_digest)
    _text(root, ns, "IssueDateTime", _timestamp(receipt.issued))
    _sign(root, ns, signer)
    documents.validate_as(RECEIPT, root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def open_receipt(
    data: bytes,
    trust: TrustStore,
    *,
    now: datetime,
    receiver: str | None = None,
    max_bytes: int = xmlsafe.MAX_BYTES,
) -> SignedReceipt:
    """Parse and verify a receipt; `receiver` is the country we sent the message to."""
    ns = RECEIPT.namespace
    root = xmlsafe.parse(data, max_bytes=max_bytes)
    documents.validate_as(RECEIPT, root)
    signed_by = (root.findtext(_q(ns, "ReceiverCountry")) or "").strip()
    if receiver is not None and signed_by != receiver:
        raise invalid("ReceiverCountry", "wrong_country", f"a receipt from {signed_by}")
    certificate, kid, _ = _verify(root, ns, trust, signed_by, now)
    return SignedReceipt(_read_receipt(root), certificate, kid)


def read_receipt(data: bytes) -> Receipt:
    """A receipt this node signed itself and stored, read back without verifying it."""
    return _read_receipt(xmlsafe.parse(data))


def _read_receipt(root: etree._Element) -> Receipt:
    ns = RECEIPT.namespace
    reasons = tuple(
        Reason(
            (r.findtext(_q(ns, "Code")) or "").strip(),
            r.findtext(_q(ns, "Text")),
            r.findtext(_q(ns, "Pointer")),
        )
        for r in root.iterchildren(_q(ns, "Reason"))
    )
    digest = (root.findtext(_q(ns, "MessageDigest")) or "").strip()
    return Receipt(
        message_id=(root.findtext(_q(ns, "MessageID")) or "").strip(),
        status=ReceiptStatus((root.findtext(_q(ns, "Status")) or "").strip()),
        receiver=(root.findtext(_q(ns, "ReceiverCountry")) or "").strip(),
        issued=_parse_time(root.findtext(_q(ns, "IssueDateTime")), "IssueDateTime"),
        reasons=reasons,
        message_digest=digest or None,
    )
