"""Features: no row ever sees its own label, unseen codes are scored, one path for all."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.risk.encoding import training_matrix
from onewindow.risk.features import FEATURE_NAMES, FeatureStats

LABEL_COLUMNS = [i for i, n in enumerate(FEATURE_NAMES) if n.startswith(("rate_", "n_"))]


def _flip(frame: pd.DataFrame, row: int) -> pd.DataFrame:
    flipped = frame.copy()
    flipped.loc[row, "label"] = 1.0 - flipped.loc[row, "label"]
    return flipped


@pytest.mark.parametrize("encoding", ["oof", "time"])
@settings(max_examples=15, deadline=None)
@given(row=st.integers(0, 399))
def test_a_training_row_never_uses_its_own_label(
    encoding: str, row: int, frame_factory: Callable[..., pd.DataFrame]
) -> None:
    frame = frame_factory(400, seed=3, days=20)
    before = training_matrix(FeatureStats.fit(frame), frame, encoding=encoding)
    flipped = _flip(frame, row)
    after = training_matrix(FeatureStats.fit(flipped), flipped, encoding=encoding)
    # The row's own features are unchanged (its label is not in them) ...
    np.testing.assert_array_equal(before[row, LABEL_COLUMNS], after[row, LABEL_COLUMNS])
    # ... while the change is visible to some other row sharing its importer, so the test bites.
    assert not np.array_equal(before[:, LABEL_COLUMNS], after[:, LABEL_COLUMNS])


def test_time_encoding_uses_earlier_days_only(frame_factory: Callable[..., pd.DataFrame]) -> None:
    frame = frame_factory(400, seed=4, days=20)
    base = training_matrix(FeatureStats.fit(frame), frame, encoding="time")
    last_day = frame["date"].max()
    changed = frame.copy()
    changed.loc[changed["date"] == last_day, "label"] = 1.0
    after = training_matrix(FeatureStats.fit(changed), changed, encoding="time")
    np.testing.assert_array_equal(base[:, LABEL_COLUMNS], after[:, LABEL_COLUMNS])


def test_first_day_rows_have_no_history_under_time_encoding(
    frame_factory: Callable[..., pd.DataFrame],
) -> None:
    frame = frame_factory(400, seed=4, days=20)
    x = training_matrix(FeatureStats.fit(frame), frame, encoding="time")
    first = (frame["date"] == frame["date"].min()).to_numpy()
    n_importer = FEATURE_NAMES.index("n_importer")
    assert (x[first, n_importer] == 0).all()


def test_rates_are_smoothed_toward_the_prior(frame_factory: Callable[..., pd.DataFrame]) -> None:
    frame = frame_factory(500, seed=5)
    stats = FeatureStats.fit(frame, smoothing=20.0)
    unseen = frame.head(1).copy()
    unseen["importer"] = "NEVER-SEEN"
    x = stats.transform(unseen)
    assert x[0, FEATURE_NAMES.index("rate_importer")] == pytest.approx(stats.prior)
    assert x[0, FEATURE_NAMES.index("n_importer")] == 0
    # A key seen with k illicit out of n is (k + m p) / (n + m), by hand:
    imp = frame["importer"].iloc[0]
    rows = frame[frame["importer"] == imp]
    expected = (rows["label"].sum() + 20 * stats.prior) / (len(rows) + 20)
    got = stats.transform(frame.head(1))[0, FEATURE_NAMES.index("rate_importer")]
    assert got == pytest.approx(expected)


def test_unseen_codes_everywhere_are_scored_not_refused(
    frame_factory: Callable[..., pd.DataFrame],
) -> None:
    frame = frame_factory(500, seed=6)
    stats = FeatureStats.fit(frame)
    odd = frame.head(3).copy()
    for column in ("importer", "declarant", "seller", "office", "origin", "departure", "tax_type"):
        odd[column] = "ZZ-NEW"
    odd["hs6"] = ["123456", "0000AB", "999999"]
    odd["value"] = 123456789.5
    x = stats.transform(odd)
    assert x.shape == (3, len(FEATURE_NAMES))
    assert x[0, FEATURE_NAMES.index("cat_office")] == -1  # missing to LightGBM
    assert np.isnan(x[1, FEATURE_NAMES.index("hs6_num")])


def test_one_row_and_batch_give_the_same_features(
    frame_factory: Callable[..., pd.DataFrame],
) -> None:
    frame = frame_factory(500, seed=7)
    stats = FeatureStats.fit(frame.iloc[:400].reset_index(drop=True))
    batch = stats.transform(frame.iloc[400:].reset_index(drop=True))
    for i in (0, 17, 99):
        one = stats.transform(frame.iloc[[400 + i]].reset_index(drop=True))
        np.testing.assert_array_equal(one[0], batch[i])


def test_unit_price_deviation_uses_the_hs_history(
    frame_factory: Callable[..., pd.DataFrame],
) -> None:
    frame = frame_factory(500, seed=8)
    stats = FeatureStats.fit(frame)
    row = frame.head(1).copy()
    hs = row["hs6"].iloc[0]
    same = frame[(frame["hs6"] == hs) & (frame["net_mass"] > 0)]
    mean = np.log1p(same["value"] / same["net_mass"]).mean()
    row["value"] = row["net_mass"] * 10 * np.expm1(mean)
    dev = stats.transform(row)[0, FEATURE_NAMES.index("unit_price_dev")]
    assert dev == pytest.approx(np.log1p(np.expm1(mean) * 10) - mean)


def test_statistics_round_trip_through_a_plain_document(
    frame_factory: Callable[..., pd.DataFrame],
) -> None:
    frame = frame_factory(300, seed=9)
    stats = FeatureStats.fit(frame)
    again = FeatureStats.from_dict(stats.to_dict())
    np.testing.assert_array_equal(stats.transform(frame), again.transform(frame))
