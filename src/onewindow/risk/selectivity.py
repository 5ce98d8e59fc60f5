"""Lane selection, in the order ASYCUDA uses: rule profiles, then random picks, then top-up by
score to the target rates. Pure: the caller supplies the random source and recent scores.

Targets are shares of all declarations: `red` to physical inspection, `yellow` to document
check. `random_share` is the part of inspections picked at random (exploration), so that the
model keeps seeing declarations it would not have chosen.
"""

from __future__ import annotations

import bisect
import random
from collections import deque
from dataclasses import dataclass, field

LANES = ("green", "yellow", "red")
# Below this many recent scores the distribution is too thin to set thresholds on.
MIN_SCORES = 50
RANK = {"green": 0, "blue": 0, "yellow": 1, "red": 2}


@dataclass(frozen=True)
class Targets:
    red: float = 0.05
    yellow: float = 0.15
    random_share: float = 0.10

    def __post_init__(self) -> None:
        if not (0 <= self.red <= 1 and 0 <= self.yellow <= 1 and self.red + self.yellow <= 1):
            raise ValueError("lane targets must be shares between 0 and 1 that add up to at most 1")
        if not 0 <= self.random_share <= 1:
            raise ValueError("random_share must be between 0 and 1")


@dataclass(frozen=True)
class Selection:
    lane: str
    reasons: tuple[str, ...]
    random: bool = False


@dataclass
class ScoreWindow:
    """The recent score distribution, so that thresholds follow drift and rates hold in a
    stream. Holds the last `size` scores."""

    size: int = 5000
    _recent: deque[float] = field(default_factory=deque)
    _sorted: list[float] = field(default_factory=list)

    def add(self, score: float) -> None:
        self._recent.append(score)
        bisect.insort(self._sorted, score)
        if len(self._recent) > self.size:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def chance_in_top(self, score: float, top_share: float) -> float | None:
        """The probability to give `score` of being in the top `top_share` of recent scores.

        1 or 0 away from the cut; at the cut, the share of the scores equal to it that the top
        still has room for. A learned model gives many declarations exactly the same score
        (same importer, goods and history), and `score >= cut` would then send all of them,
        far more than the target; drawing among the tied ones holds the rate.
        """
        size = len(self._sorted)
        if size < MIN_SCORES:
            return None
        above = size - bisect.bisect_right(self._sorted, score)
        tied = bisect.bisect_right(self._sorted, score) - bisect.bisect_left(self._sorted, score)
        room = top_share * size - above
        return min(1.0, max(0.0, room / max(tied, 1)))

    def __len__(self) -> int:
        return len(self._recent)


def select(
    rule_hits: list[tuple[str, str]],
    score: float | None,
    window: ScoreWindow,
    targets: Targets,
    rng: random.Random,
) -> Selection:
    """Choose the lane of one declaration. `rule_hits` are (lane, reason) of matched profiles."""
    reasons = [reason for _, reason in rule_hits]
    lane = max((lane for lane, _ in rule_hits), key=RANK.__getitem__, default="green")

    # Random picks come first among the non-rule choices so that they are a true sample.
    draw = rng.random()
    red_random = targets.red * targets.random_share
    yellow_random = targets.yellow * targets.random_share
    if draw < red_random:
        return _merge(lane, "red", reasons, "random selection for inspection", random_pick=True)
    if draw < red_random + yellow_random:
        return _merge(lane, "yellow", reasons, "random selection for document check", True)

    if score is not None:
        window.add(score)
        # The window holds only declarations not drawn at random, so the bands are shares of
        # those: together with the random draws they make the targets of all declarations.
        kept = 1 - (targets.red + targets.yellow) * targets.random_share
        scored = (1 - targets.random_share) / kept if kept > 0 else 0.0
        red = window.chance_in_top(score, targets.red * scored)
        either = window.chance_in_top(score, (targets.red + targets.yellow) * scored)
        if red is not None and either is not None and either > 0:
            # One draw for both bands, and only for a score tied at a cut, so that the red
            # band stays inside the yellow one and clear-cut scores use no randomness.
            tie = rng.random() if 0 < red < 1 or 0 < either < 1 else 0.0
            if tie < red:
                return _merge(lane, "red", reasons, f"risk score {score:.3f} in the red band")
            if tie < either:
                return _merge(lane, "yellow", reasons, f"risk score {score:.3f} in the yellow band")
    return Selection(lane, tuple(reasons))


def _merge(
    rule_lane: str, lane: str, reasons: list[str], reason: str, random_pick: bool = False
) -> Selection:
    if RANK[rule_lane] >= RANK[lane]:
        return Selection(rule_lane, tuple(reasons))
    return Selection(lane, (*reasons, reason), random_pick)
