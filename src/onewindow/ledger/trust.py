"""Which partners' Ed25519 keys the ledger trusts with their heads and documents: those whose
certificate the federation root vouches for now, for the partner's country. The checks are the
kit's (`onewindow.kit.certificates`); what the ledger adds is that the key be Ed25519, the only
kind it signs and checks with, and that a check gives a reason instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from onewindow.kit import keys
from onewindow.kit.certificates import ed25519_key, verify_node_certificate
from onewindow.kit.errors import ConfigurationError, InvalidInput


def chain_problem(
    certificate: x509.Certificate, ca: x509.Certificate, *, country: str | None, now: datetime
) -> str | None:
    """Why the federation root does not vouch for this node certificate now; None if it does."""
    try:
        verify_node_certificate(certificate, ca, country=country, now=now)
    except InvalidInput as exc:
        return exc.errors[0].message
    except ConfigurationError as exc:  # the root given is not a CA
        return exc.detail
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
