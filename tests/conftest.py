"""Shared fixtures: a migrated database on SQLite and, when ONEWINDOW_TEST_POSTGRES_URL is set,
on PostgreSQL (one schema per test worker, emptied between tests); a node with sample data."""

from __future__ import annotations

import copy
import os
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from _pytest.nodeid import NodeId
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tests.samples import acdd, form_d

from onewindow import domains
from onewindow.exchange import documents
from onewindow.exchange.handlers import Incoming, handler_for
from onewindow.exchange.models import OutgoingMessage
from onewindow.exchange.service import sync_partners
from onewindow.kit import auth, db, migrate
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import PartnerConfig, settings_class
from onewindow.kit.node import Node, close_all
from onewindow.risk import Selectivity, Targets
from onewindow.risk.lanes import lanes
from onewindow.tariff import import_rates, import_schedule

domains.install()  # as every composition root does first
PG_URL = os.environ.get("ONEWINDOW_TEST_POSTGRES_URL")
DATA = resources.files("onewindow") / "data"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def sample(name: str) -> str:
    return (DATA / name).read_text()


@pytest.hookimpl(trylast=True)  # after every conftest has added its marks, and after xdist
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--dist loadgroup` sends the tests of one `xdist_group` to one worker by a suffix that
    pytest-xdist 3.8 writes to `item._nodeid`, a field pytest 9.2 no longer reads (xdist issue
    1386): without this, the groups are silently ignored. Writes it where pytest 9.2 reads it;
    does nothing once xdist's own suffix shows."""
    if not config.getoption("loadgroup", False):
        return
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if names and not item.nodeid.endswith("@" + "_".join(sorted(names))):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")


FORM_D = form_d()
ACDD = acdd()


@pytest.fixture(scope="session")
def sample_form_d() -> Callable[[], dict[str, Any]]:
    return lambda: copy.deepcopy(FORM_D)


@pytest.fixture(scope="session")
def sample_acdd() -> Callable[[], dict[str, Any]]:
    return lambda: copy.deepcopy(ACDD)


def _pg_url(schema: str) -> str:
    assert PG_URL is not None
    base = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]
    return f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture(autouse=True)
def _close_nodes() -> Iterator[None]:
    """Every node a test opened has its connections closed after it (warnings are errors:
    a connection left to the garbage collector would fail whichever test runs then)."""
    yield
    close_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine(worker_id: str, testrun_uid: str) -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("set ONEWINDOW_TEST_POSTGRES_URL to run the PostgreSQL variant")
    # A schema per worker and per run, so that two runs on one server keep apart.
    schema = f"ow_{worker_id}_{testrun_uid[:10]}"
    admin = db.make_engine("postgresql+psycopg://" + PG_URL.split("://", 1)[1])
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = db.make_engine(_pg_url(schema))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own with no schema at all, to migrate step by step (migration tests:
    a database made by older code upgrades and keeps its rows)."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("set ONEWINDOW_TEST_POSTGRES_URL to run the PostgreSQL variant")
    base = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]
    schema = f"ow_mig_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = db.make_engine(f"{base}?options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


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
    settings = settings_class()(country="VN", currency="VND", database_url=database_url)
    selectivity = Selectivity(Targets(red=0.0, yellow=0.0, random_share=0.0), rng=random.Random(7))
    node = Node.open(settings, clock)
    lanes(node).selectivity = selectivity
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


# ---- two nodes in one process, for the flows between member states ----


def _node(
    path: Path, template: Path, country: str, currency: str, clock: FixedClock,
    countries: tuple[str, ...] = ("TH", "VN", "SG"),
) -> Node:  # fmt: skip
    shutil.copy(template, path)
    others = {c: PartnerConfig(endpoint=f"http://127.0.0.1/{c}") for c in countries if c != country}
    settings = settings_class()(
        country=country,
        currency=currency,
        database_url=f"sqlite:///{path}",
        partners=others,
        issuing_authority=f"Ministry of Commerce {country}",
        issuing_place="Bangkok" if country == "TH" else "Hanoi",
    )
    node = Node.open(settings, clock)
    lanes(node).selectivity = Selectivity(Targets(0.0, 0.0, 0.0), rng=random.Random(1))
    with node.transaction() as s:
        sync_partners(s, others, now=clock.now())
        import_schedule(s, (DATA / "sample_tariff.csv").read_text())
        import_rates(s, (DATA / "sample_rates.csv").read_text())
    return node


@pytest.fixture
def nodes(tmp_path: Path, sqlite_template: Path) -> dict[str, Node]:
    clock = FixedClock(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    return {
        "TH": _node(tmp_path / "th.db", sqlite_template, "TH", "THB", clock),
        "VN": _node(tmp_path / "vn.db", sqlite_template, "VN", "VND", clock),
    }


@pytest.fixture
def make_node(tmp_path: Path, sqlite_template: Path) -> Callable[..., Node]:
    """A node of `country` in this process, partner of `countries` (for a federation of
    other members than TH and VN: override `nodes` with them, and `relay` works on them)."""

    def make(country: str, currency: str, clock: FixedClock, countries: tuple[str, ...]) -> Node:
        path = tmp_path / f"{country.lower()}.db"
        return _node(path, sqlite_template, country, currency, clock, countries)

    return make


@pytest.fixture
def relay(nodes: dict[str, Node]) -> Callable[[str, str], list[str]]:
    """Deliver every queued message from one node to the other; return the document types."""

    def run(source: str, target: str) -> list[str]:
        with nodes[source].transaction() as s:
            queued = list(
                s.scalars(
                    select(OutgoingMessage).where(
                        OutgoingMessage.status == "queued", OutgoingMessage.receiver == target
                    )
                )
            )
            for m in queued:
                m.status = "delivered"
            batch = [
                (m.message_id, m.document_type, m.document_id, m.version, m.document)
                for m in queued
            ]
        for message_id, kind, document_id, version, xml in batch:
            incoming = Incoming(
                message_id,
                source,
                target,
                kind,
                document_id,
                version,
                documents.from_xml(kind, xml),
                nodes[target].clock.now(),
            )
            handler = handler_for(kind)
            assert handler is not None, kind
            with nodes[target].transaction() as s:
                handler(s, incoming)
        return [kind for _, kind, *_ in batch]

    return run
