"""The database's migrations: the base chain and a branch per domain.

The base chain (`onewindow/migrations/versions/`, 0001_core … 0011_ledger_checks) is frozen:
databases in the field are stamped with its revisions. Each installed domain with a
`migrations/` folder adds its own Alembic branch there, labelled with its name, whose first
revision starts from the base chain's head. A database is up to date when it stands at every
branch's head ("heads").

Not in `kit.db`: this needs the installed domains, and `kit.domain` (through the role rules
and `kit.auth`) imports `kit.db` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Engine

from onewindow.kit import domain

MIGRATIONS = Path(__file__).parents[1] / "migrations"  # env.py, the template, the base chain
BASE = "base"  # the name the base chain goes by in `branches`


@dataclass(frozen=True)
class Branch:
    """One folder of revisions: the base chain or a domain's branch."""

    name: str
    folder: Path
    current: str | None  # the newest of its revisions the database has applied
    head: str | None  # its newest revision


def folders() -> dict[str, Path]:
    """Where the revisions are, by branch: the base chain, then each installed domain's."""
    # With none, the domains' branches would be missing and a database stamped with them
    # could not be read: refuse rather than migrate half.
    if not domain.installed():
        raise RuntimeError("no domains installed: call onewindow.domains.install() first")
    found = {BASE: MIGRATIONS / "versions"}
    for each in domain.installed():
        if each.migrations is not None:
            found[each.name] = each.migrations
    return found


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # One folder a line: a path may hold spaces, commas or colons, never a newline.
    cfg.set_main_option("path_separator", "newline")
    locations = "\n".join(str(f) for f in folders().values())
    cfg.set_main_option("version_locations", locations.replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def current_heads(engine: Engine) -> tuple[str, ...]:
    """The revisions the database is stamped with (none: an empty database), sorted: the
    head of each branch, less those a stamped revision depends on."""
    with engine.connect() as conn:
        return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


def script_heads() -> tuple[str, ...]:
    """The newest revision of every branch, sorted: what `upgrade` brings a database to."""
    return tuple(sorted(script().get_heads()))


def branches(engine: Engine) -> list[Branch]:
    """Each branch's folder, its newest revision and the newest the database has applied."""
    scripts = script()
    applied = _applied(scripts, current_heads(engine))
    newest_first = list(scripts.walk_revisions())
    found = []
    for name, folder in folders().items():
        mine = [r for r in newest_first if _folder(r) == folder.resolve()]
        done = [r.revision for r in mine if r.revision in applied]
        found.append(
            Branch(name, folder, done[0] if done else None, mine[0].revision if mine else None)
        )
    return found


def up_to_date(engine: Engine) -> bool:
    """Whether the database has applied every revision. Not `current_heads == script_heads`:
    a revision that another branch's `depends_on` names is applied but no longer stamped."""
    scripts = script()
    return set(scripts.get_heads()) <= _applied(scripts, current_heads(engine))


def _applied(scripts: ScriptDirectory, current: tuple[str, ...]) -> set[str]:
    """The revisions applied to a database stamped `current`: those and all they stand on."""
    if not current:
        return set()
    return {r.revision for r in scripts.iterate_revisions(current, "base")}


def _folder(revision: Script) -> Path:
    return Path(revision.path).parent.resolve()


def upgrade(engine: Engine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Apply all migrations of every branch; return the heads before and after."""
    before = current_heads(engine)
    command.upgrade(alembic_config(engine), "heads")
    return before, current_heads(engine)


def ensure_schema(engine: Engine) -> None:
    """Every command that needs the database migrates it itself on first use."""
    if not up_to_date(engine):
        upgrade(engine)
