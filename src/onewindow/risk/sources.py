"""Where training data comes from: files of a known format, or a node's own declarations.

`kcs` (the Korea Customs Service's public data) is this domain's own. Other formats are lent
by the domains that keep the data, through the extension point `risk.training_sources`: the
declarations domain lends `native` (a node's database file, or this node's own database).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from onewindow.kit import domain
from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.risk.kcs import REVENUE_NOTE, read_kcs


@dataclass(frozen=True)
class Source:
    read_file: Callable[[Path], pd.DataFrame]  # one file into the canonical frame (frame.py)
    revenue_note: str  # what "revenue" means in this data
    read_node: Callable[[Session], pd.DataFrame] | None = None  # this node's own data


KCS = Source(read_kcs, REVENUE_NOTE)


def sources() -> dict[str, Source]:
    found = {"kcs": KCS}
    for name, target in domain.contributions("risk.training_sources").items():
        found[name] = domain.load(target)
    return found


def source(fmt: str) -> Source:
    known = sources()
    if fmt not in known:
        listed = ", ".join(sorted(known))
        raise InvalidInput([FieldError("--format", "unknown_format", f"{fmt!r}; known: {listed}")])
    return known[fmt]


def revenue_note(fmt: str) -> str:
    found = sources().get(fmt)
    return found.revenue_note if found else "revenue column of the input"
