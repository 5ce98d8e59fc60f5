"""Encodings of the training rows' own history that never contain their own label (pure).

A live declaration is scored with statistics in which it does not appear; a training row must
be treated the same way or the model learns to trust statistics that contain the answer. Two
procedures, chosen between by the settings search (model.py):

- "oof": rows get a random fold; a row's statistics come from the other folds only.
- "time": a row's statistics come from declarations of strictly earlier days only.

The prior the rates are smoothed toward is left out the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from onewindow.risk.features import HISTORY_KEYS, FeatureStats, labels_of


def training_matrix(
    stats: FeatureStats, frame: pd.DataFrame, *, encoding: str, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Matrix for the rows `stats` was fitted on, without any row's own label.

    `encoding` is "oof" (statistics from the other folds) or "time" (from earlier days only).
    """
    has, y = labels_of(frame)
    atoms = stats.atom_codes(frame)
    if encoding == "oof":
        fold = np.random.default_rng(seed).integers(0, folds, len(frame))
        group = fold
    elif encoding == "time":
        day = frame["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        group = np.unique(day, return_inverse=True)[1]
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    # Even the prior must not contain the row's label: it comes from the other folds, or from
    # earlier days (none before the first day: its rates are missing values, not a guess).
    group_n = np.bincount(group, weights=has.astype(float))
    group_s = np.bincount(group, weights=y)
    if encoding == "oof":
        rest_n = has.sum() - group_n
        rest_s = y.sum() - group_s
    else:
        rest_n = np.cumsum(group_n) - group_n
        rest_s = np.cumsum(group_s) - group_s
    with np.errstate(divide="ignore", invalid="ignore"):
        prior = np.where(rest_n > 0, rest_s / rest_n, np.nan)[group]
    history: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name in HISTORY_KEYS:
        uniques, codes = np.unique(stats.key_code(atoms, name), return_inverse=True)
        # A live declaration is never among its own key's statistics, so neither is a row here.
        seen = np.bincount(codes, minlength=len(uniques)).astype(float)[codes] - 1.0
        if encoding == "oof":
            labelled, illicit = _out_of_fold(codes, len(uniques), fold, folds, has, y)
        else:
            labelled, illicit = _earlier_days(codes, day, has, y)
        history[name] = (labelled, illicit, seen)
    return stats.assemble(frame, atoms, history, prior)


def _out_of_fold(
    codes: np.ndarray, size: int, fold: np.ndarray, folds: int, has: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    w = has.astype(float)
    total_n = np.bincount(codes, weights=w, minlength=size)
    total_s = np.bincount(codes, weights=y, minlength=size)
    cell = codes * folds + fold
    fold_n = np.bincount(cell, weights=w, minlength=size * folds)
    fold_s = np.bincount(cell, weights=y, minlength=size * folds)
    return total_n[codes] - fold_n[cell], total_s[codes] - fold_s[cell]


def _earlier_days(
    codes: np.ndarray, day: np.ndarray, has: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    table = pd.DataFrame({"k": codes, "d": day, "n": has.astype(float), "s": y})
    per_day = table.groupby(["k", "d"], sort=True)[["n", "s"]].sum()
    # Running totals per key up to and including a day, minus that day: strictly earlier days.
    before = per_day.groupby(level="k").cumsum() - per_day
    pos = per_day.index.get_indexer(pd.MultiIndex.from_arrays([codes, day]))
    return before["n"].to_numpy()[pos], before["s"].to_numpy()[pos]
