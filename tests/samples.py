"""Sample documents as dicts, for the tests of the exchange and of the domains that own them
(the fixtures `sample_form_d` and `sample_acdd` in tests/conftest.py hand out copies)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any


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
