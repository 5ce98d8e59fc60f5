"""A running node's shared resources: settings, database, clock. Built once per process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow import db
from onewindow.clock import Clock, SystemClock
from onewindow.config import Settings, get_settings
from onewindow.declarations import acdd
from onewindow.declarations.lodging import Context
from onewindow.origin import receiving
from onewindow.risk import Selectivity, Targets


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
        return cls(settings, engine, db.session_factory(engine), clock or SystemClock())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with db.transaction(self.sessions) as session:
            yield session
