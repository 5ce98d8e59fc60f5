"""Signing in and out of the portals in Chromium, and the start page of each role."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from tests.integration.browser.conftest import PASSWORD, USERS, Axe, Screenshot, SignIn, path_of

from onewindow.kit import web
from onewindow.portal.service import WRONG


def _session_cookies(page: Page) -> list[str]:
    return [c["value"] for c in page.context.cookies() if c["name"] == web.COOKIE]


def test_a_wrong_password_shows_the_error_summary_linking_to_the_field(
    page: Page, axe: Axe, screenshot: Screenshot
) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill("saigon")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    link = summary.get_by_role("link", name=WRONG)
    expect(link).to_have_attribute("href", "#username")
    # the field it links to shows the same error, tied to the input for screen readers
    username = page.get_by_label("Username")
    expect(username).to_have_value("saigon")  # kept; the password is not
    expect(page.get_by_label("Password")).to_have_value("")
    expect(username).to_have_attribute("aria-describedby", re.compile(r"\busername-error\b"))
    expect(page.locator("#username-error")).to_contain_text(WRONG)
    link.click()
    assert page.url.endswith("/sign-in#username")
    assert path_of(page.url) == "/sign-in" and _session_cookies(page) == []
    axe(page)
    screenshot(page, "sign-in-error")


@pytest.mark.parametrize("username", list(USERS))
def test_the_right_password_lands_on_the_home_page_with_the_role(
    page: Page, sign_in: SignIn, username: str
) -> None:
    role, party = USERS[username]
    sign_in(page, username)
    assert path_of(page.url) == "/"
    expect(page.get_by_role("heading", level=1)).to_have_text("OneWindow VN")
    words = f"Signed in as {username}, {role.value.replace('_', ' ')}"
    if party:
        words += f" (party {party})"
    expect(page.locator("main")).to_contain_text(words + ".")
    expect(page.locator("header")).to_contain_text(f"{username} ({role.value.replace('_', ' ')})")
    [cookie] = [c for c in page.context.cookies() if c["name"] == web.COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_signing_out_ends_the_session_even_for_a_kept_cookie(page: Page, sign_in: SignIn) -> None:
    sign_in(page, "officer1")
    [kept] = page.context.cookies()
    assert kept["name"] == web.COOKIE
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert path_of(page.url) == "/sign-in" and _session_cookies(page) == []
    # the old cookie, put back, opens nothing: the token was revoked on the node
    page.context.add_cookies([kept])
    page.goto("/")
    assert path_of(page.url) == "/sign-in"
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


@pytest.mark.parametrize("username", list(USERS))
def test_the_home_page_passes_axe(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot, username: str
) -> None:
    sign_in(page, username)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    axe(page)
    screenshot(page, f"home-{USERS[username][0].value}")


def test_the_sign_in_page_passes_axe(page: Page, axe: Axe, screenshot: Screenshot) -> None:
    page.goto("/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    axe(page)
    screenshot(page, "sign-in")


def test_a_page_without_a_session_goes_to_sign_in_and_back(page: Page, sign_in: SignIn) -> None:
    page.goto("/")
    assert path_of(page.url) == "/sign-in"
    assert page.url.endswith("/sign-in?next=/")
    expect(page.locator("input[name=next]")).to_have_value("/")
    sign_in(page, "saigon")  # on the form it was sent to
    assert path_of(page.url) == "/"
    expect(page.locator("main")).to_contain_text("Signed in as saigon")


def test_signing_in_returns_to_the_page_asked_for(page: Page, sign_in: SignIn) -> None:
    """`next` is followed to a page other than the start page (any path of the site)."""
    page.goto("/sign-in?next=/api/v1/health")
    sign_in(page, "analyst1", PASSWORD)
    assert path_of(page.url) == "/api/v1/health"
    assert '"country":"VN"' in page.content().replace(" ", "")
