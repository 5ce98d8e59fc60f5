"""A running node's shared resources: settings, database, clock, and the domains' parts.

Built once per process by `Node.open`, which migrates the database and runs each installed
domain's hooks (registering its exchange handlers, loading what it keeps while running).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow.kit import db, domain, migrate
from onewindow.kit.clock import Clock, SystemClock
from onewindow.kit.config import Settings, get_settings

P = TypeVar("P")


@dataclass
class Node:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = field(default_factory=SystemClock)
    # What a domain keeps while the node runs (risk's lanes, the lodging writer), by its type.
    parts: dict[Callable[[Node], Any], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None, clock: Clock | None = None) -> Node:
        if not domain.installed():  # the composition root forgot: no handler, no hook would run
            raise RuntimeError("no domains installed: call onewindow.domains.install() first")
        settings = settings or get_settings()
        engine = db.make_engine(settings.database_url)
        migrate.ensure_schema(engine)
        node = cls(settings, engine, db.session_factory(engine), clock or SystemClock())
        _opened.append(node)
        for each in domain.installed():
            if each.handlers:
                domain.load(each.handlers)()
            for hook in each.on_open:
                domain.load(hook)(node)
        return node

    def part(self, kind: Callable[[Node], P]) -> P:
        """The node's one `kind` (a class built from the node), made on first use."""
        found = self.parts.get(kind)
        if found is None:
            found = self.parts[kind] = kind(self)
        return found

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with db.transaction(self.sessions) as session:
            yield session

    def close(self) -> None:
        """Close its database connections (the node may be used again: they reopen)."""
        self.engine.dispose()


# Nodes this process opened and has not closed: a CLI command opens its node where it
# needs it, and the CLI closes it when the command ends (connections left to the garbage
# collector are closed at a random moment, with a ResourceWarning).
_opened: list[Node] = []


def close_all() -> None:
    while _opened:
        _opened.pop().close()
