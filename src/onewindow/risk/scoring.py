"""Live scoring: the active model's illicit probability for each lodged declaration, and why.

A declaration's items become canonical rows (service.canonical_rows, the same mapping the
node's own training data goes through); the declaration's score is the highest item
probability, since one bad item is enough to make the declaration worth inspecting. The
explanation is that item's strongest model contributions (log-odds, from LightGBM), written
as short reasons such as "HS 851713 × value history: +0.42".

No database and no files beyond loading the artifact once; the registry decides which model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from onewindow.risk import artifact
from onewindow.risk.features import CATEGORY_COLUMNS
from onewindow.risk.learning import RiskModel
from onewindow.risk.service import Opinion, Subject, canonical_rows

# Contributions shown per declaration, and the smallest worth showing (log-odds).
TOP_REASONS = 3
MIN_CONTRIBUTION = 0.005

Row = dict[str, Any]

# How a history key reads in a reason, given the item's canonical row.
KEY_WORDS: dict[str, Callable[[Row], str]] = {
    "importer": lambda r: f"importer {r['importer'] or '(none)'}",
    "declarant": lambda r: f"declarant {r['declarant']}",
    "seller": lambda r: f"exporter {r['seller']}",
    "hs6": lambda r: f"HS {r['hs6']}",
    "hs4": lambda r: f"HS {r['hs6'][:4]}",
    "hs2": lambda r: f"HS chapter {r['hs6'][:2]}",
    "origin": lambda r: f"origin {r['origin']}",
    "office": lambda r: f"office {r['office']}",
    "hs6_origin": lambda r: f"HS {r['hs6']} × origin {r['origin']}",
    "importer_hs6": lambda r: f"importer {r['importer'] or '(none)'} × HS {r['hs6']}",
    "office_importer": lambda r: f"office {r['office']} × importer {r['importer'] or '(none)'}",
    "declarant_importer": lambda r: f"declarant {r['declarant']} × importer {r['importer']}",
    "hs4_departure": lambda r: f"HS {r['hs6'][:4]} × departure {r['departure']}",
    "value": lambda r: f"declared value {r['value']:,.0f}",
    "hs6_value": lambda r: f"HS {r['hs6']} × value",
    "hs6_mass": lambda r: f"HS {r['hs6']} × mass",
    "mass_value": lambda r: "mass × value",
}
PLAIN_WORDS: dict[str, Callable[[Row], str]] = {
    "log_value": lambda r: f"declared value {r['value']:,.0f}",
    "log_mass": lambda r: f"net mass {r['net_mass']:,.0f} kg",
    "tax_rate": lambda r: f"duty rate {r['tax_rate']:g} %",
    "log_duty": lambda r: "potential duty",
    "hs6_num": lambda r: f"tariff position HS {r['hs6']}",
    "hs4_num": lambda r: f"tariff position HS {r['hs6'][:4]}",
    "hs2_num": lambda r: f"tariff chapter {r['hs6'][:2]}",
    "log_unit_price": lambda r: "unit price",
    "unit_price_dev": lambda r: f"unit price vs HS {r['hs6']} history",
    "unit_price_z": lambda r: f"unit price vs HS {r['hs6']} history",
    "weekday": lambda r: "day of the week",
    "day_of_month": lambda r: "day of the month",
}


def describe(feature: str, row: Row) -> str:
    """A feature of one item in words an officer can check against the declaration."""
    kind, _, key = feature.partition("_")
    if kind in ("rate", "n", "seen") and key in KEY_WORDS:
        what = KEY_WORDS[key](row)
        return {"rate": f"{what} history", "n": f"{what} inspections", "seen": f"{what} frequency"}[
            kind
        ]
    if kind == "cat" and key in CATEGORY_COLUMNS:
        return f"{key.replace('_', ' ')} {row[key] or '(none)'}"
    words = PLAIN_WORDS.get(feature)
    return words(row) if words is not None else feature


class ModelScorer:
    """A loaded model as the node's Scorer (service.Scorer and service.Explaining)."""

    def __init__(self, model: RiskModel, *, top: int = TOP_REASONS) -> None:
        self.model = model
        self.version = str(model.info.get("version", "unversioned"))
        self.top = top

    @classmethod
    def load(cls, directory: Path) -> ModelScorer:
        """Load and check an artifact; raises InvalidInput when it is corrupted or foreign."""
        return cls(artifact.load(directory))

    def score(self, subjects: list[Subject]) -> list[float] | None:
        if not subjects:
            return []
        owner, columns = _columns(subjects)
        probability = self.model.score(columns).probability
        best, _ = _best_items(owner, probability, len(subjects))
        return [float(probability[i]) for i in best]

    def opinions(self, subjects: list[Subject]) -> list[Opinion] | None:
        if not subjects:
            return []
        owner, columns = _columns(subjects)
        probability = self.model.score(columns).probability
        best, _ = _best_items(owner, probability, len(subjects))
        chosen = {name: values[best] for name, values in columns.items()}
        contributions = self.model.explain(chosen, top=self.top)
        out = []
        for n, index in enumerate(best):
            row = {name: _plain(values[n]) for name, values in chosen.items()}
            reasons = [f"scored by model {self.version}"]
            reasons += [
                f"{describe(feature, row)}: {value:+.2f}"
                for feature, value in contributions[n]
                if abs(value) >= MIN_CONTRIBUTION
            ]
            out.append(Opinion(float(probability[index]), tuple(reasons)))
        return out


def _columns(subjects: list[Subject]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    owner, raw = canonical_rows(subjects)
    columns: dict[str, np.ndarray] = {}
    for name, values in raw.items():
        if name == "date":
            columns[name] = np.array(values, dtype="datetime64[D]")
        elif name in ("net_mass", "value", "tax_rate"):
            columns[name] = np.array(values, dtype=float)
        else:
            columns[name] = np.array(values, dtype=object)
    # hs6 must be six digits as in the frame contract; stored HS codes always are 8 digits.
    columns["hs6"] = np.array([str(h).zfill(6) for h in columns["hs6"]], dtype=object)
    return np.asarray(owner, dtype=np.intp), columns


def _best_items(
    owner: np.ndarray, probability: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each subject, the row of its most probable item (the first on a tie)."""
    order = np.lexsort((-probability, owner))  # by subject, then highest probability first
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    best = order[first]
    if len(best) != count:
        raise ValueError("every subject needs at least one item")
    return best, probability[best]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
