"""Code lists shared by every domain: countries, currencies, units, UN/LOCODE places."""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

from onewindow.kit.money import is_currency

# UN/ECE Recommendation 20 units seen on customs declarations (a curated subset).
UNITS = frozenset(
    {
        "PCE",
        "NAR",
        "KGM",
        "GRM",
        "TNE",
        "LTR",
        "MLT",
        "MTQ",
        "MTK",
        "MTR",
        "CMT",
        "PR",
        "SET",
        "DZN",
        "C62",
        "KWH",
        "MWH",
        "CT",
        "BX",
        "PK",
        "BG",
        "RO",
        "TU",
        "LBR",
        "FOT",
        "GLL",
        "KTM",
        "CEN",
        "MIL",
        "2U",
    }
)

INCOTERMS = frozenset({"EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF"})

# UN/ECE Recommendation 19 modes of transport.
TRANSPORT_MODES = {
    "0": "not known",
    "1": "maritime",
    "2": "rail",
    "3": "road",
    "4": "air",
    "5": "mail",
    "7": "fixed installation",
    "8": "inland waterway",
    "9": "own propulsion",
}

ASEAN = frozenset({"BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN"})

_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


@lru_cache(maxsize=1024)
def is_country(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def is_locode(code: str) -> bool:
    """A UN/LOCODE: the country's ISO code then three letters or digits 2-9."""
    return bool(_LOCODE.match(code)) and is_country(code[:2])


__all__ = [
    "ASEAN",
    "INCOTERMS",
    "TRANSPORT_MODES",
    "UNITS",
    "is_country",
    "is_currency",
    "is_locode",
]
