"""Features of a declaration, computed from past inspection outcomes only (pure, no I/O).

One code path serves training, evaluation and live scoring: `FeatureStats.fit` learns the
statistics from labelled history, `FeatureStats.transform` turns any canonical frame (one row or
a million) into the model matrix. For the training rows themselves `training_matrix` replaces the
label-based columns with encodings that never include the row's own label: either out-of-fold
(the row's fold is left out) or time-ordered (only declarations of earlier days count), so the
model does not learn to trust a statistic that contains the answer.

Label-based statistics are smoothed toward the overall illicit rate:
    rate = (illicit + m × prior) / (inspected + m)
so a key seen once or never (an unseen importer) gets close to the prior instead of 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Keys whose inspection history is summarised; a pair is joined with "|".
HISTORY_KEYS: dict[str, tuple[str, ...]] = {
    "importer": ("importer",),
    "declarant": ("declarant",),
    "seller": ("seller",),
    "hs6": ("hs6",),
    "hs4": ("hs4",),
    "hs2": ("hs2",),
    "origin": ("origin",),
    "office": ("office",),
    "hs6_origin": ("hs6", "origin"),
    "importer_hs6": ("importer", "hs6"),
    "office_importer": ("office", "importer"),
    "declarant_importer": ("declarant", "importer"),
    "hs4_departure": ("hs4", "departure"),
    # Repeat consignments: the same goods at the same declared value or mass were seen before.
    "value": ("value",),
    "hs6_value": ("hs6", "value"),
    "hs6_mass": ("hs6", "net_mass"),
    "mass_value": ("net_mass", "value"),
}
# Low-cardinality codes given to LightGBM as categorical features.
CATEGORY_COLUMNS: tuple[str, ...] = (
    "office",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "tax_type",
    "origin_indicator",
    "origin",
    "departure",
)
NUMERIC_NAMES: tuple[str, ...] = (
    "log_value",
    "log_mass",
    "tax_rate",
    "log_duty",
    "hs6_num",
    "hs4_num",
    "hs2_num",
    "log_unit_price",
    "unit_price_dev",
    "unit_price_z",
    "weekday",
    "day_of_month",
)
UNIT_LEVELS: tuple[str, ...] = ("hs6", "hs4", "hs2")
# Fewer past declarations than this and the HS code's unit-price history is too thin to trust.
UNIT_MIN_COUNT = 5


def feature_names() -> list[str]:
    names: list[str] = []
    for key in HISTORY_KEYS:
        names += [f"rate_{key}", f"n_{key}", f"seen_{key}"]
    names += [f"cat_{c}" for c in CATEGORY_COLUMNS]
    names += list(NUMERIC_NAMES)
    return names


FEATURE_NAMES: tuple[str, ...] = tuple(feature_names())
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f"cat_{c}" for c in CATEGORY_COLUMNS)


@dataclass
class KeyStats:
    """Per-key counts: `labelled` inspected rows, `illicit` of them, `seen` rows of any kind."""

    index: pd.Index
    labelled: np.ndarray
    illicit: np.ndarray
    seen: np.ndarray

    def lookup(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = self.index.get_indexer(values)
        found = pos >= 0
        safe = np.where(found, pos, 0)
        zero = np.zeros(len(values))
        return (
            np.where(found, self.labelled[safe], zero),
            np.where(found, self.illicit[safe], zero),
            np.where(found, self.seen[safe], zero),
        )


@dataclass
class FeatureStats:
    prior: float
    smoothing: float
    keys: dict[str, KeyStats]
    unit: dict[str, tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]]
    vocab: dict[str, pd.Index]
    date_range: tuple[str, str] = ("", "")
    rows: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, *, smoothing: float = 20.0) -> FeatureStats:
        """Learn every statistic from `frame` (unlabelled rows count only toward `seen`)."""
        label = frame["label"].to_numpy(dtype="float64")
        has = ~np.isnan(label)
        y = np.where(has, label, 0.0)
        prior = float(y[has].mean()) if has.any() else 0.0
        cols = key_columns(frame)
        keys: dict[str, KeyStats] = {}
        for name in HISTORY_KEYS:
            codes, uniques = pd.factorize(cols[name])
            size = len(uniques)
            keys[name] = KeyStats(
                index=pd.Index(uniques, dtype=object),
                labelled=np.bincount(codes, weights=has.astype(float), minlength=size),
                illicit=np.bincount(codes, weights=y, minlength=size),
                seen=np.bincount(codes, minlength=size).astype(float),
            )
        lup = log_unit_price(frame)
        unit = {}
        for level in UNIT_LEVELS:
            grouped = pd.Series(lup).groupby(cols[level]).agg(["mean", "std", "count"])
            unit[level] = (
                pd.Index(grouped.index, dtype=object),
                grouped["mean"].to_numpy(dtype=float),
                grouped["std"].fillna(0.0).to_numpy(dtype=float),
                grouped["count"].to_numpy(dtype=float),
            )
        vocab = {c: pd.Index(sorted(frame[c].unique()), dtype=object) for c in CATEGORY_COLUMNS}
        dates = frame["date"]
        return cls(
            prior=prior,
            smoothing=smoothing,
            keys=keys,
            unit=unit,
            vocab=vocab,
            date_range=(str(dates.min().date()), str(dates.max().date())),
            rows=len(frame),
        )

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Model matrix for declarations to be scored (none of them is in the statistics)."""
        cols = key_columns(frame)
        history: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
            name: self.keys[name].lookup(cols[name]) for name in HISTORY_KEYS
        }
        return self._assemble(frame, cols, history)

    def _assemble(
        self,
        frame: pd.DataFrame,
        cols: dict[str, np.ndarray],
        history: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> np.ndarray:
        rows = len(frame)
        out = np.empty((rows, len(FEATURE_NAMES)), dtype=np.float64)
        j = 0
        m = self.smoothing
        for name in HISTORY_KEYS:
            labelled, illicit, seen = history[name]
            out[:, j] = (illicit + m * self.prior) / (labelled + m)
            out[:, j + 1] = np.log1p(labelled)
            out[:, j + 2] = np.log1p(seen)
            j += 3
        for c in CATEGORY_COLUMNS:
            # -1 (unseen code) is a missing value to LightGBM, so a new code is still scored.
            out[:, j] = self.vocab[c].get_indexer(frame[c].to_numpy())
            j += 1
        value = frame["value"].to_numpy(dtype=float)
        mass = frame["net_mass"].to_numpy(dtype=float)
        rate = frame["tax_rate"].to_numpy(dtype=float)
        out[:, j] = np.log1p(value)
        out[:, j + 1] = np.log1p(mass)
        out[:, j + 2] = rate
        out[:, j + 3] = np.log1p(value * rate / 100.0)
        for k, level in enumerate(UNIT_LEVELS):
            out[:, j + 4 + k] = pd.to_numeric(cols[level], errors="coerce")
        lup = log_unit_price(frame)
        dev, z = self._unit_deviation(cols, lup)
        out[:, j + 7] = lup
        out[:, j + 8] = dev
        out[:, j + 9] = z
        dates = frame["date"]
        out[:, j + 10] = dates.dt.weekday.to_numpy(dtype=float)
        out[:, j + 11] = dates.dt.day.to_numpy(dtype=float)
        return out

    def _unit_deviation(
        self, cols: dict[str, np.ndarray], lup: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        # Fall back from HS6 to HS4 to HS2 so a rare tariff line borrows its heading's history.
        mean = np.full(len(lup), np.nan)
        std = np.full(len(lup), np.nan)
        for level in UNIT_LEVELS:
            index, means, stds, counts = self.unit[level]
            pos = index.get_indexer(cols[level])
            safe = np.where(pos >= 0, pos, 0)
            usable = (pos >= 0) & (counts[safe] >= UNIT_MIN_COUNT) & np.isnan(mean)
            mean = np.where(usable, means[safe], mean)
            std = np.where(usable, stds[safe], std)
        dev = lup - mean
        return dev, dev / np.maximum(std, 0.1)


def training_matrix(
    stats: FeatureStats, frame: pd.DataFrame, *, encoding: str, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Matrix for the labelled rows `stats` was fitted on, without each row's own label.

    `encoding` is "oof" (statistics from the other folds) or "time" (from earlier days only).
    """
    cols = key_columns(frame)
    label = frame["label"].to_numpy(dtype="float64")
    has = ~np.isnan(label)
    y = np.where(has, label, 0.0)
    history: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    if encoding == "oof":
        fold = np.random.default_rng(seed).integers(0, folds, len(frame))
    elif encoding == "time":
        day = frame["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    for name in HISTORY_KEYS:
        codes, uniques = pd.factorize(cols[name])
        seen_all = np.bincount(codes, minlength=len(uniques)).astype(float)
        # A live declaration is never among its own key's statistics, so neither is a row here.
        seen = seen_all[codes] - 1.0
        if encoding == "oof":
            labelled, illicit = _out_of_fold(codes, len(uniques), fold, folds, has, y)
        else:
            labelled, illicit = _earlier_days(codes, day, has, y)
        history[name] = (labelled, illicit, seen)
    return stats._assemble(frame, cols, history)


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


def key_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every key of HISTORY_KEYS (and the HS levels) as an object array of text."""
    hs6 = frame["hs6"].astype(str)
    base: dict[str, pd.Series] = {
        c: frame[c].astype(str) for c in ("importer", "declarant", "seller", "origin", "office")
    }
    base["departure"] = frame["departure"].astype(str)
    # repr of a float is exact and stable, so equal amounts always give the same key.
    base["value"] = frame["value"].map(repr)
    base["net_mass"] = frame["net_mass"].map(repr)
    base["hs6"] = hs6
    base["hs4"] = hs6.str.slice(0, 4)
    base["hs2"] = hs6.str.slice(0, 2)
    cols: dict[str, np.ndarray] = {}
    for level in UNIT_LEVELS:
        cols[level] = base[level].to_numpy(dtype=object)
    for name, parts in HISTORY_KEYS.items():
        if len(parts) == 1:
            cols[name] = base[parts[0]].to_numpy(dtype=object)
        else:
            joined = base[parts[0]]
            for part in parts[1:]:
                joined = joined + "|" + base[part]
            cols[name] = joined.to_numpy(dtype=object)
    return cols


def log_unit_price(frame: pd.DataFrame) -> np.ndarray:
    value = frame["value"].to_numpy(dtype=float)
    mass = frame["net_mass"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(mass > 0, value / mass, np.nan)
    return np.log1p(unit)
