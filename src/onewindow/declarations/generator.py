"""Plausible declarations for demos and benchmarks, from the sample tariff. Pure."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

# (code, description, unit, origin, value per unit in USD, kg per unit)
GOODS = [
    ("85171300", "Smartphones", "PCE", "TH", 200, 0.25),
    ("84713020", "Laptops", "PCE", "CN", 450, 2.0),
    ("85287292", "LED televisions", "PCE", "MY", 300, 12.0),
    ("84151010", "Split air conditioners", "PCE", "TH", 350, 30.0),
    ("40111000", "Car tyres", "PCE", "ID", 60, 9.0),
    ("22030010", "Lager beer", "LTR", "SG", 2, 1.05),
    ("10063040", "Jasmine rice", "KGM", "KH", 1, 1.0),
    ("17019910", "Refined sugar", "KGM", "TH", 1, 1.0),
    ("61091010", "Cotton T-shirts", "PCE", "CN", 4, 0.2),
    ("64039990", "Leather shoes", "PR", "ID", 25, 1.1),
    ("33049930", "Face cream", "KGM", "JP", 40, 1.0),
    ("94036090", "Wooden tables", "PCE", "MY", 80, 25.0),
]
IMPORTERS = [
    ("0101234567", "Saigon Logistics JSC"),
    ("0309999999", "Hanoi Trading Co."),
    ("0201111111", "Hai Phong Import Export"),
    ("0401234000", "Da Nang Retail JSC"),
]
OFFICES = ["VNHPH", "VNSGN", "VNDAD"]


def declaration(rng: random.Random, arrival: date, items: int | None = None) -> dict[str, Any]:
    importer_id, importer_name = rng.choice(IMPORTERS)
    n = items if items is not None else rng.choice((1, 2, 3, 3, 4, 5))
    lines = []
    for _ in range(n):
        code, desc, unit, origin, unit_value, kg = rng.choice(GOODS)
        qty = rng.randint(10, 2000)
        net = round(qty * kg, 3)
        lines.append(
            {
                "hs_code": code,
                "description": desc,
                "origin": origin,
                "quantity": str(qty),
                "unit": unit,
                "net_mass_kg": str(net),
                "gross_mass_kg": str(round(net * 1.08, 3)),
                "customs_value": f"{qty * unit_value * rng.uniform(0.8, 1.2):.2f}",
            }
        )
    origin = lines[0]["origin"]
    return {
        "type": "IM",
        "office": rng.choice(OFFICES),
        "country_of_export": origin,
        "declarant": {"id": importer_id, "name": importer_name},
        "importer": {"id": importer_id, "name": importer_name, "country": "VN"},
        "exporter": {"name": f"Supplier {origin} Ltd", "country": origin},
        "transport": {"mode": rng.choice("1134"), "arrival_date": arrival.isoformat()},
        "invoice": {
            "number": f"INV-{rng.randint(1, 10**8)}",
            "date": (arrival - timedelta(days=10)).isoformat(),
            "currency": "USD",
            "incoterm": "CIF",
        },
        "items": lines,
    }
