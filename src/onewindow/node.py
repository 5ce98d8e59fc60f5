"""A running node's shared resources: settings, database, clock. Built once per process."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow.declarations import acdd
from onewindow.declarations.lodging import Context
from onewindow.kit import db
from onewindow.kit.clock import Clock, SystemClock
from onewindow.kit.config import Settings, get_settings
from onewindow.origin import receiving
from onewindow.risk import NoModel, ScoreWindow, Selectivity, Targets, registry


def register_handlers() -> None:
    """The documents this node accepts from partners, and who handles each."""
    receiving.register()
    acdd.register()


@dataclass
class Node:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    selectivity: Selectivity | None = None
    # The registry's activation this node scores with: (version, when activated), or None.
    model: tuple[str, datetime] | None = None

    def __post_init__(self) -> None:
        if self.selectivity is None:
            s = self.settings
            targets = Targets(float(s.red_target), float(s.yellow_target), float(s.random_share))
            self.selectivity = Selectivity(targets)

    @property
    def context(self) -> Context:
        assert self.selectivity is not None
        s = self.settings
        return Context(
            s.country, s.currency, self.clock, self.selectivity, s.max_items, frozenset(s.partners)
        )

    @classmethod
    def open(cls, settings: Settings | None = None, clock: Clock | None = None) -> Node:
        settings = settings or get_settings()
        engine = db.make_engine(settings.database_url)
        db.ensure_schema(engine)
        register_handlers()
        node = cls(settings, engine, db.session_factory(engine), clock or SystemClock())
        node.reload_model()
        return node

    def reload_model(self) -> str | None:
        """Score with the registry's active model (none: rule profiles and random picks only);
        at start-up and after `risk activate` or `risk rollback`. Returns its version.

        A new model scores on a new scale, so the lane thresholds start again from the scores
        this model has given so far; the model itself is loaded on first use."""
        assert self.selectivity is not None
        with self.transaction() as session:
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
        with self.transaction() as session:
            active = registry.active_model(session)
            current = (active.version, active.activated_at) if active is not None else None
        if current != self.model:
            self.reload_model()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with db.transaction(self.sessions) as session:
            yield session


@dataclass(frozen=True)
class _ScoresSince:
    """The scores given since the model was activated, read when the window is first needed."""

    since: datetime
    limit: int

    def __call__(self, session: Session) -> list[float]:
        # importlib: the history module brings pandas, which only a node with an active model
        # needs; every other command starts without it.
        history = importlib.import_module("onewindow.declarations.history")
        scores: list[float] = history.recent_scores(session, self.since, self.limit)
        return scores
