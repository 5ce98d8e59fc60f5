"""The weekly selection replay: budgets, exploration, what is revealed, normalised metrics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from onewindow.risk.simulate import _week_row, simulate


@pytest.fixture(scope="module")
def weeks_frame(frame_factory: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return frame_factory(1400, seed=30, start="2020-01-06", days=42)  # six whole weeks


def test_budget_and_weeks(weeks_frame: pd.DataFrame) -> None:
    result = simulate(weeks_frame, inspection_rate=0.1, exploration=0.0)
    assert result["weeks"] == 6
    for row in result["per_week"]:
        assert row["inspected"] == int(np.floor(row["rows"] * 0.1 + 0.5))
        assert 0.0 <= row["norm_precision"] <= 1.0 + 1e-9
        assert 0.0 <= row["norm_revenue"] <= 1.0 + 1e-9


def test_the_model_beats_random_once_it_has_labels(weeks_frame: pd.DataFrame) -> None:
    result = simulate(weeks_frame, inspection_rate=0.1, exploration=0.0)
    later = [r["precision"] for r in result["per_week"][2:]]
    base = weeks_frame["label"].mean()
    assert np.mean(later) > 2 * base


def test_full_exploration_is_random_selection(weeks_frame: pd.DataFrame) -> None:
    exploit = simulate(weeks_frame, inspection_rate=0.1, exploration=0.0)
    explore = simulate(weeks_frame, inspection_rate=0.1, exploration=1.0)
    assert explore["average"]["precision"] < exploit["average"]["precision"]


def test_same_seed_same_result(weeks_frame: pd.DataFrame) -> None:
    a = simulate(weeks_frame, inspection_rate=0.1, exploration=0.2, seed=3)
    b = simulate(weeks_frame, inspection_rate=0.1, exploration=0.2, seed=3)
    assert a == b


def test_normalisation_by_hand() -> None:
    truth = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0.0])
    revenue = np.array([5, 0, 0, 20, 0, 0, 0, 0, 0, 0.0])
    batch = np.arange(10)
    row = _week_row("w", batch, np.array([0, 1, 2]), truth, revenue)
    assert row["precision"] == pytest.approx(1 / 3)
    assert row["norm_precision"] == pytest.approx((1 / 3) / (2 / 3))  # best: both illicit found
    assert row["revenue"] == pytest.approx(5 / 25)
    assert row["norm_revenue"] == pytest.approx(5 / 25)  # best 3 by revenue raise 25


def test_bad_rates_are_refused(weeks_frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError):
        simulate(weeks_frame, inspection_rate=0.0)
    with pytest.raises(ValueError):
        simulate(weeks_frame, exploration=1.5)
