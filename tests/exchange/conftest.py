"""Fixtures for the exchange tests: a federation (root CA, TH and VN node keys and
certificates) and trust stores; the sample Form D and ACDD dicts are in tests/samples.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onewindow.exchange.envelope import Signer
from onewindow.exchange.trust import TrustStore
from onewindow.kit import keys
from onewindow.kit.authority import Authority, create_authority, issue_node_certificate

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Federation:
    authority: Authority
    th: Signer
    vn: Signer

    def trust(self, *, accept_embedded: bool = False) -> TrustStore:
        certificates = [self.th.certificate, self.vn.certificate]
        return TrustStore(self.authority.certificate, certificates, accept_embedded=accept_embedded)

    def signer(self, country: str, *, embed: bool = False, **options: Any) -> Signer:
        """A new key for `country`, certified by this federation's root."""
        key = keys.generate_private_key()
        options.setdefault("now", NOW - timedelta(days=1))
        certificate = issue_node_certificate(self.authority, country, key.public_key(), **options)
        return Signer(key, certificate, embed_certificate=embed)


def make_federation(algorithm: str = keys.ED25519) -> Federation:
    start = NOW - timedelta(days=30)
    authority = create_authority(algorithm=algorithm, now=start)
    signers = []
    for country in ("TH", "VN"):
        key = keys.generate_private_key(algorithm)
        certificate = issue_node_certificate(authority, country, key.public_key(), now=start)
        signers.append(Signer(key, certificate))
    return Federation(authority, *signers)


@pytest.fixture(scope="session")
def federation() -> Federation:
    return make_federation()


@pytest.fixture(scope="session")
def other_federation() -> Federation:
    """A federation with its own root: nothing it signs is trusted by `federation`."""
    return make_federation()


@pytest.fixture(scope="session")
def ecdsa_federation() -> Federation:
    return make_federation(keys.ECDSA_P256)


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW
