"""E-seals in Chromium: an officer opens the open alerts from the navigation, follows one to
its trip, finds the trip's map (the corridor, the track, the alerts marked and labelled) and
acknowledges the opened door with a note, after the page refused it without one. The pages
pass axe and are photographed (docs/portals/ with ONEWINDOW_SCREENSHOTS=1)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.integration.browser.conftest import Axe, Screenshot, SignIn, path_of
from tests.integration.browser.sealed import TRIP


def test_an_officer_follows_an_alert_to_its_trip_and_acknowledges_it(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot
) -> None:
    sign_in(page, "officer1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="E-seal alerts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("E-seal alerts")
    rows = page.locator("tbody tr").filter(has=page.get_by_role("link", name=TRIP))
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Door opened")  # newest first
    axe(page)
    screenshot(page, "officer-seal-alerts")

    rows.first.get_by_role("link", name=TRIP).click()
    assert path_of(page.url) == f"/seals/trips/{TRIP}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Trip {TRIP}")
    the_map = page.get_by_role("img", name=f"Map of trip {TRIP}")
    expect(the_map).to_be_visible()
    expect(the_map.locator("polyline.track")).to_have_count(1)
    expect(the_map.locator("g.alert")).to_have_count(2)
    door = the_map.get_by_role("img", name=re.compile(r"^Alert 2: Door opened, "))
    expect(door).to_have_attribute("aria-label", f"Alert 2: Door opened, {_when(page)}")
    axe(page)
    screenshot(page, "officer-seal-trip")

    form = page.locator(f"form[action='/seals/trips/{TRIP}/acknowledgement']")
    form.get_by_label("Alert", exact=True).select_option(label=_option(page, "Door opened"))
    form.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".error-summary")).to_contain_text("Field required")
    expect(page.locator(".error-summary")).to_be_focused()
    axe(page)
    form = page.locator(f"form[action='/seals/trips/{TRIP}/acknowledgement']")
    form.get_by_label("Note").fill("Driver called: customs seal checked at Chumphon, intact")
    form.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_have_text("The alert is acknowledged, with your note.")
    row = page.locator("tbody tr").filter(has_text="Door opened")
    expect(row).to_contain_text("officer1")
    expect(row).to_contain_text("customs seal checked at Chumphon, intact")
    options = page.get_by_label("Alert", exact=True).locator("option")
    expect(options).to_have_count(1)  # the detour is left open
    expect(options.first).to_contain_text("Off the corridor")


def _when(page: Page) -> str:
    """The time of alert 2, as the alerts' table shows it."""
    row = page.locator("tbody tr").filter(has=page.locator("td.number", has_text="2"))
    return row.locator("td").nth(2).inner_text()


def _option(page: Page, kind: str) -> str:
    options = page.get_by_label("Alert", exact=True).locator("option").all_inner_texts()
    return next(o for o in options if kind in o)
