"""The federation root CA: creating it, and issuing the node certificates it signs.

The root signs node certificates directly (no intermediates); what a certificate must say to be
trusted, and how it is checked, is `onewindow.kit.certificates`. Pure: writing a CA and node
folders to disk is the exchange's federation set-up.
"""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from onewindow.kit.certificates import NODE_URI_PREFIX, public_key_of
from onewindow.kit.codes import is_country
from onewindow.kit.errors import invalid
from onewindow.kit.keys import ED25519, PublicKey, SigningKey, algorithm_of, generate_private_key

CA_VALID_DAYS = 3650
NODE_VALID_DAYS = 730
TLS_VALID_DAYS = 365
# Certificates start a little in the past so that a partner whose clock runs slightly behind
# does not refuse a certificate issued seconds ago.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class Authority:
    """The federation root: its certificate (shared with every node) and its private key
    (kept offline by whoever runs the federation)."""

    certificate: x509.Certificate
    private_key: SigningKey


# ---- issuing ----


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


# Every KeyUsage flag: a certificate grants the ones named and denies the rest.
_USAGES = tuple(inspect.signature(x509.KeyUsage).parameters)


def _key_usage(*granted: str) -> x509.KeyUsage:
    return x509.KeyUsage(**{name: name in granted for name in _USAGES})


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: PublicKey, start: datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - BACKDATE)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
    )


def _node_builder(
    authority: Authority,
    country: str,
    suffix: str,
    public_key: PublicKey,
    now: datetime | None,
    days: int,
) -> x509.CertificateBuilder:
    """What a node's signing and TLS certificates share: the country, in the subject and a node
    URI (the caller adds the URI to its subjectAltName), and no CA powers."""
    if not is_country(country):
        raise invalid("country", "unknown_country", f"{country!r} is not an ISO 3166 code")
    algorithm_of(public_key)  # refuse key types the federation does not use
    subject = _name(
        (NameOID.COUNTRY_NAME, country), (NameOID.COMMON_NAME, f"OneWindow node {country}{suffix}")
    )
    ca_public = public_key_of(authority.certificate)
    return (
        _builder(subject, authority.certificate.subject, public_key, _now(now), days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), False)
    )


def create_authority(
    name: str = "OneWindow federation",
    *,
    algorithm: str = ED25519,
    now: datetime | None = None,
    valid_days: int = CA_VALID_DAYS,
) -> Authority:
    """A new self-signed federation root CA."""
    start = _now(now)
    key = generate_private_key(algorithm)
    subject = _name((NameOID.ORGANIZATION_NAME, name), (NameOID.COMMON_NAME, f"{name} root CA"))
    builder = (
        _builder(subject, subject, key.public_key(), start, valid_days)
        # path_length 0: the root certifies nodes only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("key_cert_sign", "crl_sign"), critical=True)
    )
    return Authority(_sign(builder, key), key)


def issue_node_certificate(
    authority: Authority,
    country: str,
    public_key: PublicKey,
    *,
    now: datetime | None = None,
    valid_days: int = NODE_VALID_DAYS,
) -> x509.Certificate:
    """A certificate for one node key of `country`. Rotation is simply issuing another one:
    every certificate that is still valid keeps verifying until it expires or is revoked."""
    builder = _node_builder(authority, country, "", public_key, now, valid_days)
    # contentCommitment too: receipts are signed for non-repudiation.
    usage = _key_usage("digital_signature", "content_commitment")
    san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(NODE_URI_PREFIX + country)])
    builder = builder.add_extension(usage, critical=True).add_extension(san, critical=False)
    return _sign(builder, authority.private_key)


def issue_tls_certificate(
    authority: Authority,
    country: str,
    public_key: PublicKey,
    hosts: Iterable[str],
    *,
    now: datetime | None = None,
    valid_days: int = TLS_VALID_DAYS,
) -> x509.Certificate:
    """A TLS certificate for node `country` (docs/adr/0004): a key of its own, the node's
    country named as in its signing certificate, the host names and addresses partners reach
    it by, and both TLS purposes (it serves partners and is their client). It cannot sign
    messages: `check_issued_by` refuses it."""
    builder = _node_builder(authority, country, " TLS", public_key, now, valid_days)
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(NODE_URI_PREFIX + country)]
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    builder = (
        builder.add_extension(_key_usage("digital_signature"), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
    )
    return _sign(builder, authority.private_key)


def _sign(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    if isinstance(key, Ed25519PrivateKey):
        return builder.sign(key, None)  # Ed25519 hashes internally
    return builder.sign(key, hashes.SHA256())
