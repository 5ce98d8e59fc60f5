"""Fixtures for the exchange tests: a federation (root CA, TH and VN node keys and
certificates), trust stores, and sample Form D and ACDD dicts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from onewindow.exchange.envelope import Signer
from onewindow.exchange.trust import TrustStore
from onewindow.kit import keys
from onewindow.kit.authority import Authority, create_authority, issue_node_certificate

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def form_d() -> dict[str, Any]:
    return {
        "reference": "TH-2026-000123",
        "exporter": {
            "id": "0105551234567",
            "name": "Siam Devices Co.",
            "address": "99 Rama IV Road, Bangkok 10500",
            "country": "TH",
        },
        "consignee": {
            "id": "0101234567",
            "name": "Saigon Logistics JSC",
            "address": "12 Nguyen Hue, District 1, Ho Chi Minh City",
            "country": "VN",
        },
        "transport": {
            "departure_date": date(2026, 11, 6),
            "mode": "1",
            "vessel": "MV Mekong Star V.112",
            "loading_port": "THLCH",
            "discharge_port": "VNSGN",
        },
        "items": [
            {
                "item_number": 1,
                "marks": "SD/VN/001-300",
                "packages": {"count": 30, "kind": "CT"},
                "description": "Smartphones",
                "hs_code": "851713",
                "origin_criterion": "40%",
                "quantity": Decimal("300"),
                "unit": "PCE",
                "gross_weight": Decimal("450.5"),
                "gross_weight_unit": "KGM",
                "fob_value": Decimal("45000.00"),
                "fob_currency": "USD",
                "invoice": {"number": "INV-7781", "date": date(2026, 11, 2)},
            },
            {
                "item_number": 2,
                "packages": {"count": 5, "kind": "PK"},
                "description": "Printed circuit assemblies",
                "hs_code": "85177900",
                "origin_criterion": "CTSH",
                "quantity": Decimal("1200"),
                "unit": "PCE",
                "invoice": {"number": "INV-7781", "date": date(2026, 11, 2)},
            },
        ],
        "declaration": {
            "producing_country": "TH",
            "importing_country": "VN",
            "place": "Bangkok",
            "date": date(2026, 11, 5),
        },
        "certification": {
            "authority": "Department of Foreign Trade, Ministry of Commerce",
            "issue_date": date(2026, 11, 8),
            "place": "Bangkok",
        },
        "flags": {
            "third_country_invoicing": False,
            "back_to_back": False,
            "exhibition": False,
            "issued_retroactively": False,
            "de_minimis": False,
            "accumulation": False,
            "partial_cumulation": False,
        },
    }


def acdd() -> dict[str, Any]:
    return {
        "declaration_id": "VN-EX-2026-0004711",
        "export_country": "VN",
        "destination_country": "SG",
        "exporter": {"id": "0301234567", "name": "Mekong Seafood JSC"},
        "consignee": {"name": "Lion City Foods Pte Ltd", "address": "1 Jurong Port Rd, Singapore"},
        "agent": {"id": "0309876543", "name": "Saigon Customs Brokers"},
        "departure_date": date(2026, 11, 20),
        "transport_mode": "1",
        "discharge_port": "SGSIN",
        "items": [
            {
                "item_number": 1,
                "hs_code": "030617",
                "quantity": Decimal("1200.5"),
                "unit": "KGM",
                "origin_country": "VN",
                "description": "Frozen shrimps",
            },
            {
                "item_number": 2,
                "hs_code": "16052100",
                "quantity": Decimal("300"),
                "unit": "KGM",
                "origin_country": "VN",
            },
        ],
    }


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
def sample_form_d() -> Callable[[], dict[str, Any]]:
    return lambda: copy.deepcopy(FORM_D)


@pytest.fixture(scope="session")
def sample_acdd() -> Callable[[], dict[str, Any]]:
    return lambda: copy.deepcopy(ACDD)


FORM_D = form_d()
ACDD = acdd()


@pytest.fixture(scope="session")
def ecdsa_federation() -> Federation:
    return make_federation(keys.ECDSA_P256)


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW
