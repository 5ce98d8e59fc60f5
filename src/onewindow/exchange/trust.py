"""Which partner keys the exchange trusts: the federation root, and the partner certificates
a node knows, by key id. The checks themselves are the kit's (`onewindow.kit.certificates`).

Failures raise InvalidInput with a stable code (path "certificate"), so that a receiving node
can copy them into a rejected receipt as coded reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cryptography import x509

from onewindow.kit.certificates import (
    certificate_country,
    check_current,
    check_issued_by,
    verify_node_certificate,
)
from onewindow.kit.errors import invalid
from onewindow.kit.keys import key_id

_PATH = "certificate"


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
