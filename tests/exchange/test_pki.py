"""The federation PKI: what the certificates say, and every way a certificate is refused."""

from __future__ import annotations

import hashlib
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from onewindow.exchange.federation import load_authority, save_authority
from onewindow.kit import keys
from onewindow.kit.authority import Authority, create_authority, issue_node_certificate
from onewindow.kit.certificates import (
    certificate_country,
    certificate_pem,
    load_certificate,
    load_certificates,
    verify_node_certificate,
)
from onewindow.kit.errors import ConfigurationError, InvalidInput


def code_of(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return exc.value.errors[0].code


def test_root_is_a_ca_for_nodes_only(federation: Any) -> None:
    ca = federation.authority.certificate
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert ca.subject == ca.issuer


def test_node_certificate_names_its_country(federation: Any) -> None:
    cert = federation.th.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "OneWindow node TH"
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "TH"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:onewindow:node:TH"]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certificate_country(cert) == "TH"


def test_key_id_is_sha256_of_spki_and_matches_node_keys(federation: Any) -> None:
    public = federation.th.private_key.public_key()
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = hashlib.sha256(spki).hexdigest()[:16]
    assert keys.key_id(public) == keys.key_id(federation.th.certificate) == expected
    assert keys.key_id(public) == expected  # the ledger's key ids and ours agree


@pytest.mark.parametrize("fixture", ["federation", "ecdsa_federation"])
def test_valid_certificate_verifies(fixture: str, request: pytest.FixtureRequest) -> None:
    fed = request.getfixturevalue(fixture)
    ca = fed.authority.certificate
    now = ca.not_valid_before_utc + timedelta(days=31)
    assert verify_node_certificate(fed.vn.certificate, ca, country="VN", now=now) == "VN"
    assert verify_node_certificate(fed.vn.certificate, ca, country=None, now=now) == "VN"


def test_certificate_from_another_ca_is_refused(
    federation: Any, other_federation: Any, now: datetime
) -> None:
    foreign = other_federation.th.certificate
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(foreign, federation.authority.certificate, country="TH", now=now)
    assert code_of(exc) == "untrusted_certificate"
    with pytest.raises(InvalidInput) as exc:
        federation.trust().add(foreign)
    assert code_of(exc) == "untrusted_certificate"


def test_same_subject_different_key_is_refused(federation: Any, now: datetime) -> None:
    """A look-alike root (same name, other key) cannot vouch for anyone."""
    impostor = create_authority(now=now - timedelta(days=30))
    cert = issue_node_certificate(impostor, "TH", keys.generate_private_key().public_key(), now=now)
    assert cert.issuer == federation.authority.certificate.subject
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(cert, federation.authority.certificate, country="TH", now=now)
    assert code_of(exc) == "untrusted_certificate"


def test_wrong_country_is_refused(federation: Any, now: datetime) -> None:
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(
            federation.th.certificate, federation.authority.certificate, country="VN", now=now
        )
    assert code_of(exc) == "wrong_country"


def test_validity_period_is_enforced(federation: Any, now: datetime) -> None:
    short = federation.signer("TH", now=now - timedelta(days=10), valid_days=5).certificate
    ca = federation.authority.certificate
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(short, ca, country="TH", now=now)
    assert code_of(exc) == "certificate_expired"
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(short, ca, country="TH", now=now - timedelta(days=11))
    assert code_of(exc) == "certificate_not_yet_valid"
    assert verify_node_certificate(short, ca, country="TH", now=now - timedelta(days=7))


def test_expired_root_fails_everything(now: datetime) -> None:
    authority = create_authority(now=now - timedelta(days=20), valid_days=10)
    key = keys.generate_private_key()
    cert = issue_node_certificate(authority, "SG", key.public_key(), now=now - timedelta(days=19))
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(cert, authority.certificate, country="SG", now=now)
    assert code_of(exc) == "certificate_expired"


def _hand_made(authority: Authority, **extensions: Any) -> x509.Certificate:
    """A certificate the root signed but that breaks one of the node rules."""
    key = keys.generate_private_key()
    start = authority.certificate.not_valid_before_utc
    builder = (
        x509.CertificateBuilder()
        .subject_name(extensions.pop("subject"))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
    )
    for extension, critical in extensions.values():
        builder = builder.add_extension(extension, critical)
    assert isinstance(authority.private_key, Ed25519PrivateKey)
    return builder.sign(authority.private_key, None)


def _subject(country: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.COMMON_NAME, f"OneWindow node {country}"),
        ]
    )


def _san(country: str) -> tuple[x509.SubjectAlternativeName, bool]:
    uri = x509.UniformResourceIdentifier(f"urn:onewindow:node:{country}")
    return x509.SubjectAlternativeName([uri]), False


def _usage(**flags: bool) -> tuple[x509.KeyUsage, bool]:
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ]
    return x509.KeyUsage(**{n: flags.get(n, False) for n in names}), True


@pytest.mark.parametrize(
    ("extensions", "code"),
    [
        ({"san": _san("VN"), "usage": _usage(digital_signature=True)}, "no_country"),
        ({"usage": _usage(digital_signature=True)}, "no_country"),
        ({"san": _san("TH"), "usage": _usage(key_encipherment=True)}, "not_for_signing"),
        ({"san": _san("TH")}, "not_for_signing"),
        (
            {
                "san": _san("TH"),
                "usage": _usage(digital_signature=True),
                "ca": (x509.BasicConstraints(ca=True, path_length=None), True),
            },
            "not_a_node_certificate",
        ),
    ],
    ids=["san-disagrees", "no-san", "no-signature-usage", "no-key-usage", "ca-flag"],
)
def test_node_rules(federation: Any, extensions: dict[str, Any], code: str) -> None:
    cert = _hand_made(federation.authority, subject=_subject("TH"), **extensions)
    ca = federation.authority.certificate
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(cert, ca, country="TH", now=cert.not_valid_before_utc)
    assert code_of(exc) == code


def test_the_root_cannot_sign_messages(federation: Any, now: datetime) -> None:
    ca = federation.authority.certificate
    with pytest.raises(InvalidInput) as exc:
        verify_node_certificate(ca, ca, country=None, now=now)
    assert code_of(exc) == "not_a_node_certificate"


def test_issuing_checks_country_and_key_type(federation: Any) -> None:
    key = keys.generate_private_key()
    with pytest.raises(InvalidInput) as exc:
        issue_node_certificate(federation.authority, "XX", key.public_key())
    assert code_of(exc) == "unknown_country"
    other = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ValueError, match="unsupported key"):
        issue_node_certificate(federation.authority, "TH", other.public_key())


def test_rotation_keeps_both_keys_valid_until_revoked(federation: Any, now: datetime) -> None:
    trust = federation.trust()
    old = federation.th
    new = federation.signer("TH")
    assert trust.add(new.certificate) == new.key_id
    assert {keys.key_id(c) for c in trust.for_country("TH")} == {old.key_id, new.key_id}
    for signer in (old, new):
        assert trust.resolve(signer.key_id, country="TH", now=now) == signer.certificate
    trust.revoke(old.key_id)
    with pytest.raises(InvalidInput) as exc:
        trust.resolve(old.key_id, country="TH", now=now, embedded=old.certificate)
    assert code_of(exc) == "revoked_key"
    assert trust.resolve(new.key_id, country="TH", now=now)


def test_unknown_and_embedded_keys(federation: Any, now: datetime) -> None:
    fresh = federation.signer("TH")
    strict = federation.trust()
    with pytest.raises(InvalidInput) as exc:
        strict.resolve(fresh.key_id, country="TH", now=now, embedded=fresh.certificate)
    assert code_of(exc) == "unknown_key"
    lenient = federation.trust(accept_embedded=True)
    got = lenient.resolve(fresh.key_id, country="TH", now=now, embedded=fresh.certificate)
    assert got == fresh.certificate
    with pytest.raises(InvalidInput) as exc:
        lenient.resolve(federation.th.key_id, country="TH", now=now, embedded=fresh.certificate)
    assert code_of(exc) == "key_id_mismatch"
    with pytest.raises(InvalidInput) as exc:
        lenient.resolve(fresh.key_id, country="VN", now=now, embedded=fresh.certificate)
    assert code_of(exc) == "wrong_country"


@pytest.mark.parametrize("algorithm", keys.ALGORITHMS)
def test_sign_and_verify_bytes(algorithm: str) -> None:
    key = keys.generate_private_key(algorithm)
    name, signature = keys.sign_bytes(key, b"payload")
    assert name == algorithm
    assert keys.verify_bytes(key.public_key(), algorithm, signature, b"payload")
    assert not keys.verify_bytes(key.public_key(), algorithm, signature, b"payloaD")
    assert not keys.verify_bytes(key.public_key(), algorithm, b"\x00" * len(signature), b"payload")
    assert not keys.verify_bytes(key.public_key(), algorithm, b"", b"payload")
    other = next(a for a in keys.ALGORITHMS if a != algorithm)
    assert not keys.verify_bytes(key.public_key(), other, signature, b"payload")


def test_pem_round_trips(federation: Any, tmp_path: Path) -> None:
    cert = federation.th.certificate
    assert load_certificate(certificate_pem(cert)) == cert
    bundle = certificate_pem(cert) + certificate_pem(federation.vn.certificate)
    assert load_certificates(bundle) == [cert, federation.vn.certificate]
    key = federation.th.private_key
    loaded = keys.load_private_key(keys.private_key_pem(key))
    assert keys.key_id(loaded.public_key()) == federation.th.key_id

    save_authority(federation.authority, tmp_path / "ca")
    assert stat.S_IMODE((tmp_path / "ca" / "ca-key.pem").stat().st_mode) == 0o600
    again = load_authority(tmp_path / "ca")
    assert again.certificate == federation.authority.certificate
    assert keys.key_id(again.private_key.public_key()) == keys.key_id(again.certificate)


def test_bad_pem_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        load_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    assert code_of(exc) == "malformed_certificate"
    with pytest.raises(InvalidInput):
        load_certificates(b"not pem")
    with pytest.raises(ConfigurationError):
        keys.load_private_key(b"garbage")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigurationError, match="cannot be a node key"):
        keys.load_private_key(pem)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_authority(tmp_path / "missing")


def test_node_key_file_from_keys_module_can_be_certified(
    federation: Any, tmp_path: Path, now: datetime
) -> None:
    """The key `onewindow.kit.keys` creates is the one the federation certifies."""
    node_key = keys.load_or_create_key(tmp_path / "node.pem")
    key = keys.load_private_key((tmp_path / "node.pem").read_bytes())
    cert = issue_node_certificate(federation.authority, "SG", key.public_key(), now=now)
    assert keys.key_id(cert) == node_key.key_id
