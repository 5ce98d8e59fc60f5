"""The model learns a planted signal, ranks by the chosen policy, and round-trips to disk."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

from onewindow.kit.errors import InvalidInput
from onewindow.risk import artifact
from onewindow.risk.evaluate import top_metrics
from onewindow.risk.features import FEATURE_NAMES
from onewindow.risk.frame import record_columns
from onewindow.risk.learning import RiskModel, Scores, Settings, search, split_by_date, train


def test_planted_signal_is_learned(trained: RiskModel, later: pd.DataFrame) -> None:
    scores = trained.score(later)
    label = later["label"].to_numpy()
    top = top_metrics(label, later["revenue"].to_numpy(), scores.probability)
    base_rate = label.mean()
    assert base_rate < 0.35
    assert top["5"]["precision"] >= 0.85
    assert top["10"]["precision"] >= 0.85
    bad = later["importer"].str.startswith("BAD") | (later["hs6"] == "999999")
    assert (
        scores.probability[bad.to_numpy()].mean() > 3 * scores.probability[~bad.to_numpy()].mean()
    )


def test_settings_come_from_the_time_ordered_search(trained: RiskModel) -> None:
    internal = trained.info["internal_validation"]
    assert len(internal["trials"]) == 6
    chosen = [t for t in internal["trials"] if t.get("chosen")]
    assert len(chosen) == 1
    assert chosen[0]["settings"]["num_leaves"] == trained.settings.num_leaves
    assert chosen[0]["objective"] == max(t["objective"] for t in internal["trials"])


def test_holdout_is_the_latest_days_and_never_splits_a_day(
    frame_factory: Callable[..., pd.DataFrame],
) -> None:
    frame = frame_factory(500, seed=11, days=30)
    early, late = split_by_date(frame)
    assert early["date"].max() < late["date"].min()
    assert len(early) + len(late) == len(frame)
    assert 0.1 < len(late) / len(frame) < 0.35


def test_search_with_one_class_in_holdout_falls_back_to_defaults(
    frame_factory: Callable[..., pd.DataFrame],
) -> None:
    frame = frame_factory(300, seed=12, days=30)
    _, late = split_by_date(frame)
    frame.loc[frame["date"] >= late["date"].min(), "label"] = 0.0
    settings, trials = search(frame)
    assert settings == Settings()
    assert trials == []


def test_all_one_label_is_refused(frame_factory: Callable[..., pd.DataFrame]) -> None:
    frame = frame_factory(200, seed=13)
    frame["label"] = 0.0
    with pytest.raises(InvalidInput) as caught:
        train(frame, source="t.csv")
    assert caught.value.errors[0].code == "single_class"
    assert caught.value.errors[0].path == "t.csv.label"


def test_priority_moves_from_probability_to_expected_revenue() -> None:
    scores = Scores(np.array([0.9, 0.5, 0.1]), np.array([1.0, 100.0, 10_000.0]))
    assert list(np.argsort(-scores.priority(0.0))) == [0, 1, 2]
    assert list(np.argsort(-scores.priority(1.0))) == [2, 1, 0]
    np.testing.assert_allclose(scores.priority(1.0), scores.expected_revenue)
    with pytest.raises(ValueError):
        scores.priority(1.5)


def test_revenue_estimate_follows_the_duty(trained: RiskModel, later: pd.DataFrame) -> None:
    scores = trained.score(later)
    duty = (later["value"] * later["tax_rate"] / 100).to_numpy()
    has_duty = duty > 100
    ratio = np.corrcoef(np.log1p(duty[has_duty]), np.log1p(scores.revenue_if_illicit[has_duty]))
    assert ratio[0, 1] > 0.9


def test_a_single_declaration_is_scored_like_the_batch(
    trained: RiskModel, later: pd.DataFrame
) -> None:
    batch = trained.score(later).probability
    record = later.iloc[5].to_dict()
    record["date"] = later["date"].iloc[5].strftime("%Y-%m-%d")  # as a live message carries it
    one = trained.score(record_columns(record)).probability
    assert one[0] == pytest.approx(batch[5])


def test_explanations_name_features(trained: RiskModel, later: pd.DataFrame) -> None:
    explained = trained.explain(later.head(2), top=3)
    assert len(explained) == 2
    assert all(len(row) == 3 and row[0][0] in FEATURE_NAMES for row in explained)


def test_artifact_round_trip_scores_the_same(
    trained: RiskModel, model_dir: Path, later: pd.DataFrame
) -> None:
    loaded = artifact.load(model_dir)
    np.testing.assert_allclose(
        loaded.score(later).probability, trained.score(later).probability, rtol=1e-9
    )
    meta = orjson.loads((model_dir / "metadata.json").read_bytes())
    assert meta["format"] == "onewindow-risk-model"
    assert meta["date_range"] == ["2020-01-01", "2020-04-29"]
    assert {"lightgbm", "pandas", "numpy", "scikit-learn", "python"} <= set(meta["libraries"])
    assert meta["internal_validation"]["chosen"]["top"]["5"]["k"] > 0


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(model_dir, target)
    return target


def test_corrupted_artifact_is_refused_naming_the_file(model_dir: Path, tmp_path: Path) -> None:
    broken = _copy(model_dir, tmp_path)
    with (broken / "classifier.txt").open("ab") as f:
        f.write(b"\n")
    with pytest.raises(InvalidInput) as caught:
        artifact.load(broken)
    error = caught.value.errors[0]
    assert error.code == "checksum_mismatch"
    assert error.path.endswith("classifier.txt")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"format": "something-else"}, "not_an_artifact"),
        ({"format_version": 99}, "unsupported_version"),
        ({"features": ["a", "b"]}, "incompatible"),
    ],
)
def test_foreign_or_future_metadata_is_refused(
    model_dir: Path, tmp_path: Path, change: dict[str, object], code: str
) -> None:
    other = _copy(model_dir, tmp_path)
    meta = orjson.loads((other / "metadata.json").read_bytes())
    meta.update(change)
    (other / "metadata.json").write_bytes(orjson.dumps(meta))
    with pytest.raises(InvalidInput) as caught:
        artifact.load(other)
    assert caught.value.errors[0].code == code


def test_directory_without_metadata_is_not_an_artifact(tmp_path: Path) -> None:
    (tmp_path / "model.txt").write_text("tree\n")
    with pytest.raises(InvalidInput) as caught:
        artifact.load(tmp_path)
    assert caught.value.errors[0].code == "not_an_artifact"


def test_save_will_not_overwrite_a_foreign_directory(trained: RiskModel, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput) as caught:
        artifact.save(trained, tmp_path)
    assert caught.value.errors[0].code == "not_empty"
    assert (tmp_path / "notes.txt").read_text() == "mine"
