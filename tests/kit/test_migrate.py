"""Migrations per domain, on SQLite and PostgreSQL: a database made before the domains had
branches (stamped 0011_ledger_checks) moves onto every branch and keeps its rows; a new
database gets exactly the schema of the models; a domain's own migration is applied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from onewindow import domains
from onewindow.cli.main import app
from onewindow.declarations.models import Declaration
from onewindow.kit import auth, db, domain, migrate
from onewindow.kit.audit import AuditEvent
from onewindow.kit.config import get_settings
from onewindow.kit.db import insert_many
from onewindow.tariff import import_schedule
from onewindow.tariff.models import TariffLine

from .test_db import _declaration

BASE_HEAD = "0011_ledger_checks"  # the last revision of the one chain before the branches
BRANCHES = tuple(
    d.name for d in domains.DOMAINS if d.migrations
)  # a domain without tables has none


def _stamped(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (auth.User, AuditEvent, TariffLine, Declaration)
        }


def _heads() -> dict[str, str]:
    """Each domain branch's newest revision: its first (`<name>_0001`) or a later one."""
    newest_first = list(migrate.script().walk_revisions())
    folders = migrate.folders()
    return {
        name: next(
            r.revision
            for r in newest_first
            if Path(r.path).parent.resolve() == folders[name].resolve()
        )
        for name in BRANCHES
    }


def test_every_domain_has_a_branch_starting_from_the_base_chain() -> None:
    scripts = migrate.script()
    installed = {d.name: d for d in domains.DOMAINS}
    for name in BRANCHES:
        first = scripts.get_revision(name)  # a branch label names the branch's first revision
        assert first is not None and first.revision == f"{name}_0001"
        assert first.down_revision == BASE_HEAD
        assert Path(first.path).parent == installed[name].migrations
    assert set(migrate.script_heads()) == set(_heads().values())
    assert list(migrate.folders()) == ["base", *BRANCHES]


def test_a_database_of_the_single_chain_moves_onto_every_branch(empty_engine: Engine) -> None:
    command.upgrade(migrate.alembic_config(empty_engine), BASE_HEAD)  # as today's main leaves it
    assert _stamped(empty_engine) == {BASE_HEAD}
    with db.transaction(db.session_factory(empty_engine)) as s:
        auth.create_user(s, "saigon", auth.Role.TRADER, "0101234567")  # and its audit event
        import_schedule(s, (resources.files("onewindow") / "data/sample_tariff.csv").read_text())
        insert_many(s, Declaration, [_declaration("VNHPH-2026-0000001")])
    before = _counts(empty_engine)
    assert all(before.values()), before
    before_branches = {b.name: b.current for b in migrate.branches(empty_engine)}
    assert before_branches == {"base": BASE_HEAD} | dict.fromkeys(BRANCHES, None)

    assert migrate.upgrade(empty_engine) == ((BASE_HEAD,), migrate.script_heads())
    assert _stamped(empty_engine) == set(_heads().values())
    assert _counts(empty_engine) == before
    with db.transaction(db.session_factory(empty_engine)) as s:
        assert auth.get_user(s, "saigon").party_id == "0101234567"
    assert all(b.current == b.head for b in migrate.branches(empty_engine))


def test_opening_a_database_of_the_single_chain_upgrades_it(empty_engine: Engine) -> None:
    command.upgrade(migrate.alembic_config(empty_engine), BASE_HEAD)
    assert not migrate.up_to_date(empty_engine)
    migrate.ensure_schema(empty_engine)  # what Node.open does
    assert migrate.current_heads(empty_engine) == migrate.script_heads()
    assert migrate.up_to_date(empty_engine)


def test_a_new_database_gets_every_head_and_the_models_schema(empty_engine: Engine) -> None:
    assert migrate.upgrade(empty_engine)[0] == ()
    assert migrate.current_heads(empty_engine) == migrate.script_heads()
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.Base.metadata) == []
    found = {b.name: (b.current, b.head) for b in migrate.branches(empty_engine)}
    assert found["base"] == (BASE_HEAD, BASE_HEAD)
    assert found["ledger"] == ("ledger_0001", "ledger_0001")


def test_db_commands_show_every_branch(
    empty_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    command.upgrade(migrate.alembic_config(empty_engine), BASE_HEAD)
    url = empty_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["db", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    heads = _heads()
    try:
        status = json.loads(run("status", "--json"))
        assert status["revision"] == [BASE_HEAD]
        assert status["latest"] == list(migrate.script_heads())
        assert status["branches"] == {"base": {"revision": BASE_HEAD, "latest": BASE_HEAD}} | {
            n: {"revision": None, "latest": heads[n]} for n in BRANCHES
        }
        shown = run("status")
        assert "behind on " + ", ".join(BRANCHES) in shown
        assert all(heads[n] in shown for n in BRANCHES) and BASE_HEAD in shown
        done = json.loads(run("upgrade", "--json"))
        assert (done["before"], done["after"]) == ([BASE_HEAD], status["latest"])
        assert done["branches"]["base"] == {"before": BASE_HEAD, "after": BASE_HEAD}
        assert done["branches"]["risk"] == {"before": None, "after": "risk_0001"}
        assert "already up to date" in run("upgrade")
        assert "up to date" in run("status") and "behind" not in run("status")
    finally:
        get_settings.cache_clear()


# ---- a domain with a migration of its own ----

BRANCH_POINT = """
revision = "scratch_0001"
down_revision = "0011_ledger_checks"
branch_labels = ("scratch",)
depends_on = None


def upgrade() -> None:
    pass
"""

NOTES = """
import sqlalchemy as sa
from alembic import op

revision = "scratch_0002"
down_revision = "scratch_0001"
branch_labels = None
depends_on = "declarations"  # its table references the declarations domain's


def upgrade() -> None:
    op.create_table(
        "scratch_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("declaration_id", sa.Integer(), sa.ForeignKey("declarations.id")),
        sa.Column("note", sa.Text(), nullable=False),
    )
"""


@dataclass(frozen=True)
class _Scratch(domain.Domain):
    """A domain whose package does not exist: its folder is given, not found in a package."""

    folder: Path | None = None

    @property
    def migrations(self) -> Path | None:
        return self.folder


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[domain.Domain]:
    folder = tmp_path / "scratch_migrations"
    folder.mkdir()
    (folder / "scratch_0001_branch.py").write_text(BRANCH_POINT)
    (folder / "scratch_0002_notes.py").write_text(NOTES)
    try:
        yield _Scratch("scratch", folder=folder)
    finally:
        domain.install(domains.DOMAINS, domains.RULES)


def _no_upgrade(engine: Engine) -> None:
    raise AssertionError("upgraded a database that was up to date")


def test_a_domain_migration_is_applied(
    empty_engine: Engine, scratch: domain.Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    heads = _heads()
    migrate.upgrade(empty_engine)  # the node as it was, then a domain with a migration comes
    domain.install((*domains.DOMAINS, scratch), domains.RULES)
    assert "scratch_0002" in migrate.script_heads()
    migrate.ensure_schema(empty_engine)
    assert "scratch_notes" in inspect(empty_engine).get_table_names()
    # declarations_0001 is applied but not stamped even if it is its branch's newest:
    # scratch_0002 depends on it.
    kept = set(heads.values()) - {"declarations_0001"}
    assert _stamped(empty_engine) == kept | {"scratch_0002"}
    assert migrate.up_to_date(empty_engine)
    monkeypatch.setattr(migrate, "upgrade", _no_upgrade)
    migrate.ensure_schema(empty_engine)  # up to date: opening it again migrates nothing
    assert domain.installed()[-1] is scratch  # migrating did not put the standard list back
    found = {b.name: (b.current, b.head) for b in migrate.branches(empty_engine)}
    assert found["scratch"] == ("scratch_0002", "scratch_0002")
    assert found["declarations"] == (heads["declarations"], heads["declarations"])
    with db.transaction(db.session_factory(empty_engine)) as s:
        insert_many(s, Declaration, [_declaration("VNHPH-2026-0000001")])
        s.execute(text("INSERT INTO scratch_notes (declaration_id, note) VALUES (1, 'seen')"))
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT note FROM scratch_notes")).scalar_one() == "seen"
