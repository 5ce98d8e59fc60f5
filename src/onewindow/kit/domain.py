"""How a domain declares itself to the node, and the list of domains a process runs with.

Each domain package has a `domain.py` holding one `Domain`: its name, the domains it uses,
its router, its CLI commands, its tables, its exchange documents and handlers, its settings
section, its role rules and its hooks. References to code are "module:attribute" strings,
loaded when needed, so that `onewindow --help` lists every command without importing any
domain's code. The composition root (`onewindow.domains`) names the domains once and
`install`s them; the kit's pieces (the node, the CLI's `--as` check, migrations) read them
from here, and never name a domain themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from onewindow.kit import access


@dataclass(frozen=True)
class Command:
    """A top-level CLI command or group: where it is ("module:attribute") and its help line."""

    target: str
    help: str


@dataclass(frozen=True)
class Domain:
    name: str  # its package under onewindow/
    # The domains and shared services its code imports; tests/test_architecture.py fails the
    # build on any other import of a domain.
    uses: tuple[str, ...] = ()
    tables: str | None = None  # the module defining its SQLAlchemy tables
    routers: tuple[str, ...] = ()  # its FastAPI routers
    views: tuple[str, ...] = ()  # its routers of pages (the portals; see kit.web)
    commands: Mapping[str, Command] = field(default_factory=dict)
    api_rules: Mapping[tuple[str, str], access.Rule] = field(default_factory=dict)
    cli_rules: Mapping[str, access.Rule] = field(default_factory=dict)
    documents: str | None = None  # a tuple of exchange DocumentTypes it defines
    handlers: str | None = None  # a function registering its exchange handlers
    settings: str | None = None  # its settings section: a pydantic model of flat fields
    on_open: tuple[str, ...] = ()  # functions of the node, called when the node opens
    lifespan: str | None = None  # an async context manager of the node, around serving
    # What it lends another domain's extension point: {point: {name: "module:attribute"}},
    # such as {"risk.training_sources": {"native": ...}}: the lower domain finds it there
    # without importing the higher one (see `contributions`).
    contributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return f"onewindow.{self.name}"

    @property
    def migrations(self) -> Path | None:
        """Its Alembic branch's folder, `migrations/` in its package, if it has one."""
        folder = Path(str(resources.files(self.package))) / "migrations"
        return folder if folder.is_dir() else None


def load(target: str) -> Any:
    """The object that "module:attribute" names (a module, for a target without ':')."""
    module, _, attr = target.partition(":")
    # importlib, not an import statement: domains are loaded on demand, named by the root.
    found = importlib.import_module(module)
    return getattr(found, attr) if attr else found


_installed: tuple[Domain, ...] = ()


def install(domains: tuple[Domain, ...], rules: access.Rules) -> None:
    """Make `domains` the ones this process runs with (the composition root calls it once;
    again with the same list does nothing new). `rules`: the root's own (users, serve...)."""
    global _installed
    if domains == _installed:
        return
    names = [d.name for d in domains]
    if len(set(names)) != len(names):
        raise ValueError(f"a domain is listed twice: {names}")
    _installed = domains
    access.install([rules] + [access.Rules(dict(d.api_rules), dict(d.cli_rules)) for d in domains])


def installed() -> tuple[Domain, ...]:
    return _installed


def contributions(point: str) -> dict[str, str]:
    """What the installed domains lend to the extension point `point`, by name."""
    found: dict[str, str] = {}
    for domain in _installed:
        found.update(domain.contributes.get(point, {}))
    return found


def load_tables() -> None:
    """Import every installed domain's tables, so that the metadata holds them all."""
    for domain in _installed:
        if domain.tables:
            load(domain.tables)
