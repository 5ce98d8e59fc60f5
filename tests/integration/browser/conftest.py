"""The portals in a real browser: one node process and one Chromium for the whole session.

The node (`onewindow serve`, plain HTTP on loopback, SQLite in a temporary folder) is seeded
first through the Python API: migrations, the sample tariff, rates and customs offices, and a
user of every role with a portal password (`USERS`, `PASSWORD`). Chromium is Debian's
(/usr/bin/chromium), driven by Playwright's sync API; each test gets a fresh context and page,
so no cookie passes from one test to the next. Helpers, as fixtures: `sign_in(page, username)`
fills the real sign-in form; `axe(page)` fails on any serious or critical accessibility
violation (axe-core from node_modules/); `screenshot(page, name)` saves a full-page PNG (in
docs/portals/ when ONEWINDOW_SCREENSHOTS=1, `make screenshots`).

Every test here runs in one xdist group ("browser"), so one worker runs them and one Chromium
is up at a time. Without Chromium or axe-core the tests fail, saying to run `make test`, which
installs both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, Response, expect, sync_playwright
from tests.integration.conftest import BIN, NodeProcess, free_port

from onewindow.kit import auth
from onewindow.kit.auth import Role
from onewindow.kit.config import settings_class
from onewindow.kit.node import Node
from onewindow.portal import set_password
from onewindow.reference import import_list
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
SERIOUS = ("serious", "critical")
WAIT_MS = 60_000  # how long a page or an expect() may take on a loaded machine: no failure
expect.set_options(timeout=WAIT_MS)

SignIn = Callable[..., None]
Axe = Callable[[Page], None]
Screenshot = Callable[[Page, str], Path]


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


def _seed(database_url: str, folder: Path) -> None:
    settings = settings_class()(
        country="VN",
        currency="VND",
        database_url=database_url,
        key_file=folder / "keys" / "node-ed25519.pem",
    )
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
    finally:
        node.close()


@pytest.fixture(scope="session")
def portal_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """A VN node serving the portals on plain HTTP at 127.0.0.1, seeded with every role."""
    folder = tmp_path_factory.mktemp("portal-node")
    database_url = f"sqlite:///{folder / 'node.db'}"
    _seed(database_url, folder)
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
        yield node.start()
    finally:
        node.stop()


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
def page(browser: Browser, portal_node: NodeProcess) -> Iterator[Page]:
    """A fresh context (no cookies) and page on the node. The test fails too if the page
    threw a script error or the node answered any request with a 5xx."""
    context = browser.new_context(base_url=portal_node.url, viewport={"width": 1024, "height": 768})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    problems: list[str] = []

    def answered(response: Response) -> None:
        if response.status >= 500:
            problems.append(f"{response.status} from {response.request.method} {response.url}")

    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("response", answered)
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems


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
