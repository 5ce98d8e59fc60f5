"""The portals in a real browser: one node process and one Chromium for the whole session.

The node (`onewindow serve`, plain HTTP on loopback, SQLite in a temporary folder) is seeded
first through the Python API: migrations, the sample tariff, rates and customs offices, a user
of every role with a portal password (`USERS`, `PASSWORD`), the sample Form D, two rule
profiles (motor cars to red, T-shirts to yellow), two risk models registered (none active) and
three declarations lodged (`Seeded`, the `seeded` fixture), and a trip under seal with two
open alerts (`sealed.py`). No lane is picked at random, and a
model sends nothing to a lane before it has scored 50 declarations: lanes come from the
profiles only. Chromium is Debian's (/usr/bin/chromium), driven by Playwright's sync API; each
test gets a fresh context and page (`page`; `new_page()` for another person at the same time),
so no cookie passes from one test to the next. Helpers, as fixtures: `sign_in(page, username)`
fills the real sign-in form; `axe(page)` fails on any serious or critical accessibility
violation (axe-core from node_modules/); `screenshot(page, name)` saves a full-page PNG (in
docs/portals/ when ONEWINDOW_SCREENSHOTS=1, `make screenshots`).

Every test here runs in one xdist group ("browser"), so one worker runs them and one Chromium
is up at a time. Without Chromium or axe-core the tests fail, saying to run `make test`, which
installs both.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)
from tests.integration.browser.sealed import seal_trip
from tests.integration.conftest import BIN, NodeProcess, free_port
from tests.risk.conftest import make_frame

from onewindow.declarations import service as declarations
from onewindow.declarations.context import context
from onewindow.kit import auth
from onewindow.kit.auth import Principal, Role
from onewindow.kit.config import settings_class
from onewindow.kit.node import Node
from onewindow.origin import CertificateCreate, record_certificate
from onewindow.portal import set_password
from onewindow.reference import import_list
from onewindow.risk import registry
from onewindow.risk.artifact import save
from onewindow.risk.learning import Settings, train
from onewindow.risk.service import add_profile
from onewindow.tariff import import_rates, import_schedule

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DOCS = ROOT / "docs" / "portals"
DATA = resources.files("onewindow") / "data"
# No GPU, no sandbox (tests may run as root), and nothing fetched from the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-test password"  # every user's: these are test users of a throwaway node
USERS: dict[str, tuple[Role, str | None]] = {
    "saigon": (Role.TRADER, "0101234567"),
    "officer1": (Role.OFFICER, None),
    "super1": (Role.SUPERVISOR, None),
    "admin1": (Role.ADMINISTRATOR, None),
    "moc1": (Role.ISSUING_AUTHORITY, None),
    "analyst1": (Role.ANALYST, None),
}
TRADER = Principal("saigon", Role.TRADER, "0101234567")
SAMPLE: dict[str, Any] = json.loads((DATA / "sample_declaration.json").read_text())
CERTIFICATE: dict[str, Any] = json.loads((DATA / "sample_certificate.json").read_text())
PROFILES = [
    {"name": "Motor cars", "lane": "red", "hs_prefix": "8703",
     "reason": "Motor cars: undervaluation seen at every port"},
    {"name": "Cotton T-shirts", "lane": "yellow", "hs_prefix": "6109",
     "reason": "T-shirts: check the origin documents"},
]  # fmt: skip
SERIOUS = ("serious", "critical")
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}  # screenshots are full pages, 1280 wide
WAIT_MS = 60_000  # how long a page or an expect() may take on a loaded machine: no failure
expect.set_options(timeout=WAIT_MS)

SignIn = Callable[..., None]
Axe = Callable[[Page], None]
Screenshot = Callable[[Page, str], Path]
NewPage = Callable[[], Page]


@dataclass(frozen=True)
class Seeded:
    """What the node holds before the first test: the day the declarations were lodged (UTC),
    their numbers by lane (lodged by saigon: green at VNHPH, red at VNDAD, yellow at VNSGN),
    and the risk models' versions, older first."""

    day: date
    green: str
    red: str
    yellow: str
    models: tuple[str, str]


@pytest.hookimpl(tryfirst=True)  # before the groups are read (tests/conftest.py, xdist)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test of this folder, present and future, in the one "browser" group."""
    if not config.pluginmanager.hasplugin("xdist"):  # `-p no:xdist`: one process anyway
        return
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.xdist_group("browser"))


def _missing(path: Path, what: str) -> None:
    if not path.exists():
        pytest.fail(
            f"{what} is missing ({path}): run `make test`, which installs it", pytrace=False
        )


def _declaration(office: str, *items: dict[str, Any]) -> dict[str, Any]:
    """The sample declaration, lodged at `office` with `items` (no Form D claimed)."""
    document = copy.deepcopy(SAMPLE)
    document["office"] = office
    document["transport"]["port_of_discharge"] = office
    document["items"] = [
        {"origin": "TH", "quantity": "10", "unit": "PCE", "net_mass_kg": "50",
         "gross_mass_kg": "60", "customs_value": "5000.00"} | item
        for item in items
    ]  # fmt: skip
    return document


def _models(folder: Path) -> list[Path]:
    """Two small risk models (different settings, so two versions), trained on synthetic
    history without a search: a second each."""
    history = make_frame(3000, seed=1, start="2020-01-01", days=120)
    out = []
    for trees in (30, 20):
        path = folder / f"artifact-{trees}"
        save(train(history, settings=Settings(n_estimators=trees)), path)
        out.append(path)
    return out


def _seed(database_url: str, folder: Path) -> Seeded:
    settings = settings_class()(
        country="VN",
        currency="VND",
        database_url=database_url,
        key_file=folder / "keys" / "node-ed25519.pem",
        random_share=0,
    )
    artifacts = _models(folder / "training")
    node = Node.open(settings)  # migrates the new database
    try:
        now = node.clock.now()
        with node.transaction() as s:
            import_schedule(s, (DATA / "sample_tariff.csv").read_text())
            import_rates(s, (DATA / "sample_rates.csv").read_text())
            offices = (DATA / "sample_offices.csv").read_text()
            import_list(s, "offices", offices, date(now.year, 1, 1), actor="test", at=now)
            for username, (role, party) in USERS.items():
                auth.create_user(s, username, role, party)
                set_password(s, username, PASSWORD, now, actor="test")
            record_certificate(s, CertificateCreate.model_validate(CERTIFICATE), now)
            for profile in PROFILES:
                add_profile(s, profile, by="super1", now=now)
            models = [
                registry.register(s, path, folder / "models", by="analyst1", now=now).version
                for path in artifacts
            ]
        documents = [
            _declaration("VNHPH", {"hs_code": "84713020", "description": "Laptops"}),
            _declaration("VNDAD", {"hs_code": "87032359", "description": "Motor cars",
                                   "quantity": "2", "customs_value": "40000.00"}),
            _declaration("VNSGN", {"hs_code": "61091010", "description": "Cotton T-shirts",
                                   "quantity": "500"}),
        ]  # fmt: skip
        with node.transaction() as s:
            numbers = declarations.lodge(s, TRADER, documents, context(node))
        with node.transaction() as s:
            seal_trip(s, node.clock.now())  # a trip under seal with two open alerts
    finally:
        node.close()
    green, red, yellow = numbers
    return Seeded(now.date(), green, red, yellow, (models[0], models[1]))


@pytest.fixture(scope="session")
def _portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NodeProcess, Seeded]]:
    """A VN node serving the portals on plain HTTP at 127.0.0.1, seeded with every role."""
    folder = tmp_path_factory.mktemp("portal-node")
    database_url = f"sqlite:///{folder / 'node.db'}"
    seeded = _seed(database_url, folder)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")} | {
        "ONEWINDOW_DATABASE_URL": database_url,
        "ONEWINDOW_COUNTRY": "VN",
        "ONEWINDOW_CURRENCY": "VND",
        "ONEWINDOW_PORT": str(port),
        "ONEWINDOW_KEY_FILE": str(folder / "keys" / "node-ed25519.pem"),
        "ONEWINDOW_RANDOM_SHARE": "0",
    }
    node = NodeProcess([str(BIN), "serve"], env, f"http://127.0.0.1:{port}",
                       folder / "serve.log", cwd=folder, country="VN")  # fmt: skip
    try:
        yield node.start(), seeded
    finally:
        node.stop()


@pytest.fixture(scope="session")
def portal_node(_portal: tuple[NodeProcess, Seeded]) -> NodeProcess:
    return _portal[0]


@pytest.fixture(scope="session")
def seeded(_portal: tuple[NodeProcess, Seeded]) -> Seeded:
    return _portal[1]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, once for the session. `launch` gives it a new, empty profile in a
    temporary folder of its own, removed when it closes."""
    _missing(CHROMIUM, "Chromium")
    _missing(AXE, "axe-core")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def new_page(browser: Browser, portal_node: NodeProcess) -> Iterator[NewPage]:
    """Fresh contexts (no cookies), each with a page on the node: one per person when a test
    has two at work at once. The test fails too if a page threw a script error or the node
    answered any request with a 5xx."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def answered(response: Response) -> None:
        if response.status >= 500:
            problems.append(f"{response.status} from {response.request.method} {response.url}")

    def make() -> Page:
        context = browser.new_context(base_url=portal_node.url, viewport=VIEWPORT)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("response", answered)
        return page

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
    assert not problems, problems


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A fresh context and page on the node (see `new_page`)."""
    return new_page()


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def sign_in() -> SignIn:
    def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
        """Sign in through the real form (opening it unless the page is on it already); the
        node must answer 303, and the page must arrive where it was sent."""
        if path_of(page.url) != "/sign-in":
            page.goto("/sign-in")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)

        def posted(response: Response) -> bool:
            return response.request.method == "POST" and path_of(response.url) == "/sign-in"

        with page.expect_response(posted) as answer:
            page.get_by_role("button", name="Sign in").click()
        if answer.value.status != 303:
            page.wait_for_load_state()
            raise AssertionError(
                f"signing in as {username} answered {answer.value.status}: "
                f"{page.locator('main').inner_text()}"
            )
        page.wait_for_url(lambda url: path_of(url) != "/sign-in")  # and its page loaded

    return sign_in


@pytest.fixture
def axe() -> Axe:
    source = AXE.read_text()

    def check(page: Page) -> None:
        """No serious or critical violation of axe-core's rules on the page as it is now.
        Evaluated, not added as a script tag: a Content-Security-Policy cannot block it."""
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(source)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        found = [v for v in result["violations"] if v["impact"] in SERIOUS]
        if found:
            raise AssertionError(f"axe on {path_of(page.url)}:\n" + "\n".join(
                f"- {v['id']} ({v['impact']}): {v['help']} at "
                + ", ".join(" ".join(node["target"]) for node in v["nodes"])
                for v in found
            ))  # fmt: skip

    return check


@pytest.fixture(scope="session")
def _screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("ONEWINDOW_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screenshot(_screenshots: Path) -> Screenshot:
    def take(page: Page, name: str) -> Path:
        """The whole page as `name`.png."""
        path = _screenshots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        return path

    return take
