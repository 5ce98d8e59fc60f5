"""Reading the federation's X.509 certificates for what the ledger needs: which Ed25519 key a
node signs its heads and documents with, and whether the federation root vouches for it.

The ledger knows nothing of the exchange, so this reads certificates with `cryptography.x509`
directly. It follows the federation's rules (see the exchange's PKI): the root signs node
certificates directly, and a node certificate names its country in the subject's countryName
and in a `urn:onewindow:node:XX` subjectAltName URI. Checks return a reason, never raise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from onewindow.kit import keys
from onewindow.kit.errors import ConfigurationError

NODE_URI_PREFIX = "urn:onewindow:node:"
PEM = Encoding.PEM


def load_pem_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle; ValueError if there is none."""
    return x509.load_pem_x509_certificates(pem)


def read_certificates(path: Path) -> list[x509.Certificate]:
    try:
        return load_pem_certificates(path.read_bytes())
    except OSError as exc:
        raise ConfigurationError(f"cannot read certificate {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not a PEM certificate") from exc


def read_ca(path: Path) -> x509.Certificate:
    """The federation root from a PEM file (its first certificate)."""
    return read_certificates(path)[0]


def ed25519_key(certificate: x509.Certificate) -> Ed25519PublicKey | None:
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def certificate_key_id(certificate: x509.Certificate) -> str | None:
    key = ed25519_key(certificate)
    return keys.key_id(key) if key is not None else None


def certificate_countries(certificate: x509.Certificate) -> tuple[list[str], list[str]]:
    """The countries a certificate names: in its subject, and in its node URIs."""
    subject = [
        str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    ]
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        uris = []
    named = [u.removeprefix(NODE_URI_PREFIX) for u in uris if u.startswith(NODE_URI_PREFIX)]
    return subject, named


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _period_problem(certificate: x509.Certificate, now: datetime, what: str) -> str | None:
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now < start:
        return f"{what} is not valid before {start.isoformat()}"
    if now > end:
        return f"{what} expired at {end.isoformat()}"
    return None


def chain_problem(
    certificate: x509.Certificate, ca: x509.Certificate, *, country: str | None, now: datetime
) -> str | None:
    """Why the federation root does not vouch for this node certificate now; None if it does."""
    if not _is_ca(ca):
        return "the federation root given is not a CA certificate"
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return "the certificate is not issued by the federation CA"
    if _is_ca(certificate):
        return "a CA certificate is not a node certificate"
    for cert, what in ((ca, "the federation CA"), (certificate, "the certificate")):
        problem = _period_problem(cert, now, what)
        if problem:
            return problem
    subject, named = certificate_countries(certificate)
    if len(subject) != 1 or named != subject:
        return "the certificate does not name one node country"
    if country is not None and subject[0] != country:
        return f"the certificate is for {subject[0]}, not {country}"
    if ed25519_key(certificate) is None:
        return "the certificate does not certify an Ed25519 key"
    return None


def trusted_keys(
    certificates: Iterable[x509.Certificate],
    *,
    ca: x509.Certificate | None,
    country: str,
    now: datetime,
) -> tuple[dict[str, Ed25519PublicKey], list[str]]:
    """The Ed25519 keys, by key id, of the certificates that hold up (all of them when no root
    is given: the operator placed them), and why the others were left out."""
    found: dict[str, Ed25519PublicKey] = {}
    problems: list[str] = []
    for certificate in certificates:
        key = ed25519_key(certificate)
        problem = (
            chain_problem(certificate, ca, country=country, now=now)
            if ca is not None
            else (None if key is not None else "not an Ed25519 certificate")
        )
        if problem or key is None:
            problems.append(f"certificate {certificate.serial_number:x}: {problem}")
            continue
        found[keys.key_id(key)] = key
    return found, problems
