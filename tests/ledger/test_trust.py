"""Which keys the ledger trusts: the kit's certificate checks, with their reasons as text, and
the ledger's own rule that a key be Ed25519."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from onewindow.kit import keys
from onewindow.kit.authority import create_authority, issue_node_certificate, issue_tls_certificate
from onewindow.ledger import trust

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
AUTHORITY = create_authority(now=NOW - timedelta(days=30))
CA = AUTHORITY.certificate
TH_KEY = keys.generate_key()


def _node(key: keys.PublicKey, country: str = "TH") -> x509.Certificate:
    return issue_node_certificate(AUTHORITY, country, key, now=NOW - timedelta(days=1))


def test_a_node_certificate_for_the_country_is_trusted() -> None:
    certificate = _node(TH_KEY.public_key)
    assert trust.chain_problem(certificate, CA, country="TH", now=NOW) is None
    found, problems = trust.trusted_keys([certificate], ca=CA, country="TH", now=NOW)
    assert list(found) == [TH_KEY.key_id] and problems == []


@pytest.mark.parametrize(
    ("certificate", "ca", "expected"),
    [
        # A node's TLS certificate, even for the very key, never vouches for heads or documents.
        (
            issue_tls_certificate(AUTHORITY, "TH", TH_KEY.public_key, ["th.test"], now=NOW),
            CA,
            "a TLS certificate cannot sign messages",
        ),
        (CA, CA, "a CA certificate is not a node certificate"),
        (
            _node(TH_KEY.public_key),
            _node(keys.generate_key().public_key, "VN"),
            "the federation root certificate is not a CA certificate",
        ),
        (
            _node(keys.generate_private_key(keys.ECDSA_P256).public_key()),
            CA,
            "the certificate does not certify an Ed25519 key",
        ),
        (_node(TH_KEY.public_key, "VN"), CA, "the certificate is for VN, not TH"),
    ],
    ids=["tls", "root", "root-not-a-ca", "ecdsa", "wrong-country"],
)
def test_reasons_for_leaving_a_certificate_out(
    certificate: x509.Certificate, ca: x509.Certificate, expected: str
) -> None:
    assert trust.chain_problem(certificate, ca, country="TH", now=NOW) == expected
    found, problems = trust.trusted_keys([certificate], ca=ca, country="TH", now=NOW)
    assert found == {}
    assert problems == [f"certificate {certificate.serial_number:x}: {expected}"]
