"""Shared fixtures: a migrated database on SQLite and, when ONEWINDOW_TEST_POSTGRES_URL is set,
on PostgreSQL (one schema per test worker, emptied between tests); a node with sample data."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from onewindow import auth, db
from onewindow.clock import FixedClock
from onewindow.config import Settings
from onewindow.node import Node
from onewindow.risk import Selectivity, Targets
from onewindow.tariff import import_rates, import_schedule

PG_URL = os.environ.get("ONEWINDOW_TEST_POSTGRES_URL")
DATA = resources.files("onewindow") / "data"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def sample(name: str) -> str:
    return (DATA / name).read_text()


def _pg_url(worker: str) -> str:
    assert PG_URL is not None
    base = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]
    return f"{base}?options=-csearch_path%3Dow_{worker}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine(worker_id: str) -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("set ONEWINDOW_TEST_POSTGRES_URL to run the PostgreSQL variant")
    admin = db.make_engine("postgresql+psycopg://" + PG_URL.split("://", 1)[1])
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS ow_{worker_id} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA ow_{worker_id}"))
    admin.dispose()
    engine = db.make_engine(_pg_url(worker_id))
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "node.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    engine: Engine = request.getfixturevalue("pg_engine")
    tables = [t for t in db.Base.metadata.sorted_tables]
    with engine.begin() as conn:
        names = ", ".join(t.name for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.transaction(db.session_factory(engine)) as s:
        yield s


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))


@pytest.fixture
def node(database_url: str, clock: FixedClock) -> Iterator[Node]:
    """A VN node with the sample schedule and rates; no random lane picks unless a test
    sets targets of its own."""
    settings = Settings(country="VN", currency="VND", database_url=database_url)
    selectivity = Selectivity(Targets(red=0.0, yellow=0.0, random_share=0.0), rng=random.Random(7))
    node = Node.open(settings, clock)
    node.selectivity = selectivity
    with node.transaction() as s:
        import_schedule(s, sample("sample_tariff.csv"))
        import_rates(s, sample("sample_rates.csv"))
    yield node
    node.engine.dispose()


@pytest.fixture
def tokens(node: Node) -> dict[str, str]:
    """API tokens for a trader (party 0101234567), another trader, an officer, a supervisor."""
    with node.transaction() as s:
        return {
            "trader": auth.create_user(s, "saigon", auth.Role.TRADER, "0101234567"),
            "other": auth.create_user(s, "hanoi", auth.Role.TRADER, "0309999999"),
            "officer": auth.create_user(s, "officer1", auth.Role.OFFICER, None),
            "supervisor": auth.create_user(s, "super1", auth.Role.SUPERVISOR, None),
        }
