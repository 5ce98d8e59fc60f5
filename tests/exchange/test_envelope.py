"""Signed envelopes and receipts: round trips, and every way a message is refused."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from onewindow.declarations.documents import acdd_from_xml, acdd_to_xml
from onewindow.exchange import documents, envelope
from onewindow.exchange.envelope import Reason, Receipt, ReceiptStatus, Signer
from onewindow.exchange.trust import TrustStore
from onewindow.kit import keys
from onewindow.kit.certificates import certificate_pem
from onewindow.kit.errors import ConfigurationError, FieldError, InvalidInput
from onewindow.origin.documents import form_d_to_xml

Sample = Callable[[], dict[str, Any]]
E = "{urn:onewindow:xsd:envelope:1}"


def header(now: datetime, **changes: Any) -> envelope.Header:
    base = envelope.new_header("TH", "VN", "FORM_D", "TH-2026-000123", 1, now)
    return envelope.Header(**{**base.__dict__, **changes})


def codes(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [e.code for e in exc.value.errors]


def refused(data: bytes, trust: TrustStore, now: datetime, **options: Any) -> list[str]:
    with pytest.raises(InvalidInput) as exc:
        envelope.open_envelope(data, trust, now=now, **options)
    return codes(exc)


def resign(
    data: bytes,
    signer: Signer,
    mutate: Callable[[etree._Element], None] = lambda root: None,
    *,
    certificate: str | None = None,
) -> bytes:
    """Alter an envelope, then sign it properly with `signer`'s key: a message whose
    signature is valid but whose content should still be refused."""
    root = etree.fromstring(data)
    root.remove(root.find(f"{E}Signature"))
    mutate(root)
    algorithm, value = keys.sign_bytes(signer.private_key, envelope.canonical(root))
    signature = etree.SubElement(root, f"{E}Signature")
    parts = [("Algorithm", algorithm), ("KeyID", signer.key_id)]
    parts += [("Certificate", certificate)] if certificate is not None else []
    parts += [("Value", base64.b64encode(value).decode())]
    for tag, text in parts:
        etree.SubElement(signature, f"{E}{tag}").text = text
    return etree.tostring(root)


def set_header(tag: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(root: etree._Element) -> None:
        root.find(f"{E}Header/{E}{tag}").text = value

    return mutate


@pytest.fixture
def sealed(federation: Any, sample_form_d: Sample, now: datetime) -> bytes:
    document = documents.build("FORM_D", sample_form_d())
    return envelope.seal(header(now), document, federation.th)


# ---- round trip ----


@pytest.mark.parametrize("fixture", ["federation", "ecdsa_federation"])
def test_seal_and_open(
    fixture: str, request: pytest.FixtureRequest, sample_form_d: Sample, now: datetime
) -> None:
    fed = request.getfixturevalue(fixture)
    document = documents.build("FORM_D", sample_form_d())
    before = etree.tostring(document)
    head = header(now)
    data = envelope.seal(head, document, fed.th)
    assert etree.tostring(document) == before  # the caller's tree is untouched
    opened = envelope.open_envelope(
        data, fed.trust(), now=now + timedelta(minutes=1), receiver="VN"
    )
    assert opened.header == head
    assert opened.key_id == fed.th.key_id
    assert opened.certificate == fed.th.certificate
    assert envelope.canonical(opened.document) == envelope.canonical(document)
    assert documents.read("FORM_D", opened.document) == sample_form_d()
    assert len(opened.digest) == 64


def test_seal_accepts_bytes_and_embeds_certificate(
    federation: Any, sample_acdd: Sample, now: datetime
) -> None:
    signer = federation.signer("VN", embed=True)
    head = envelope.new_header("VN", "SG", "ACDD", "VN-EX-2026-0004711", 3, now)
    data = envelope.seal(head, acdd_to_xml(sample_acdd()), signer)
    assert b"BEGIN CERTIFICATE" in data
    opened = envelope.open_envelope(data, federation.trust(accept_embedded=True), now=now)
    assert opened.header.version == 3
    assert acdd_from_xml(opened.document) == sample_acdd()


def test_seal_refuses_what_a_partner_would_refuse(
    federation: Any, sample_form_d: Sample, sample_acdd: Sample, now: datetime
) -> None:
    form_d = documents.build("FORM_D", sample_form_d())
    with pytest.raises(InvalidInput) as exc:
        envelope.seal(header(now, document_type="E_PHYTO"), form_d, federation.th)
    assert codes(exc) == ["unknown_document_type"]
    with pytest.raises(InvalidInput) as exc:
        envelope.seal(header(now, document_type="ACDD"), form_d, federation.th)
    assert codes(exc) == ["wrong_root_element"]
    broken = form_d_to_xml(sample_form_d()).replace(b"851713", b"85X")
    with pytest.raises(InvalidInput) as exc:
        envelope.seal(header(now), broken, federation.th)
    assert codes(exc) == ["schema_violation"]
    with pytest.raises(InvalidInput) as exc:
        envelope.seal(header(now, document_id="has spaces"), form_d, federation.th)
    assert exc.value.errors[0].path == "/Envelope/Header/DocumentID"
    with pytest.raises(ConfigurationError):
        envelope.seal(header(now, sender="VN"), form_d, federation.th)


# ---- tampering ----


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"Smartphones", b"Smartphonez"),  # the document
        (b'<Quantity unitCode="PCE">300<', b'<Quantity unitCode="PCE">900<'),
        (b"<DocumentID>TH-2026-000123<", b"<DocumentID>TH-2026-000124<"),  # the header
        (b"<Version>1<", b"<Version>2<"),
        (b"<ReceiverCountry>VN<", b"<ReceiverCountry>SG<"),
        (b"</Content>", b"<!-- note --></Content>"),
    ],
    ids=["description", "quantity", "document-id", "version", "receiver", "comment"],
)
def test_altering_the_envelope_breaks_the_signature(
    sealed: bytes, federation: Any, now: datetime, old: bytes, new: bytes
) -> None:
    assert sealed.count(old) == 1
    assert refused(sealed.replace(old, new), federation.trust(), now) == ["signature_invalid"]


def test_altering_the_signature_breaks_it(sealed: bytes, federation: Any, now: datetime) -> None:
    root = etree.fromstring(sealed)
    value = root.find(f"{E}Signature/{E}Value")
    raw = bytearray(base64.b64decode(value.text))
    raw[0] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    assert refused(etree.tostring(root), federation.trust(), now) == ["signature_invalid"]
    root.find(f"{E}Signature/{E}Algorithm").text = "ECDSA-P256-SHA256"
    value.text = base64.b64encode(bytes(raw)).decode()
    assert refused(etree.tostring(root), federation.trust(), now) == ["signature_invalid"]


def test_unsigned_envelope_is_refused(sealed: bytes, federation: Any, now: datetime) -> None:
    root = etree.fromstring(sealed)
    root.remove(root.find(f"{E}Signature"))
    assert refused(etree.tostring(root), federation.trust(), now) == ["schema_violation"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.floats(0, 1, exclude_max=True), flip=st.integers(1, 255))
def test_any_changed_byte_is_refused_or_harmless(
    federation: Any, sample_form_d: Sample, now: datetime, position: float, flip: int
) -> None:
    """One changed byte anywhere either gets the message refused, or changes nothing that
    the signature covers (C14N ignores, say, which quote marks an attribute)."""
    trust = federation.trust()
    original = envelope.seal(header(now), documents.build("FORM_D", sample_form_d()), federation.th)
    data = bytearray(original)
    index = int(position * len(data))
    data[index] ^= flip
    try:
        opened = envelope.open_envelope(bytes(data), trust, now=now)
    except InvalidInput:
        return
    assert opened.digest == envelope.open_envelope(original, trust, now=now).digest


# ---- who may send ----


def test_certificate_from_another_federation_is_refused(
    federation: Any, other_federation: Any, sample_form_d: Sample, now: datetime
) -> None:
    document = documents.build("FORM_D", sample_form_d())
    foreign = other_federation.th
    data = envelope.seal(header(now), document, foreign)
    assert refused(data, federation.trust(), now) == ["unknown_key"]
    embedded = Signer(foreign.private_key, foreign.certificate, embed_certificate=True)
    data = envelope.seal(header(now), document, embedded)
    assert refused(data, federation.trust(accept_embedded=True), now) == ["untrusted_certificate"]


def test_a_node_cannot_speak_for_another_country(
    sealed: bytes, federation: Any, now: datetime
) -> None:
    forged = resign(sealed, federation.th, set_header("SenderCountry", "VN"))
    assert refused(forged, federation.trust(), now) == ["wrong_country"]


def test_key_id_of_another_node_is_refused(sealed: bytes, federation: Any, now: datetime) -> None:
    root = etree.fromstring(sealed)
    root.find(f"{E}Signature/{E}KeyID").text = federation.vn.key_id
    assert refused(etree.tostring(root), federation.trust(), now) == ["wrong_country"]


def test_expired_certificate_is_refused(
    federation: Any, sample_form_d: Sample, now: datetime
) -> None:
    old = federation.signer("TH", now=now - timedelta(days=40), valid_days=30)
    trust = federation.trust()
    trust.add(old.certificate)
    data = envelope.seal(header(now), documents.build("FORM_D", sample_form_d()), old)
    assert refused(data, trust, now) == ["certificate_expired"]


def test_rotated_key(federation: Any, sample_form_d: Sample, now: datetime) -> None:
    new = federation.signer("TH", embed=True)
    data = envelope.seal(header(now), documents.build("FORM_D", sample_form_d()), new)
    assert refused(data, federation.trust(), now) == ["unknown_key"]
    assert envelope.open_envelope(data, federation.trust(accept_embedded=True), now=now)
    trust = federation.trust()
    trust.add(new.certificate)
    assert envelope.open_envelope(data, trust, now=now).key_id == new.key_id
    trust.revoke(new.key_id)
    assert refused(data, trust, now) == ["revoked_key"]


def test_embedded_certificate_must_match_and_parse(
    sealed: bytes, federation: Any, now: datetime
) -> None:
    vn_pem = certificate_pem(federation.vn.certificate).decode()
    mismatched = resign(sealed, federation.th, certificate=vn_pem)
    assert refused(mismatched, federation.trust(), now) == ["key_id_mismatch"]
    garbage = resign(sealed, federation.th, certificate="-----BEGIN CERTIFICATE-----\nAA==")
    assert refused(garbage, federation.trust(), now) == ["malformed_certificate"]


# ---- what is sent ----


def test_wrong_receiver_is_refused(sealed: bytes, federation: Any, now: datetime) -> None:
    assert refused(sealed, federation.trust(), now, receiver="SG") == ["wrong_receiver"]


def test_replays_and_future_messages_are_refused(
    sealed: bytes, federation: Any, now: datetime
) -> None:
    trust = federation.trust()
    assert envelope.open_envelope(sealed, trust, now=now + timedelta(hours=47))
    assert refused(sealed, trust, now + timedelta(hours=49)) == ["message_too_old"]
    assert refused(sealed, trust, now - timedelta(minutes=6)) == ["message_from_future"]
    assert refused(sealed, trust, now + timedelta(hours=2), max_age=timedelta(hours=1)) == [
        "message_too_old"
    ]


def test_freshness_boundaries(now: datetime) -> None:
    window = timedelta(hours=1)
    envelope.check_freshness(now - window, now, max_age=window)
    envelope.check_freshness(now + timedelta(minutes=5), now)
    with pytest.raises(InvalidInput):
        envelope.check_freshness(now - window - timedelta(microseconds=1), now, max_age=window)
    with pytest.raises(InvalidInput):
        envelope.check_freshness(now + timedelta(minutes=5, seconds=1), now)


def test_unknown_document_type_is_refused(sealed: bytes, federation: Any, now: datetime) -> None:
    data = resign(sealed, federation.th, set_header("DocumentType", "E_PHYTO"))
    assert refused(data, federation.trust(), now) == ["unknown_document_type"]


def test_invalid_document_inside_a_valid_envelope(
    sealed: bytes, federation: Any, now: datetime
) -> None:
    def break_hs_code(root: etree._Element) -> None:
        hs = root.find(".//{urn:onewindow:xsd:form-d:1}ClassificationID")
        hs.text = "85X"

    with pytest.raises(InvalidInput) as exc:
        envelope.open_envelope(
            resign(sealed, federation.th, break_hs_code), federation.trust(), now=now
        )
    assert exc.value.errors == [
        FieldError(
            "/FormD/GoodsItem[1]/ClassificationID",
            "schema_violation",
            "value doesn't match any pattern of ['[0-9]{6}([0-9]{2}){0,2}']",
        )
    ]


def test_hostile_envelopes(sealed: bytes, federation: Any, now: datetime) -> None:
    trust = federation.trust()
    assert refused(sealed, trust, now, max_bytes=len(sealed) - 1) == ["too_large"]
    assert refused(sealed[:-20], trust, now) == ["malformed_xml"]
    dtd = b'<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    attack = sealed.replace(b"?>\n", b"?>\n" + dtd, 1)
    assert refused(attack, trust, now) == ["forbidden_dtd"]
    two = sealed.replace(b"</Content>", b"<x:Other xmlns:x='urn:x'/></Content>")
    assert refused(two, trust, now) == ["schema_violation"]


# ---- receipts ----


def test_receipt_round_trip(sealed: bytes, federation: Any, now: datetime) -> None:
    opened = envelope.open_envelope(sealed, federation.trust(), now=now)
    receipt = Receipt(
        opened.header.message_id,
        ReceiptStatus.RECEIVED_WITH_WARNINGS,
        "VN",
        now,
        (Reason("hs_code_national", "8-digit line differs", "items[1].hs_code"), Reason("x")),
        opened.digest,
    )
    data = envelope.sign_receipt(receipt, federation.vn)
    got = envelope.open_receipt(data, federation.trust(), now=now, receiver="VN")
    assert got.receipt == receipt
    assert got.key_id == federation.vn.key_id
    documents.parse("RECEIPT", data)


def test_rejection_receipt_from_an_error(federation: Any, now: datetime) -> None:
    error = InvalidInput([FieldError("Signature/Value", "signature_invalid", "does not verify")])
    reasons = envelope.reasons_from(error)
    assert reasons == (Reason("signature_invalid", "does not verify", "Signature/Value"),)
    message_id = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    receipt = Receipt(message_id, ReceiptStatus.REJECTED, "VN", now, reasons)
    data = envelope.sign_receipt(receipt, federation.vn)
    assert envelope.open_receipt(data, federation.trust(), now=now).receipt == receipt
    with pytest.raises(InvalidInput) as exc:
        envelope.sign_receipt(Receipt(message_id, ReceiptStatus.REJECTED, "VN", now), federation.vn)
    assert codes(exc) == ["required"]
    with pytest.raises(ConfigurationError):
        envelope.sign_receipt(receipt, federation.th)


def test_receipts_are_verified_like_messages(
    federation: Any, other_federation: Any, now: datetime
) -> None:
    message_id = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    receipt = Receipt(message_id, ReceiptStatus.RECEIVED, "VN", now)
    data = envelope.sign_receipt(receipt, federation.vn)
    trust = federation.trust()
    with pytest.raises(InvalidInput) as exc:
        envelope.open_receipt(data.replace(b"3c4d<", b"3c4e<"), trust, now=now)
    assert codes(exc) == ["signature_invalid"]
    with pytest.raises(InvalidInput) as exc:
        envelope.open_receipt(data, trust, now=now, receiver="TH")
    assert codes(exc) == ["wrong_country"]
    foreign = envelope.sign_receipt(receipt, other_federation.vn)
    with pytest.raises(InvalidInput) as exc:
        envelope.open_receipt(foreign, trust, now=now)
    assert codes(exc) == ["unknown_key"]


def test_message_id_can_be_read_from_a_refused_envelope(
    sealed: bytes, federation: Any, now: datetime
) -> None:
    expected = etree.fromstring(sealed).findtext(f"{E}Header/{E}MessageID")
    unsigned = etree.fromstring(sealed)
    unsigned.remove(unsigned.find(f"{E}Signature"))
    assert envelope.message_id_of(etree.tostring(unsigned)) == expected
    assert envelope.message_id_of(sealed.replace(expected.encode(), b"not-a-uuid")) is None
    upper = sealed.replace(expected.encode(), expected.upper().encode())
    assert envelope.message_id_of(upper) is None
    assert envelope.message_id_of(b"<a>") is None
