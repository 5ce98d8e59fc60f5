"""The issuing authority in Chromium: issues a Form D in the form, transmits it to the
importing country's node, and the page and the node's outbox say so."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select
from tests.integration.browser.conftest import Axe, Screenshot, SignIn, path_of
from tests.integration.conftest import NodeProcess

from onewindow import domains
from onewindow.exchange.models import OutgoingMessage
from onewindow.exchange.service import sync_partners
from onewindow.kit import web
from onewindow.kit.config import PartnerConfig, settings_class
from onewindow.kit.node import Node

DATA = resources.files("onewindow") / "data"


def application() -> dict[str, Any]:
    """The sample application, the other way round: exported from VN (this node) to TH,
    shipped and signed today (the node runs on the real clock)."""
    sample = json.loads((DATA / "sample_form_d_application.json").read_text())
    exporter, consignee = sample["consignee"], sample["exporter"]
    sample["exporter"], sample["consignee"] = exporter, consignee
    today = datetime.now(UTC).date().isoformat()
    sample["declaration"] |= {"producing_country": "VN", "importing_country": "TH",
                              "place": "Ha Noi", "date": today}  # fmt: skip
    sample["transport"]["departure_date"] = today
    return sample


def node_of(portal_node: NodeProcess) -> Node:
    domains.install()
    settings = settings_class()(
        country="VN", database_url=portal_node.env["ONEWINDOW_DATABASE_URL"]
    )
    return Node.open(settings)


def test_the_authority_issues_a_form_d_and_transmits_it(
    page: Page, portal_node: NodeProcess, sign_in: SignIn, axe: Axe, screenshot: Screenshot
) -> None:
    node = node_of(portal_node)
    try:
        with node.transaction() as s:  # TH joins this node's federation
            sync_partners(s, {"TH": PartnerConfig(endpoint="http://127.0.0.1:9/TH")},
                          now=node.clock.now())  # fmt: skip
    finally:
        node.close()

    sign_in(page, "moc1")
    page.goto("/certificates/new")
    axe(page)
    sample = application()
    fields = web.flat({k: v for k, v in sample.items() if k != "flags"})
    for name, value in fields.items():
        field = page.locator(f'[name="{name}"]')
        if field.count() == 0:  # a second item's fields appear after "Add another item"
            page.get_by_role("button", name="Add another item").click()
        if field.get_attribute("type") == "hidden":  # numbered by the form itself
            continue
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    for flag, ticked in sample.get("flags", {}).items():
        if ticked:
            page.locator(f'[name="flags.{flag}"]').check()
    screenshot(page, "authority-issue-form")
    page.get_by_role("button", name="Issue the Form D").click()
    page.wait_for_load_state()
    refused = page.locator(".error-summary")
    assert refused.count() == 0, refused.inner_text()
    expect(page.get_by_role("status")).to_contain_text("The Form D is issued.")
    reference = path_of(page.url).split("/")[2]
    assert reference.startswith("VN-")
    axe(page)
    page.get_by_role("button", name="Transmit to TH").click()
    expect(page.get_by_role("status")).to_contain_text("sent to the importing country")
    screenshot(page, "authority-certificate")

    node = node_of(portal_node)
    try:
        with node.transaction() as s:
            sent = s.scalars(
                select(OutgoingMessage).where(OutgoingMessage.document_id == reference)
            ).all()
    finally:
        node.close()
    assert [(m.receiver, m.document_type) for m in sent] == [("TH", "FORM_D")]
