"""A movement that never arrives: the enquiry after its time limit, the other offices told,
an arrival during the enquiry ending it, and the guarantee called once the enquiry ran out."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from onewindow.cli.main import app
from onewindow.kit.config import get_settings
from onewindow.kit.errors import Conflict
from onewindow.kit.node import Node
from onewindow.transit import enquiry, offices
from onewindow.transit.context import context
from onewindow.transit.tasks import sweep

from .movements import OFFICER, held, kinds, status

Relay = Callable[[str, str], list[str]]


def test_an_overdue_movement_goes_to_enquiry_then_recovery(
    nodes: dict[str, Node], relay: Relay, released: str
) -> None:
    th, sg = nodes["TH"], nodes["SG"]
    mrn = released
    assert sweep(th) == []  # within its time limit (8 days)
    th.clock.advance(days=9)
    assert sweep(th) == [mrn] and sweep(th) == []  # once
    assert status(th, mrn) == ("departure", "enquiry") and held(th, mrn) == "held"
    assert relay("TH", "SG") == ["TRANSIT_RECORD"]
    assert status(sg, mrn) == ("destination", "enquiry")
    with th.transaction() as s, pytest.raises(Conflict) as caught:  # too early to recover
        enquiry.recover(s, OFFICER, mrn, "no answer", context(th))
    assert "the enquiry on" in caught.value.detail and "runs until" in caught.value.detail
    th.clock.advance(days=28)
    with th.transaction() as s:
        enquiry.recover(s, OFFICER, mrn, "no answer from the holder or SG", context(th))
    assert status(th, mrn) == ("departure", "recovery") and held(th, mrn) == "called"
    assert kinds(th, mrn) == ["IE029", "IE140", "IE152"]
    assert relay("TH", "MY") == ["TRANSIT_RECORD", "TRANSIT_RECORD"]  # enquiry, recovery
    assert status(nodes["MY"], mrn) == ("transit", "recovery")


def test_goods_arriving_during_the_enquiry_end_it(
    nodes: dict[str, Node], relay: Relay, released: str
) -> None:
    th, sg = nodes["TH"], nodes["SG"]
    mrn = released
    th.clock.advance(days=9)
    assert sweep(th) == [mrn]
    relay("TH", "SG")
    with sg.transaction() as s:
        offices.arrive(s, OFFICER, mrn, "SGSIN", context(sg))
    assert relay("SG", "TH") == ["TRANSIT_EVENT"]
    assert status(th, mrn) == ("departure", "arrived")
    with th.transaction() as s, pytest.raises(Conflict):
        enquiry.recover(s, OFFICER, mrn, "too late", context(th))


def test_the_overdue_command_puts_late_movements_under_enquiry(
    nodes: dict[str, Node], released: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`onewindow transit overdue` on the node's own database, today: the movement released
    on 2026-11-12 with eight days is late."""
    th = nodes["TH"]
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", th.engine.url.render_as_string(False))
    monkeypatch.setenv("ONEWINDOW_COUNTRY", "TH")
    monkeypatch.setenv("ONEWINDOW_CURRENCY", "THB")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["transit", "overdue", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [released]
    assert status(th, released) == ("departure", "enquiry")
