"""Lane thresholds on the recent score distribution hold the target rates in a stream, also
when a learned model gives many declarations exactly the same score."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from onewindow.risk.selectivity import MIN_SCORES, ScoreWindow, Targets, select


def _lanes(scores: list[float], targets: Targets, seed: int = 0) -> Counter[str]:
    window, rng = ScoreWindow(), random.Random(seed)
    return Counter(select([], s, window, targets, rng).lane for s in scores)


@pytest.mark.parametrize("distinct", [3, 7, 1000])
def test_rates_hold_with_tied_scores(distinct: int) -> None:
    """A handful of distinct scores (same importer, goods and history give the same score)
    must not send every tied declaration to red."""
    rng = random.Random(distinct)
    levels = sorted(rng.random() for _ in range(distinct))
    # Most declarations low, a few high: the shape of a real model's scores.
    weights = [2.0 ** (-i) for i in range(distinct)][::-1] if distinct < 10 else None
    scores = rng.choices(levels[::-1], weights=weights, k=20_000)
    lanes = _lanes(scores, Targets(0.05, 0.15, 0.10))
    assert lanes["red"] / 20_000 == pytest.approx(0.05, abs=0.006)
    assert lanes["yellow"] / 20_000 == pytest.approx(0.15, abs=0.01)


def test_random_picks_are_the_configured_share_of_inspections() -> None:
    rng = random.Random(1)
    window, picks = ScoreWindow(), Counter()
    for _ in range(40_000):
        chosen = select([], rng.random(), window, Targets(0.1, 0.2, 0.25), rng)
        picks[(chosen.lane, chosen.random)] += 1
    red = picks[("red", True)] + picks[("red", False)]
    assert red / 40_000 == pytest.approx(0.1, abs=0.005)
    assert picks[("red", True)] / red == pytest.approx(0.25, abs=0.03)


def test_no_score_based_lane_before_the_window_has_enough_scores() -> None:
    window, rng = ScoreWindow(), random.Random(2)
    first = [select([], 0.99, window, Targets(0.5, 0.3, 0.0), rng).lane for _ in range(10)]
    assert first == ["green"] * 10
    assert len(window) == 10 < MIN_SCORES


def test_a_rule_hit_outranks_the_score() -> None:
    window, rng = ScoreWindow(), random.Random(3)
    for _ in range(100):
        select([], 0.1, window, Targets(0.05, 0.15, 0.0), rng)
    chosen = select([("red", "profile X: why")], 0.0, window, Targets(0.05, 0.15, 0.0), rng)
    assert chosen.lane == "red" and chosen.reasons == ("profile X: why",)
