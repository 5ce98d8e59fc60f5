"""The portals' flows end to end in Chromium, as people do them: a trader lodges in the form
and pays (green: released, the release note downloaded); a red declaration goes through an
officer's inspection with a corrected value, the trader pays the reassessed amount and the
officer releases it; a supervisor activates a risk model and rolls back; an analyst filters
the dashboard and downloads CSV; a bad field in the lodging form is shown and nothing is
lodged. Every main page passes axe and is photographed (docs/portals/ with
ONEWINDOW_SCREENSHOTS=1).

The node is the session's (conftest): what a test lodges stays for the next ones, so each test
finds its own declarations by number and never counts on another test having run.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Response, expect
from tests.integration.browser.conftest import (
    Axe,
    NewPage,
    Screenshot,
    Seeded,
    SignIn,
    path_of,
)

# The header of every declaration these tests lodge: by the form's fieldset, label -> value.
HEADER: dict[str, dict[str, str]] = {
    "Declaration": {"Customs office (UN/LOCODE)": "VNHPH", "Country of export": "TH"},
    "Parties": {
        "Declarant's name": "Saigon Logistics JSC",
        "Importer's id": "0101234567",
        "Importer's name": "Saigon Logistics JSC",
        "Importer's address": "1 Le Loi, HCMC",
        "Importer's country": "VN",
        "Exporter's name": "Siam Devices Co.",
        "Exporter's address": "99 Rama IV, Bangkok",
        "Exporter's country": "TH",
    },
    "Transport": {
        "Arrival date": "2026-11-20",
        "Port of loading": "THLCH",
        "Port of discharge": "VNHPH",
        "Vessel or flight": "MV Mekong Star",
    },
    "Invoice": {"Number": "INV-001", "Date": "2026-11-10", "Currency": "USD", "Incoterm": "CIF"},
}
# Valued at the sample rate in force on the invoice's date, 26,350 VND to the dollar.
SMARTPHONES = {
    "HS code": "85171300", "Description of the goods": "Smartphones", "Origin": "TH",
    "Quantity": "100", "Unit": "PCE", "Net mass (kg)": "25.0", "Gross mass (kg)": "30.0",
    "Customs value": "20000.00", "Form D reference": "TH-2026-000123",
}  # fmt: skip
CREAMS = {
    "HS code": "33049930", "Description of the goods": "Cosmetic creams", "Origin": "KR",
    "Quantity": "200", "Unit": "KGM", "Net mass (kg)": "200", "Gross mass (kg)": "220",
    "Customs value": "3000.00",
}  # fmt: skip
CAR = {
    "HS code": "87032359", "Description of the goods": "Motor car, 2000 cc", "Origin": "JP",
    "Quantity": "1", "Unit": "PCE", "Net mass (kg)": "1200", "Gross mass (kg)": "1400",
    "Customs value": "20000.00",
}  # fmt: skip


# ---- helpers ----


def fill(scope: Page | Locator, values: Mapping[str, str]) -> None:
    for label, value in values.items():
        scope.get_by_label(label, exact=True).fill(value)


def group(page: Page, name: str) -> Locator:
    """A fieldset, by its legend."""
    return page.get_by_role("group", name=name, exact=True)


def fill_header(page: Page) -> None:
    expect(page.get_by_label("Declarant's id")).to_have_value("0101234567")  # the user's party
    for legend, values in HEADER.items():
        fill(group(page, legend), values)
    group(page, "Transport").get_by_label("Mode").select_option("1")


def summary(page: Page, key: str) -> Locator:
    """The value beside `key` in the page's summary lists (the last, if several have it)."""
    return page.locator(f"xpath=//dt[normalize-space()='{key}']/following-sibling::dd[1]").last


def posted(path: str) -> object:
    def match(response: Response) -> bool:
        return response.request.method == "POST" and path_of(response.url) == path

    return match


def lodge(page: Page, *items: Mapping[str, str]) -> str:
    """Lodge a declaration in the form (the header and `items`, one added at a time), check
    its duties and submit it; return its number, on its page."""
    page.goto("/declarations/new")
    fill_header(page)
    for n, item in enumerate(items, start=1):
        if n > 1:
            page.get_by_role("button", name="Add another item").click()
        fill(group(page, f"Item {n}"), item)
    page.get_by_role("button", name="Check duties and taxes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    page.get_by_role("button", name="Submit the declaration").click()
    expect(page.get_by_role("status")).to_have_text("The declaration is lodged.")
    found = re.fullmatch(r"/declarations/([A-Z0-9-]+)", path_of(page.url))
    assert found is not None, page.url
    return found.group(1)


def status_line(page: Page) -> Locator:
    """The declaration page's line with its status and lane tags."""
    return page.locator("main p").filter(has_text="Lane")


def pay(page: Page, due: str, reference: str) -> None:
    """Pay the amount due, as the payment form offers it (`due` as the page shows it)."""
    form = page.locator("form[action$='/payment']")
    expect(form.get_by_text(f"The amount due is {due}")).to_be_visible()
    expect(form.get_by_label("Amount (VND)")).to_have_value(due.replace(",", "").split()[0])
    form.get_by_label("Payment or guarantee reference").fill(reference)
    form.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_role("status")).to_have_text("The payment is recorded.")


def reflows(page: Page) -> None:
    """Nothing scrolls sideways at 1280 pixels wide; at 320 (WCAG's reflow), nothing but the
    data tables, which may. Leaves the page 320 wide: call it last."""
    width = "() => document.documentElement.scrollWidth"
    assert page.evaluate(width) <= 1280, f"{path_of(page.url)} is wider than 1280 pixels"
    page.set_viewport_size({"width": 320, "height": 800})
    without_tables = """() => {
        document.querySelectorAll("table").forEach(t => { t.style.display = "none"; });
        return document.documentElement.scrollWidth;
    }"""
    assert page.evaluate(without_tables) <= 320, f"{path_of(page.url)} does not reflow at 320"


def declarations_total(page: Page) -> int:
    page.goto("/declarations")
    text = page.get_by_role("navigation", name="By status").get_by_role("link").first.inner_text()
    found = re.fullmatch(r"All \((\d+)\)", text.strip())
    assert found is not None, text
    return int(found.group(1))


# ---- 1. a trader lodges, pays and downloads the release note ----


def test_a_trader_lodges_item_by_item_checks_the_duties_pays_and_downloads_the_release_note(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot, tmp_path: Path
) -> None:
    sign_in(page, "saigon")
    page.goto("/declarations/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lodge a declaration")
    fill_header(page)
    first = group(page, "Item 1")
    # The HS code is looked up in the national tariff as it is typed.
    first.get_by_label("HS code").press_sequentially("smartph")
    expect(page.locator("#hs-codes option[value='85171300']")).to_have_count(1)
    fill(first, SMARTPHONES)
    expect(group(page, "Item 2")).to_have_count(0)
    page.get_by_role("button", name="Add another item").click()
    # The page comes back with a second item, and what was typed kept.
    expect(group(page, "Item 1").get_by_label("Form D reference")).to_have_value("TH-2026-000123")
    expect(page.get_by_label("Importer's address")).to_have_value("1 Le Loi, HCMC")
    fill(group(page, "Item 2"), CREAMS)
    axe(page)
    screenshot(page, "trader-lodge")

    page.get_by_role("button", name="Check duties and taxes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    rows = page.get_by_role("table", name="Items, duties and taxes").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("527,000,000 VND")
    expect(rows.nth(0)).to_contain_text("TH-2026-000123: granted")  # ATIGA: no duty
    expect(rows.nth(0)).to_contain_text("IMPORT DUTY 0 %: 0 VND")
    expect(rows.nth(0)).to_contain_text("VAT 10 %: 52,700,000 VND")
    expect(rows.nth(1)).to_contain_text("79,050,000 VND")
    expect(rows.nth(1)).to_contain_text("IMPORT DUTY 20 %: 15,810,000 VND")
    expect(rows.nth(1)).to_contain_text("VAT 10 %: 9,486,000 VND")  # on value plus duty
    expect(summary(page, "Customs value")).to_have_text("606,050,000 VND")
    expect(summary(page, "Import duty")).to_have_text("15,810,000 VND")
    expect(summary(page, "VAT")).to_have_text("62,186,000 VND")
    expect(summary(page, "Total due")).to_have_text("77,996,000 VND")
    axe(page)
    screenshot(page, "trader-check")

    page.get_by_role("button", name="Submit the declaration").click()
    expect(page.get_by_role("status")).to_have_text("The declaration is lodged.")
    number = path_of(page.url).rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text(number)
    expect(status_line(page)).to_contain_text("awaiting payment")
    expect(status_line(page).locator(".tag--green")).to_have_text("green")
    expect(summary(page, "Amount due")).to_have_text("77,996,000 VND")
    # The lane, never why.
    expect(page.get_by_role("heading", name="Why this lane")).to_have_count(0)
    expect(page.get_by_role("link", name="Download the release note")).to_have_count(0)
    axe(page)
    screenshot(page, "trader-declaration")

    pay(page, "77,996,000 VND", "BANK-2026-0001")
    # Green: no officer looks at it, paid is released.
    expect(status_line(page)).to_contain_text("released")
    expect(summary(page, "Released")).not_to_have_text("–")
    expect(page.get_by_role("heading", name="Pay")).to_have_count(0)
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download the release note").click()
    download = downloading.value
    assert download.suggested_filename == f"release-note-{number}.html"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    note = saved.read_text()
    assert number in note and "released the goods" in note

    page.goto("/declarations?status=released")
    expect(page.get_by_role("link", name=number, exact=True)).to_be_visible()


# ---- 2. a red declaration through an officer's inspection ----


def test_a_red_declaration_is_inspected_reassessed_paid_and_released(
    page: Page, new_page: NewPage, sign_in: SignIn, axe: Axe, screenshot: Screenshot,
    seeded: Seeded,
) -> None:  # fmt: skip
    trader = page
    sign_in(trader, "saigon")
    number = lodge(trader, CAR)  # a profile sends motor cars (HS 8703) to red
    expect(status_line(trader).locator(".tag--red")).to_have_text("red")
    expect(status_line(trader)).to_contain_text("inspection")
    expect(trader.locator(".notice")).to_contain_text("Present the goods for physical inspection")
    expect(summary(trader, "Amount due")).to_have_text("458,490,000 VND")
    expect(trader.locator("main")).not_to_contain_text("undervaluation")  # the profile's reason
    expect(trader.get_by_role("heading", name="Pay")).to_have_count(0)  # not before inspection

    officer = new_page()
    sign_in(officer, "officer1")
    officer.goto("/queue")
    queue = officer.get_by_role("table", name=re.compile("^Declarations waiting for an officer"))
    row = queue.get_by_role("row").filter(has=officer.get_by_role("link", name=number))
    expect(row).to_contain_text("red")
    expect(row).to_contain_text("inspection")
    expect(row).to_contain_text("VNHPH")
    expect(row).to_contain_text("no one")
    waiting = queue.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert waiting.index(seeded.red) < waiting.index(number), waiting  # oldest first
    assert seeded.yellow in waiting and seeded.green not in waiting

    row.get_by_role("link", name=number).click()
    expect(officer.get_by_role("heading", level=1)).to_have_text(number)
    expect(officer.get_by_role("heading", name="Why this lane")).to_be_visible()
    expect(officer.locator("main")).to_contain_text("Motor cars: undervaluation seen at every port")
    officer.get_by_role("button", name="Take it in hand").click()
    expect(officer.get_by_role("status")).to_have_text("You have taken the declaration in hand.")
    expect(officer.get_by_role("button", name="Take it in hand")).to_have_count(0)
    axe(officer)

    findings = officer.locator("form[action$='/inspection']")
    findings.get_by_label("Irregularity found").check()
    findings.get_by_label("Findings (optional)").fill("Invoice undervalued: the car is new.")
    correction = findings.get_by_role("group", name="Correction 1", exact=True)
    correction.get_by_label("Item number").fill("1")
    correction.get_by_label("Field").select_option("customs_value")
    correction.get_by_label("Corrected value").fill("30000")
    findings.get_by_role("button", name="Record the findings").click()
    expect(officer.get_by_role("status")).to_have_text("The inspection findings are recorded.")
    controls = officer.get_by_role("table", name="Officers' controls, oldest first")
    what = officer.get_by_role("cell", name="Inspection", exact=True)
    inspected = controls.locator("tbody tr").filter(has=what)
    expect(inspected).to_contain_text("irregularity")
    expect(inspected).to_contain_text("item 1 customs value: 20000.00 → 30000")
    # The duties reassessed on the corrected value: 790,500,000 VND, duty 70 %, VAT 10 %.
    expect(inspected.locator("td").nth(6)).to_have_text("458,490,000 VND")
    expect(inspected.locator("td").nth(7)).to_have_text("687,735,000 VND")
    expect(summary(officer, "Amount due")).to_have_text("687,735,000 VND")
    expect(status_line(officer)).to_contain_text("awaiting payment")
    axe(officer)
    screenshot(officer, "officer-declaration")

    trader.reload()
    expect(summary(trader, "Amount due")).to_have_text("687,735,000 VND")
    pay(trader, "687,735,000 VND", "BANK-2026-0002")
    expect(status_line(trader)).to_contain_text("paid")  # red: an officer releases it
    expect(trader.locator(".notice")).to_contain_text("Wait for an officer to release the goods")

    officer.reload()
    officer.get_by_role("button", name="Release the goods").click()
    expect(officer.get_by_role("status")).to_have_text("The goods are released.")
    expect(status_line(officer)).to_contain_text("released")
    officer.goto("/queue")
    expect(officer.get_by_role("link", name=number)).to_have_count(0)

    trader.reload()
    expect(status_line(trader)).to_contain_text("released")
    expect(trader.get_by_role("link", name="Download the release note")).to_be_visible()
    reflows(trader)


# ---- 3. a supervisor activates a risk model and rolls back ----


def test_a_supervisor_activates_a_risk_model_and_rolls_back(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot, seeded: Seeded
) -> None:
    first, second = seeded.models
    sign_in(page, "super1")
    page.goto("/risk/models")
    expect(page.locator(".notice")).to_contain_text("No model is active")
    models = page.get_by_role("table", name=re.compile("^Registered models"))

    def status_of(version: str) -> Locator:
        return models.get_by_role("row").filter(has_text=version).locator("td").nth(1)

    page.get_by_role("button", name=f"Activate {first}").click()
    expect(page.get_by_role("status")).to_contain_text("The model is active")
    expect(page.locator("main")).to_contain_text(f"Declarations are scored with model {first}")
    expect(status_of(first)).to_have_text("active")
    expect(page.get_by_role("button", name=re.compile("^Roll back"))).to_have_count(0)

    page.get_by_role("button", name=f"Activate {second}").click()
    expect(page.locator("main")).to_contain_text(f"Declarations are scored with model {second}")
    expect(status_of(first)).to_have_text("was active")
    page.get_by_role("button", name=f"Roll back to {first}").click()
    expect(page.get_by_role("status")).to_have_text(
        "Rolled back: the model active before is active again."
    )
    expect(page.locator("main")).to_contain_text(f"Declarations are scored with model {first}")
    expect(status_of(first)).to_have_text("active")
    expect(status_of(second)).to_have_text("was active")
    axe(page)
    screenshot(page, "supervisor-risk-models")
    reflows(page)


# ---- 4. an analyst filters the dashboard and downloads CSV ----


def test_an_analyst_filters_the_dashboard_by_dates_and_office_and_downloads_csv(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot, seeded: Seeded, tmp_path: Path
) -> None:
    day = seeded.day.isoformat()
    sign_in(page, "analyst1")
    page.goto("/analytics")
    per_day = page.get_by_role("region", name="Declarations lodged per day")
    per_day.get_by_text("The table").click()
    offices = per_day.locator("tbody tr td:nth-child(2)")
    expect(offices.filter(has_text="VNDAD")).not_to_have_count(0)  # every office, unfiltered

    page.get_by_label("From", exact=True).fill(day)
    page.get_by_label("To", exact=True).fill(day)
    page.get_by_label("Office", exact=True).fill("VNHPH")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/analytics\?from={day}&to={day}&office=VNHPH$"))
    expect(page.locator("main")).to_contain_text(f"Declarations lodged from {day} to {day}, VNHPH.")
    expect(page.get_by_label("Office", exact=True)).to_have_value("VNHPH")
    per_day.get_by_text("The table").click()
    expect(offices.first).to_have_text("VNHPH")
    expect(offices.filter(has_text="VNDAD")).to_have_count(0)
    axe(page)
    screenshot(page, "analyst-dashboard")

    with page.expect_download() as downloading:
        per_day.get_by_role("link", name=re.compile("^Download the figures")).click()
    download = downloading.value
    assert download.suggested_filename == f"per-day-{day}-{day}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    header, *rows = list(csv.reader(saved.read_text().splitlines()))
    assert header == ["Day", "Office", "Declarations"]
    assert rows and all(office == "VNHPH" for _, office, _ in rows), rows
    [(_, _, count)] = [r for r in rows if r[0] == day]
    assert int(count) >= 1  # at least the declaration seeded at VNHPH that day
    reflows(page)


# ---- 5. a bad field: the error summary, its link to the field, nothing lodged ----


def test_a_bad_field_shows_the_error_summary_its_link_focuses_the_field_and_nothing_is_lodged(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot
) -> None:
    sign_in(page, "saigon")
    before = declarations_total(page)
    page.goto("/declarations/new")
    fill_header(page)
    fill(group(page, "Item 1"), SMARTPHONES | {"HS code": "8517130"})
    with page.expect_response(posted("/declarations/new")) as answer:
        page.get_by_role("button", name="Check duties and taxes").click()
    assert answer.value.status == 422

    expect(page.get_by_role("heading", level=1)).to_have_text("Lodge a declaration")
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("There is a problem")
    expect(problem).to_be_focused()  # read first by a screen reader
    expect(page).to_have_title(re.compile(r"^Error: Lodge a declaration"))
    link = problem.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "#items-0-hs_code")
    hs_code = group(page, "Item 1").get_by_label("HS code")
    expect(hs_code).to_have_value("8517130")  # what was typed is kept
    expect(page.get_by_label("Importer's name")).to_have_value("Saigon Logistics JSC")
    error = page.locator("#items-0-hs_code-error")
    expect(error).to_contain_text(link.inner_text())
    expect(hs_code).to_have_attribute("aria-describedby", re.compile(r"items-0-hs_code-error"))
    axe(page)
    screenshot(page, "trader-lodge-errors")

    link.click()
    expect(hs_code).to_be_focused()
    assert page.url.endswith("/declarations/new#items-0-hs_code")
    reflows(page)
    assert declarations_total(page) == before


# ---- 6 and 7. every main page passes axe, and is photographed ----

# (user, path, its heading, screenshot); {green}, {red}, {yellow}: the seeded declarations.
PAGES = [
    ("saigon", "/declarations", "Declarations", "trader-declarations"),
    ("saigon", "/tariff/lookup?q=smartphones", "Tariff look-up", "trader-tariff-lookup"),
    ("officer1", "/queue", "Queue", "officer-queue"),
    ("officer1", "/declarations/{yellow}", "{yellow}", "officer-document-check"),
    ("super1", "/risk/profiles", "Risk profiles", "supervisor-risk-profiles"),
    ("super1", "/ledger", "Ledger of VN", "supervisor-ledger"),
    ("super1", "/exchange/messages", "Messages with partners", "supervisor-exchange-messages"),
    ("admin1", "/users", "Users and roles", "admin-users"),
]


@pytest.mark.parametrize(("username", "path", "heading", "name"), PAGES, ids=[p[3] for p in PAGES])
def test_the_main_page_passes_axe(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot, seeded: Seeded,
    username: str, path: str, heading: str, name: str,
) -> None:  # fmt: skip
    numbers = {"green": seeded.green, "red": seeded.red, "yellow": seeded.yellow}
    sign_in(page, username)
    page.goto(path.format(**numbers))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading.format(**numbers))
    axe(page)
    screenshot(page, name)
    reflows(page)


def test_a_page_in_vietnamese_passes_axe(
    page: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot
) -> None:
    sign_in(page, "saigon")
    page.goto("/language/vi?next=/declarations")
    assert path_of(page.url) == "/declarations"
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tờ khai")
    axe(page)
    screenshot(page, "trader-declarations-vi")
    reflows(page)
