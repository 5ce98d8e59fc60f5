"""The lanes a running node picks: its selectivity, and the registry's model it scores with.

One `Lanes` per node (`lanes(node)`), loaded when the node opens and again after `risk
activate` or `risk rollback`. The scores given so far come from the domain that keeps the
declarations, through the extension point `risk.recent_scores` (this domain knows none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from onewindow.kit import domain
from onewindow.kit.node import Node
from onewindow.risk import registry
from onewindow.risk.selectivity import ScoreWindow, Targets
from onewindow.risk.service import NoModel, Selectivity
from onewindow.risk.settings import RiskSettings

RecentScores = Callable[[Session, datetime, int], list[float]]


class Lanes:
    def __init__(self, node: Node) -> None:
        s = RiskSettings.of(node.settings)
        targets = Targets(float(s.red_target), float(s.yellow_target), float(s.random_share))
        self.node = node
        self.selectivity = Selectivity(targets)
        # The registry's activation this node scores with: (version, when activated), or None.
        self.model: tuple[str, datetime] | None = None

    def reload(self) -> str | None:
        """Score with the registry's active model (none: rule profiles and random picks only);
        at start-up and after `risk activate` or `risk rollback`. Returns its version.

        A new model scores on a new scale, so the lane thresholds start again from the scores
        this model has given so far; the model itself is loaded on first use."""
        with self.node.transaction() as session:
            active = registry.active_model(session)
            version, path, since = (
                (active.version, Path(active.path), active.activated_at)
                if active is not None
                else (None, None, None)
            )
        size = self.selectivity.window.size
        self.selectivity.window = ScoreWindow(size)
        if version is None or path is None or since is None:
            self.selectivity.scorer = NoModel()
            self.selectivity.past_scores = None
            self.model = None
            return None
        self.model = (version, since)
        self.selectivity.scorer = registry.ActiveModel(version, path)
        self.selectivity.past_scores = _ScoresSince(since, size)
        return version

    def follow_registry(self) -> None:
        """Reload the model if another process (`onewindow risk activate` or `rollback`) has
        changed the registry's active one since this node loaded it."""
        with self.node.transaction() as session:
            active = registry.active_model(session)
            current = (active.version, active.activated_at) if active is not None else None
        if current != self.model:
            self.reload()


def lanes(node: Node) -> Lanes:
    return node.part(Lanes)


def load(node: Node) -> None:
    """When the node opens: score with the registry's active model."""
    lanes(node).reload()


@dataclass(frozen=True)
class _ScoresSince:
    """The scores given since the model was activated, read when the window is first needed."""

    since: datetime
    limit: int

    def __call__(self, session: Session) -> list[float]:
        scores: list[float] = []
        for target in domain.contributions("risk.recent_scores").values():
            source: RecentScores = domain.load(target)
            scores += source(session, self.since, self.limit)
        return scores[-self.limit :]
