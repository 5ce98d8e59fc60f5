"""Reading the federation's X.509 certificates, and checking one against the federation root.

The root (`onewindow.kit.authority`) signs node certificates directly, so a chain is one
signature to check. A node certificate names its country twice, in the subject's countryName
and in a `urn:onewindow:node:XX` subjectAltName URI, and both must agree. It allows digital
signatures and has no TLS purpose: a node's TLS certificate, a key of its own, never signs.

Verification failures raise InvalidInput with a stable code (path "certificate"): the exchange
copies them into a rejected receipt as coded reasons, the ledger shows their message as the
reason it does not trust a certificate. Pure, but for the `read_` functions.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from onewindow.kit.codes import is_country
from onewindow.kit.errors import ConfigurationError, invalid
from onewindow.kit.keys import PublicKey, read_pem

NODE_URI_PREFIX = "urn:onewindow:node:"
TLS_PURPOSES = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
_PATH = "certificate"
_E = TypeVar("_E", bound=x509.ExtensionType)


# ---- what a certificate says ----


def public_key_of(certificate: x509.Certificate) -> PublicKey:
    key = certificate.public_key()
    if not isinstance(key, Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise invalid(_PATH, "unsupported_key", f"a {type(key).__name__} is not a node key")
    return key


def ed25519_key(certificate: x509.Certificate) -> Ed25519PublicKey | None:
    """The certified key if it is an Ed25519 one (what the ledger signs with)."""
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def named_country(certificate: x509.Certificate) -> str | None:
    """The country a node certificate names, if its subject and its node URI agree on one."""
    subject = [
        str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    ]
    san = _extension(certificate, x509.SubjectAlternativeName)
    uris = san.get_values_for_type(x509.UniformResourceIdentifier) if san else []
    named = [u.removeprefix(NODE_URI_PREFIX) for u in uris if u.startswith(NODE_URI_PREFIX)]
    if len(subject) != 1 or named != subject or not is_country(subject[0]):
        return None
    return subject[0]


def certificate_country(certificate: x509.Certificate) -> str:
    """The country a node certificate is for; subject and subjectAltName must agree."""
    country = named_country(certificate)
    if country is None:
        raise invalid(_PATH, "no_country", "the certificate does not name one node country")
    return country


def _extension(certificate: x509.Certificate, kind: type[_E]) -> _E | None:
    """The extension, or None when it is missing or the extensions cannot be parsed (a
    certificate from outside may repeat one): either way it grants nothing."""
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def _is_ca(certificate: x509.Certificate) -> bool:
    constraints = _extension(certificate, x509.BasicConstraints)
    return constraints is not None and constraints.ca


# ---- checks against the federation root ----


def _check_period(certificate: x509.Certificate, now: datetime, what: str) -> None:
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now < start:
        message = f"{what} is not valid before {start.isoformat()}"
        raise invalid(_PATH, "certificate_not_yet_valid", message)
    if now > end:
        raise invalid(_PATH, "certificate_expired", f"{what} expired at {end.isoformat()}")


def check_issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> None:
    """The certificate is an end-entity signing certificate issued by the federation root."""
    if not _is_ca(ca):
        raise ConfigurationError("the federation root certificate is not a CA certificate")
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm) as exc:
        raise invalid(
            _PATH, "untrusted_certificate", "the certificate is not issued by the federation CA"
        ) from exc
    if _is_ca(certificate):
        raise invalid(_PATH, "not_a_node_certificate", "a CA certificate is not a node certificate")
    usage = _extension(certificate, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise invalid(_PATH, "not_for_signing", "the certificate does not allow signatures")
    purposes = _extension(certificate, x509.ExtendedKeyUsage)
    if purposes is not None and set(purposes) & TLS_PURPOSES:
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


# ---- PEM ----


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


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


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file the node's settings name; ConfigurationError if the
    file cannot be read or holds none."""
    pem = read_pem(path, "certificate")
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not a PEM certificate") from exc


def read_ca(path: Path) -> x509.Certificate:
    """The federation root from a PEM file (its first certificate)."""
    return read_certificates(path)[0]
