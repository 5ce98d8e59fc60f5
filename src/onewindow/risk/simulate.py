"""Replay of selection in a live service, where only inspected declarations get a label (pure).

Declarations arrive in weekly batches in date order. Each week the current model scores the
batch; `inspection_rate` of it is inspected: the top of the ranking, except an `exploration`
share drawn at random from the rest. Only the inspected rows' outcomes are revealed, the model
is retrained on everything revealed so far, and the next week begins. Until both outcomes have
been seen there is no model and every inspection is random.

Per week, as in the WCO BACUDA papers (DATE, KDD 2020), precision and revenue are also given
normalised by the best possible with the same number of inspections: norm-precision is
precision / min(1, illicit in the week / inspected), norm-revenue is revenue caught / the
revenue of the week's top declarations by revenue. Exploration costs precision now and buys
labels where the model is unsure, which keeps it from only confirming what it already believes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from onewindow.risk.evaluate import auc, top_order
from onewindow.risk.learning import RiskModel, Settings, train

# Weekly retraining must stay cheap: a fixed, modest model instead of the settings search.
SIMULATION_SETTINGS = Settings(num_leaves=31, n_estimators=150)

WeekDone = Callable[[int, int], None]


def simulate(
    frame: pd.DataFrame,
    *,
    inspection_rate: float = 0.1,
    exploration: float = 0.1,
    revenue_weight: float = 0.0,
    settings: Settings = SIMULATION_SETTINGS,
    seed: int = 0,
    threads: int = 1,
    on_week: WeekDone | None = None,
) -> dict[str, Any]:
    if not 0.0 < inspection_rate <= 1.0:
        raise ValueError("inspection_rate must be within (0, 1]")
    if not 0.0 <= exploration <= 1.0:
        raise ValueError("exploration must be within [0, 1]")
    rng = np.random.default_rng(seed)
    data = frame[frame["label"].notna()].sort_values("date", kind="stable").reset_index(drop=True)
    days = data["date"].to_numpy(dtype="datetime64[D]")
    week_start = days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    weeks = np.unique(week_start)
    truth = data["label"].to_numpy(dtype=float)
    revenue = np.nan_to_num(data["revenue"].to_numpy(dtype=float))
    revealed = np.full(len(data), np.nan)
    model: RiskModel | None = None
    rows: list[dict[str, Any]] = []
    for number, week in enumerate(weeks):
        batch = np.flatnonzero(week_start == week)
        scores = None if model is None else model.score(data.iloc[batch]).priority(revenue_weight)
        chosen = _choose(batch, scores, inspection_rate, exploration, rng)
        revealed[chosen] = truth[chosen]
        row = _week_row(str(week), batch, chosen, truth, revenue)
        # How well the model ranks the whole week, outcomes the service never sees included:
        # what exploration is meant to improve.
        row["auc"] = None if scores is None else auc(truth[batch], scores)
        rows.append(row)
        known = revealed[: batch[-1] + 1]
        labelled = known[~np.isnan(known)]
        if len(np.unique(labelled)) == 2:
            history = data.iloc[: batch[-1] + 1].copy()
            history["label"] = known
            model = train(history, settings=replace(settings, seed=seed), threads=threads)
        if on_week is not None:
            on_week(number + 1, len(weeks))
    return {
        "rows": len(data),
        "weeks": len(rows),
        "inspection_rate": inspection_rate,
        "exploration": exploration,
        "revenue_weight": revenue_weight,
        "average": {
            key: float(np.mean([r[key] for r in rows]))
            for key in ("precision", "norm_precision", "revenue", "norm_revenue")
        },
        "average_auc": _mean([r["auc"] for r in rows if r["auc"] is not None]),
        "per_week": rows,
    }


def _choose(
    batch: np.ndarray,
    scores: np.ndarray | None,
    rate: float,
    exploration: float,
    rng: np.random.Generator,
) -> np.ndarray:
    budget = max(1, int(np.floor(len(batch) * rate + 0.5)))
    if scores is None:
        return np.sort(rng.choice(batch, size=min(budget, len(batch)), replace=False))
    explore = int(np.floor(budget * exploration + 0.5))
    ranked = batch[top_order(scores)]
    exploit = ranked[: budget - explore]
    rest = ranked[budget - explore :]
    extra = rng.choice(rest, size=min(explore, len(rest)), replace=False)
    return np.sort(np.concatenate([exploit, extra]))


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _week_row(
    week: str, batch: np.ndarray, chosen: np.ndarray, truth: np.ndarray, revenue: np.ndarray
) -> dict[str, Any]:
    found = float(truth[chosen].sum())
    illicit = float(truth[batch].sum())
    n = len(chosen)
    best_precision = min(1.0, illicit / n) if n else 0.0
    caught = float(revenue[chosen].sum())
    week_revenue = float(revenue[batch].sum())
    best_revenue = float(np.sort(revenue[batch])[::-1][:n].sum())
    precision = found / n if n else 0.0
    return {
        "week": week,
        "rows": len(batch),
        "inspected": n,
        "illicit_found": int(found),
        "precision": precision,
        # A week with nothing illicit cannot be done better than by finding nothing.
        "norm_precision": precision / best_precision if best_precision else 1.0,
        "revenue": caught / week_revenue if week_revenue else 0.0,
        "norm_revenue": caught / best_revenue if best_revenue else 1.0,
    }
