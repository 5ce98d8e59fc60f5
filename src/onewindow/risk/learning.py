"""The learned risk model: illicit probability, revenue if illicit, and the ranking between them.

Training chooses its own settings by a procedure, never by looking at the data it will be judged
on: the labelled history is cut by date (the last `HOLDOUT` share of days is held out), every
candidate in `CANDIDATES` is trained on the earlier part with early stopping and measured on the
later part by precision among the top 5 % and 10 %, and the winner is refitted on all the history
with its tree count scaled to the larger data. This runs the same way on any new history, so the
figures on a later period are honest.

Pure computation: no file or network access (artifact.py stores and loads models).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from onewindow.risk.encoding import training_matrix
from onewindow.risk.evaluate import auc, top_metrics
from onewindow.risk.features import CATEGORICAL_FEATURES, FEATURE_NAMES, Columns, FeatureStats
from onewindow.risk.frame import require_labels

# Share of the labelled history's days held out, latest first, to choose settings.
HOLDOUT = 0.2
MAX_TREES = 600
EARLY_STOPPING = 60
# Below this many illicit rows with a known revenue the regressor would only learn noise.
MIN_REVENUE_ROWS = 30

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    encoding: str = "oof"  # how training rows see label statistics: "oof" or "time"
    num_leaves: int = 31
    learning_rate: float = 0.05
    n_estimators: int = 300
    min_child_samples: int = 20
    feature_fraction: float = 0.8
    smoothing: float = 20.0
    seed: int = 0

    def params(self, threads: int = 1) -> dict[str, Any]:
        return {
            "num_threads": threads,
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_seed": self.seed,
            "feature_fraction_seed": self.seed,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }


CANDIDATES: tuple[Settings, ...] = tuple(
    Settings(encoding=encoding, num_leaves=leaves)
    for encoding in ("oof", "time")
    for leaves in (15, 31, 63)
)


@dataclass
class Scores:
    probability: np.ndarray
    revenue_if_illicit: np.ndarray

    @property
    def expected_revenue(self) -> np.ndarray:
        return self.probability * self.revenue_if_illicit

    def priority(self, revenue_weight: float = 0.0) -> np.ndarray:
        """Ranking score: 0 is precision-first (probability), 1 is revenue-first (expected
        revenue); values between trade one for the other (probability × revenue^weight)."""
        if not 0.0 <= revenue_weight <= 1.0:
            raise ValueError("revenue_weight must be within [0, 1]")
        if revenue_weight == 0.0:
            return self.probability
        return self.probability * np.power(np.maximum(self.revenue_if_illicit, 0.0), revenue_weight)


@dataclass
class RiskModel:
    stats: FeatureStats
    classifier: lgb.Booster
    regressor: lgb.Booster | None
    settings: Settings
    info: dict[str, Any]

    def matrix(self, frame: Columns) -> np.ndarray:
        return self.stats.transform(frame)

    def score(self, frame: Columns, *, threads: int = 0) -> Scores:
        """Scores of declarations: a canonical frame, or frame.record_columns of live ones."""
        return self.score_matrix(self.matrix(frame), threads=threads)

    def score_matrix(self, x: np.ndarray, *, threads: int = 0) -> Scores:
        # One row is faster on one thread: starting a thread pool costs more than the trees.
        nt = 1 if len(x) < 64 else threads
        probability = np.asarray(self.classifier.predict(x, num_threads=nt), dtype=float)
        if self.regressor is not None:
            log_revenue = np.asarray(self.regressor.predict(x, num_threads=nt), dtype=float)
            revenue = np.expm1(np.clip(log_revenue, 0.0, 50.0))
        else:
            revenue = potential_duty(x)
        return Scores(probability=probability, revenue_if_illicit=revenue)

    def explain(self, frame: Columns, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per declaration, the features that pushed its score most (log-odds contributions)."""
        x = self.matrix(frame)
        contrib = np.asarray(self.classifier.predict(x, pred_contrib=True, num_threads=1))
        contrib = contrib[:, : len(FEATURE_NAMES)]  # the last column is the bias
        out = []
        for row in contrib:
            strongest = np.argsort(-np.abs(row), kind="stable")[:top]
            out.append([(FEATURE_NAMES[i], float(row[i])) for i in strongest])
        return out


def potential_duty(x: np.ndarray) -> np.ndarray:
    """Duty on the declared value, the fallback estimate of what an inspection can raise."""
    return np.expm1(x[:, FEATURE_NAMES.index("log_duty")])


def fit_classifier(
    x: np.ndarray,
    y: np.ndarray,
    settings: Settings,
    *,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    threads: int = 1,
) -> lgb.Booster:
    train = _dataset(x, y)
    params = settings.params(threads)
    if valid is None:
        return lgb.train(params, train, num_boost_round=settings.n_estimators)
    holdout = _dataset(valid[0], valid[1], reference=train)
    return lgb.train(
        params,
        train,
        num_boost_round=MAX_TREES,
        valid_sets=[holdout],
        callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)],
    )


def fit_regressor(
    x: np.ndarray, revenue: np.ndarray, label: np.ndarray, *, threads: int = 1
) -> lgb.Booster | None:
    """Revenue an inspection raises when it finds an offence, learned from illicit rows only."""
    rows = (label == 1) & ~np.isnan(revenue)
    if rows.sum() < MIN_REVENUE_ROWS:
        return None
    params = {
        "objective": "regression",
        "num_threads": threads,
        "learning_rate": 0.1,
        "num_leaves": 15,
        "min_data_in_leaf": 10,
        "seed": 0,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }
    target = np.log1p(np.maximum(revenue[rows], 0.0))
    # Small on purpose: it is evaluated on every declaration next to the classifier.
    return lgb.train(params, _dataset(x[rows], target), num_boost_round=100)


def split_by_date(
    frame: pd.DataFrame, holdout: float = HOLDOUT
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earlier and later labelled rows; the cut falls between days, never inside one."""
    labelled = frame[frame["label"].notna()]
    days = np.sort(labelled["date"].unique())
    if len(days) < 2:
        return labelled.iloc[:0], labelled
    cut = days[min(len(days) - 1, max(1, round(len(days) * (1 - holdout))))]
    early = frame[frame["date"] < cut].reset_index(drop=True)
    late = labelled[labelled["date"] >= cut].reset_index(drop=True)
    return early, late


def search(
    frame: pd.DataFrame,
    candidates: tuple[Settings, ...] = CANDIDATES,
    progress: Progress | None = None,
    threads: int = 1,
) -> tuple[Settings, list[dict[str, Any]]]:
    """Pick settings on a time-ordered holdout inside `frame` (see the module docstring)."""
    early, late = split_by_date(frame)
    usable = len(late) > 0 and early["label"].nunique() == 2 and late["label"].nunique() == 2
    if not usable:
        # Too little history to compare candidates: fall back to the defaults, said in the info.
        return Settings(), []
    trials: list[dict[str, Any]] = []
    cache: dict[tuple[str, float], tuple[FeatureStats, np.ndarray, np.ndarray]] = {}
    y_early = early["label"].to_numpy(dtype=float)
    mask = ~np.isnan(y_early)
    y_late = late["label"].to_numpy(dtype=float)
    for candidate in candidates:
        key = (candidate.encoding, candidate.smoothing)
        if key not in cache:
            stats = FeatureStats.fit(early, smoothing=candidate.smoothing)
            x = training_matrix(stats, early, encoding=candidate.encoding, seed=candidate.seed)
            cache[key] = (stats, x[mask], stats.transform(late))
        _, x_early, x_late = cache[key]
        booster = fit_classifier(
            x_early, y_early[mask], candidate, valid=(x_late, y_late), threads=threads
        )
        trees = max(1, booster.best_iteration or booster.current_iteration())
        score = np.asarray(booster.predict(x_late, num_iteration=trees), dtype=float)
        top = top_metrics(y_late, late["revenue"].to_numpy(dtype=float), score)
        objective = (float(top["5"]["precision"]) + float(top["10"]["precision"])) / 2
        trials.append(
            {
                "settings": asdict(candidate),
                "trees": trees,
                "objective": objective,
                "auc": auc(y_late, score),
                "top": top,
            }
        )
        if progress is not None:
            progress(f"{candidate.encoding} leaves={candidate.num_leaves}: {objective:.4f}")
    # Highest objective wins; then AUC; then the smaller model, which scores faster.
    best = max(
        range(len(trials)),
        key=lambda i: (
            round(trials[i]["objective"], 6),
            round(trials[i]["auc"] or 0.0, 6),
            -candidates[i].num_leaves,
        ),
    )
    chosen = candidates[best]
    trials[best]["chosen"] = True
    scale = len(frame) / max(1, len(early))
    trees = round(trials[best]["trees"] * scale)
    return replace(chosen, n_estimators=max(20, trees)), trials


def train(
    frame: pd.DataFrame,
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    source: str = "data",
    threads: int = 1,
) -> RiskModel:
    """Train on every labelled row of `frame`; choose settings by `search` unless given."""
    require_labels(frame, source=source)
    trials: list[dict[str, Any]] = []
    if settings is None:
        settings, trials = search(frame, progress=progress, threads=threads)
    stats = FeatureStats.fit(frame, smoothing=settings.smoothing)
    x_all = training_matrix(stats, frame, encoding=settings.encoding, seed=settings.seed)
    label = frame["label"].to_numpy(dtype=float)
    has = ~np.isnan(label)
    if progress is not None:
        progress(f"final model: {settings.n_estimators} trees")
    classifier = fit_classifier(x_all[has], label[has], settings)
    regressor = fit_regressor(x_all[has], frame["revenue"].to_numpy(dtype=float)[has], label[has])
    chosen = next((t for t in trials if t.get("chosen")), None)
    info = {
        "rows": len(frame),
        "labelled": int(has.sum()),
        "illicit_rate": float(label[has].mean()),
        "date_range": list(stats.date_range),
        "internal_validation": {
            "procedure": f"time-ordered holdout: last {HOLDOUT:.0%} of labelled days",
            "chosen": chosen,
            "trials": trials,
        },
        "revenue_model": "lightgbm regressor on illicit rows"
        if regressor is not None
        else "potential duty (value × tax rate / 100)",
    }
    return RiskModel(stats, classifier, regressor, settings, info)


def _dataset(x: np.ndarray, y: np.ndarray, reference: lgb.Dataset | None = None) -> lgb.Dataset:
    return lgb.Dataset(
        x,
        label=y,
        feature_name=list(FEATURE_NAMES),
        categorical_feature=list(CATEGORICAL_FEATURES),
        reference=reference,
        free_raw_data=True,
        params={"verbosity": -1},
    )
