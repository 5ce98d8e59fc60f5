"""Itineraries by road: which member states share a land border (or a fixed link), so that
a transit movement's countries follow each other on the ground.

ACTS runs by road between the ASEAN member states on the mainland and Singapore (over the
Johor causeway and the second link). Island states without a road to the mainland are not
reachable by land.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

# Land borders and fixed road links between ASEAN member states, both ways.
BORDERS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("TH", "MY"), ("TH", "LA"), ("TH", "KH"), ("TH", "MM"), ("MY", "SG"),
        ("LA", "VN"), ("LA", "KH"), ("LA", "MM"), ("KH", "VN"), ("MY", "BN"),
        ("MY", "ID"),  # Borneo: Sabah and Sarawak with Kalimantan
    )
)  # fmt: skip


def neighbours(a: str, b: str) -> bool:
    return frozenset((a, b)) in BORDERS


def gaps(countries: Sequence[str]) -> list[tuple[str, str]]:
    """The consecutive countries of a route without a road between them (none: connected).
    The same country twice in a row is a stretch within it."""
    return [(a, b) for a, b in itertools.pairwise(countries) if a != b and not neighbours(a, b)]


def office_country(office: str) -> str:
    """A customs office's country: the first two letters of its code (UN/LOCODE style)."""
    return office[:2]
