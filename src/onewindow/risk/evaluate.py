"""Selection metrics of the customs-targeting literature (pure, no I/O).

For each n in 1, 2, 5, 10 the top k = round(n % × rows) declarations by score are "inspected";
precision is the illicit share among them, recall the share of all illicit declarations they
catch, revenue the share of all revenue they raise (as in the WCO BACUDA papers: DATE, KDD 2020).
Ties in the score are broken by row order so the same input always gives the same figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

PERCENTS: tuple[int, ...] = (1, 2, 5, 10)


def top_order(score: np.ndarray) -> np.ndarray:
    """Row indices from highest to lowest score, earlier row first on a tie."""
    return np.argsort(-np.asarray(score, dtype=float), kind="stable")


def top_k(rows: int, percent: float) -> int:
    # Python's round is banker's rounding; the metric wants the usual half-up count.
    return int(np.floor(rows * percent / 100.0 + 0.5))


def top_metrics(
    label: np.ndarray,
    revenue: np.ndarray,
    score: np.ndarray,
    percents: tuple[int, ...] = PERCENTS,
) -> dict[str, dict[str, float | int]]:
    y = np.asarray(label, dtype=float)
    rev = np.nan_to_num(np.asarray(revenue, dtype=float))
    order = top_order(score)
    illicit_total = float(y.sum())
    revenue_total = float(rev.sum())
    out: dict[str, dict[str, float | int]] = {}
    for n in percents:
        k = top_k(len(y), n)
        chosen = order[:k]
        caught = float(y[chosen].sum())
        out[str(n)] = {
            "k": k,
            "precision": caught / k if k else 0.0,
            "recall": caught / illicit_total if illicit_total else 0.0,
            "revenue": float(rev[chosen].sum()) / revenue_total if revenue_total else 0.0,
        }
    return out


def auc(label: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve, or None when only one class is present (it is undefined)."""
    y = np.asarray(label, dtype=float)
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, score))


def report(
    label: np.ndarray, revenue: np.ndarray, score: np.ndarray, **extra: Any
) -> dict[str, Any]:
    """The `risk evaluate --json` document: rows, auc, top, then any extra keys."""
    doc: dict[str, Any] = {
        "rows": len(label),
        "auc": auc(label, score),
        "top": top_metrics(label, revenue, score),
    }
    doc.update(extra)
    return doc


def rounded(value: Any, digits: int = 4) -> Any:
    """The same document with floats rounded, for people and for stable JSON output."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value
