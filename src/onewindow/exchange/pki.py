"""The federation's PKI: one root CA that certifies the node keys of every member state.

The root signs node certificates directly (no intermediates), so a chain is one signature
to check. A node certificate names its country twice, in the subject's countryName and in a
`urn:onewindow:node:XX` subjectAltName URI, and both must agree. A country may hold several
valid certificates at once (key rotation), each known by its key id: the first 16 hex digits
of SHA-256 over the SubjectPublicKeyInfo DER, the same id `onewindow.kit.keys` gives Ed25519 keys.

Verification failures raise InvalidInput with a stable code (path "certificate"), so that a
receiving node can copy them into a rejected receipt as coded reasons.
"""

from __future__ import annotations

import hashlib
import inspect
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from onewindow.kit.codes import is_country
from onewindow.kit.errors import ConfigurationError, InvalidInput, invalid

SigningKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey

ED25519 = "Ed25519"
ECDSA_P256 = "ECDSA-P256-SHA256"
ALGORITHMS = (ED25519, ECDSA_P256)
KEY_ID_LENGTH = 16
NODE_URI_PREFIX = "urn:onewindow:node:"
CA_VALID_DAYS = 3650
NODE_VALID_DAYS = 730
TLS_VALID_DAYS = 365
_TLS_PURPOSES = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
# Certificates start a little in the past so that a partner whose clock runs slightly behind
# does not refuse a certificate issued seconds ago.
BACKDATE = timedelta(minutes=5)
_PATH = "certificate"
_E = TypeVar("_E", bound=x509.ExtensionType)


@dataclass(frozen=True)
class Authority:
    """The federation root: its certificate (shared with every node) and its private key
    (kept offline by whoever runs the federation)."""

    certificate: x509.Certificate
    private_key: SigningKey


# ---- keys ----


def generate_private_key(algorithm: str = ED25519) -> SigningKey:
    if algorithm == ED25519:
        return Ed25519PrivateKey.generate()
    if algorithm == ECDSA_P256:
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")


def algorithm_of(key: SigningKey | PublicKey) -> str:
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return ED25519
    ecdsa = isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey)
    if ecdsa and isinstance(key.curve, ec.SECP256R1):
        return ECDSA_P256
    raise ValueError(f"unsupported key {type(key).__name__}: use Ed25519 or ECDSA P-256")


def key_id(key: PublicKey | x509.Certificate) -> str:
    public = key.public_key() if isinstance(key, x509.Certificate) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:KEY_ID_LENGTH]


def sign_bytes(private_key: SigningKey, data: bytes) -> tuple[str, bytes]:
    """The algorithm name and the signature of `data`."""
    algorithm = algorithm_of(private_key)
    if isinstance(private_key, Ed25519PrivateKey):
        return algorithm, private_key.sign(data)
    return algorithm, private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_bytes(public_key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    """True only for a valid signature made with `algorithm`, which must be the key's own:
    the sender does not get to choose how its signature is checked."""
    try:
        if algorithm != algorithm_of(public_key):
            return False
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


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
    if not is_country(country):
        raise invalid("country", "unknown_country", f"{country!r} is not an ISO 3166 code")
    algorithm_of(public_key)  # refuse key types the federation does not use
    start = _now(now)
    subject = _name(
        (NameOID.COUNTRY_NAME, country), (NameOID.COMMON_NAME, f"OneWindow node {country}")
    )
    # contentCommitment too: receipts are signed for non-repudiation.
    usage = _key_usage("digital_signature", "content_commitment")
    ca_public = public_key_of(authority.certificate)
    san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(NODE_URI_PREFIX + country)])
    issuer = authority.certificate.subject
    builder = (
        _builder(subject, issuer, public_key, start, valid_days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(san, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), False)
    )
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
    if not is_country(country):
        raise invalid("country", "unknown_country", f"{country!r} is not an ISO 3166 code")
    algorithm_of(public_key)
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(NODE_URI_PREFIX + country)]
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = _name(
        (NameOID.COUNTRY_NAME, country), (NameOID.COMMON_NAME, f"OneWindow node {country} TLS")
    )
    purposes = x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    ca_public = public_key_of(authority.certificate)
    builder = (
        _builder(subject, authority.certificate.subject, public_key, _now(now), valid_days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage("digital_signature"), critical=True)
        .add_extension(purposes, critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), False)
    )
    return _sign(builder, authority.private_key)


def _sign(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    if isinstance(key, Ed25519PrivateKey):
        return builder.sign(key, None)  # Ed25519 hashes internally
    return builder.sign(key, hashes.SHA256())


# ---- reading certificates ----


def public_key_of(certificate: x509.Certificate) -> PublicKey:
    key = certificate.public_key()
    if not isinstance(key, Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise invalid(_PATH, "unsupported_key", f"a {type(key).__name__} is not a node key")
    return key


def certificate_country(certificate: x509.Certificate) -> str:
    """The country a node certificate is for; subject and subjectAltName must agree."""
    subject = [
        str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    ]
    san = _extension(certificate, x509.SubjectAlternativeName)
    uris = san.get_values_for_type(x509.UniformResourceIdentifier) if san else []
    named = [u.removeprefix(NODE_URI_PREFIX) for u in uris if u.startswith(NODE_URI_PREFIX)]
    if len(subject) != 1 or named != subject or not is_country(subject[0]):
        raise invalid(_PATH, "no_country", "the certificate does not name one node country")
    return subject[0]


def _extension(certificate: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _is_ca(certificate: x509.Certificate) -> bool:
    constraints = _extension(certificate, x509.BasicConstraints)
    return constraints is not None and constraints.ca


def _check_period(certificate: x509.Certificate, now: datetime, what: str) -> None:
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now < start:
        message = f"{what} is not valid before {start.isoformat()}"
        raise invalid(_PATH, "certificate_not_yet_valid", message)
    if now > end:
        raise invalid(_PATH, "certificate_expired", f"{what} expired at {end.isoformat()}")


def check_issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> None:
    """The certificate is an end-entity certificate signed by the federation root."""
    if not _is_ca(ca):
        raise ConfigurationError("the federation root certificate is not a CA certificate")
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise invalid(
            _PATH, "untrusted_certificate", "the certificate is not issued by the federation CA"
        ) from exc
    if _is_ca(certificate):
        raise invalid(_PATH, "not_a_node_certificate", "a CA certificate cannot sign messages")
    usage = _extension(certificate, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise invalid(_PATH, "not_for_signing", "the certificate does not allow signatures")
    purposes = _extension(certificate, x509.ExtendedKeyUsage)
    if purposes is not None and set(purposes) & _TLS_PURPOSES:
        # Transport keys sit on front-end servers and live shorter lives: never a signer.
        raise invalid(_PATH, "not_for_signing", "a TLS certificate cannot sign messages")


def check_current(
    certificate: x509.Certificate, ca: x509.Certificate, *, country: str | None, now: datetime
) -> str:
    """Both validity periods and (if given) the country; return the certificate's country."""
    _check_period(ca, now, "the federation CA")
    _check_period(certificate, now, "the certificate")
    named = certificate_country(certificate)
    if country is not None and named != country:
        raise invalid(_PATH, "wrong_country", f"the certificate is for {named}, not {country}")
    return named


def verify_node_certificate(
    certificate: x509.Certificate,
    ca: x509.Certificate,
    *,
    country: str | None,
    now: datetime,
) -> str:
    """Check the chain, both validity periods and (if given) the country; return the country."""
    check_issued_by(certificate, ca)
    return check_current(certificate, ca, country=country, now=now)


class TrustStore:
    """What a node trusts: the federation root and the partner certificates it knows,
    by key id. Certificates are checked against the root when added; their validity period
    and country are checked every time one is used."""

    def __init__(
        self,
        ca: x509.Certificate,
        certificates: Iterable[x509.Certificate] = (),
        *,
        accept_embedded: bool = False,
    ) -> None:
        self.ca = ca
        # When true, a message may carry a certificate the node has never seen, as long as
        # the federation root issued it: a partner can then rotate keys without telling
        # everyone first. Off by default: only known key ids are trusted.
        self.accept_embedded = accept_embedded
        self._certificates: dict[str, x509.Certificate] = {}
        self._revoked: set[str] = set()
        for certificate in certificates:
            self.add(certificate)

    def add(self, certificate: x509.Certificate) -> str:
        check_issued_by(certificate, self.ca)
        certificate_country(certificate)
        kid = key_id(certificate)
        self._certificates[kid] = certificate
        return kid

    def revoke(self, kid: str) -> None:
        self._revoked.add(kid)
        self._certificates.pop(kid, None)

    def get(self, kid: str) -> x509.Certificate | None:
        return self._certificates.get(kid)

    def for_country(self, country: str) -> list[x509.Certificate]:
        return [c for c in self._certificates.values() if certificate_country(c) == country]

    def resolve(
        self,
        kid: str,
        *,
        country: str,
        now: datetime,
        embedded: x509.Certificate | None = None,
    ) -> x509.Certificate:
        """The certificate to check a signature by key `kid` from `country`, verified."""
        if kid in self._revoked:
            raise invalid(_PATH, "revoked_key", f"key {kid} has been revoked")
        if embedded is not None and key_id(embedded) != kid:
            raise invalid(_PATH, "key_id_mismatch", "the certificate is not for the key id given")
        certificate = self._certificates.get(kid)
        if certificate is not None:  # its chain was checked when it was added
            check_current(certificate, self.ca, country=country, now=now)
            return certificate
        if embedded is None or not self.accept_embedded:
            raise invalid(_PATH, "unknown_key", f"key {kid} is not known to this node")
        verify_node_certificate(embedded, self.ca, country=country, now=now)
        return embedded


# ---- PEM ----


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def private_key_pem(key: SigningKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_certificate(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise invalid(_PATH, "malformed_certificate", "not a PEM X.509 certificate") from exc


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (a partner's current and next certificate)."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise invalid(_PATH, "malformed_certificate", "not a PEM certificate bundle") from exc


def load_private_key(pem: bytes) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"not an unencrypted PEM private key: {exc}") from exc
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ConfigurationError(f"a {type(key).__name__} cannot be a node key")


def write_pem(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write atomically; private keys are created readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def read_pem(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc


def save_authority(authority: Authority, directory: Path) -> None:
    write_pem(directory / "ca.pem", certificate_pem(authority.certificate))
    write_pem(directory / "ca-key.pem", private_key_pem(authority.private_key), private=True)


def load_authority(directory: Path) -> Authority:
    try:
        certificate = load_certificate(read_pem(directory / "ca.pem"))
    except InvalidInput as exc:
        raise ConfigurationError(f"{directory / 'ca.pem'} is not a PEM certificate") from exc
    return Authority(certificate, load_private_key(read_pem(directory / "ca-key.pem")))
