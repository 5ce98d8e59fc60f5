"""Transit in Chromium: a trader declares a movement from Hanoi to Bangkok through Vientiane
in the form, on a guarantee the office registered; an officer finds it in the list and
releases it for transit. Both pages pass axe and are photographed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from tests.integration.browser.conftest import Axe, NewPage, Screenshot, SignIn, path_of
from tests.integration.conftest import NodeProcess
from tests.transit.partners import publish_to

from onewindow import domains
from onewindow.exchange.service import sync_partners
from onewindow.kit.auth import Principal, Role
from onewindow.kit.config import PartnerConfig, settings_class
from onewindow.kit.node import Node
from onewindow.tariff import import_rates
from onewindow.transit import GuaranteeCreate, register_guarantee, traders
from onewindow.transit.context import context
from onewindow.transit.schemas import TraderWrite

OFFICER = Principal("officer1", Role.OFFICER)
# The form, by fieldset legend: label -> value.
MOVEMENT = {
    "Holder of the procedure": {"Holder's name": "Saigon Logistics JSC"},
    "Itinerary": {"Office of departure": "VNHAN", "Office of transit 1": "LAVTE",
                  "Office of destination": "THBKK"},
    "Seals": {"Seal 1": "VNSEAL-7001", "Seal 2": "VNSEAL-7002"},
    "Item 1": {"HS code": "85171300", "Description of the goods": "Smartphones",
               "Quantity": "200", "Unit": "PCE", "Gross mass (kg)": "80",
               "Customs value": "40000", "Currency": "USD"},
}  # fmt: skip


@pytest.fixture
def grn(portal_node: NodeProcess) -> str:
    """Laos and Thailand join this node's federation with their tariffs published, kip are
    rated, and the office registers a guarantee for saigon: its GRN."""
    domains.install()
    settings = settings_class()(
        country="VN", currency="VND", database_url=portal_node.env["ONEWINDOW_DATABASE_URL"]
    )
    node = Node.open(settings)
    try:
        with node.transaction() as s:
            partners = {c: PartnerConfig(endpoint=f"http://127.0.0.1:9/{c}") for c in ("LA", "TH")}
            sync_partners(s, partners, now=node.clock.now())
        publish_to(node, "LA", "LAK", "21000", "5")
        publish_to(node, "TH", "THB", "35", "20")
        with node.transaction() as s:
            import_rates(s, "currency,rate,valid_from\nLAK,1.2,2026-01-01\n")
            until = datetime.now(UTC).date() + timedelta(days=365)
            data = GuaranteeCreate(
                kind="comprehensive", holder_id="0101234567", holder_name="Saigon Logistics JSC",
                currency="VND", amount=Decimal("5000000000"), valid_until=until,
            )  # fmt: skip
            traders.register(s, OFFICER, "0101234567", TraderWrite(name="Saigon Logistics JSC"),
                             node.clock)  # fmt: skip
            registered = register_guarantee(s, OFFICER, data, context(node)).grn
    finally:
        node.close()
    return registered


def test_a_trader_declares_a_movement_and_an_officer_releases_it(
    page: Page, new_page: NewPage, sign_in: SignIn, axe: Axe, screenshot: Screenshot, grn: str
) -> None:
    sign_in(page, "saigon")
    page.goto("/transit/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Declare a transit movement")
    expect(page.get_by_label("Holder's id")).to_have_value("0101234567")  # the user's party
    page.get_by_label("Guarantee reference (GRN)").fill(grn)
    for legend, values in MOVEMENT.items():
        group = page.get_by_role("group", name=legend, exact=True)
        for label, value in values.items():
            group.get_by_label(label, exact=True).fill(value)
    axe(page)
    page.get_by_role("button", name="Declare the movement").click()
    expect(page.get_by_role("status")).to_contain_text("The movement is accepted")
    found = re.fullmatch(r"/transit/([A-Z0-9]{18})", path_of(page.url))
    assert found is not None, page.url
    mrn = found.group(1)
    expect(page.locator("main")).to_contain_text("333,760,000 VND")  # reserved on its guarantee
    expect(page.get_by_role("heading", name="Release for transit")).to_have_count(0)

    officer = new_page()
    sign_in(officer, "officer1")
    officer.goto("/transit?role=departure")
    officer.get_by_label("Status").select_option("accepted")
    officer.get_by_role("button", name="Filter").click()
    row = officer.get_by_role("row").filter(has=officer.get_by_role("link", name=mrn))
    expect(row).to_contain_text("VNHAN → LAVTE → THBKK")
    axe(officer)
    screenshot(officer, "transit-movements")
    row.get_by_role("link", name=mrn).click()
    exposure = officer.get_by_role("table", name=re.compile("^Duties and taxes potentially due"))
    held = exposure.get_by_role("row", name=re.compile("^TH "))
    expect(held).to_contain_text("333,760,000 VND the highest: held on the guarantee")
    officer.get_by_label(re.compile("^Release: the goods leave")).check()
    axe(officer)
    officer.get_by_role("button", name="Record the decision").click()
    expect(officer.get_by_role("status")).to_contain_text("released for transit")
    events = officer.get_by_role("table", name="Events at every office, in order")
    expect(events).to_contain_text("Released for transit (IE029)")
    expect(officer.get_by_role("heading", name="Release for transit")).to_have_count(0)
    axe(officer)
    screenshot(officer, "transit-movement")
