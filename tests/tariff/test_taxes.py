"""`import_taxes_in`, what the transit domain reserves a guarantee from: the taxes due in
several countries at once, each converted to one currency, as `import_taxes` and `convert`
give them one by one; and a partner's new version used from the moment it is received."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event
from tests.tariff.test_publishing import VN, deliver, schedule

from onewindow.kit.errors import InvalidInput, NotFound
from onewindow.kit.node import Node
from onewindow.tariff import Goods, convert, import_taxes, import_taxes_in

DAY = date(2026, 12, 1)
PHONES = [Goods("85171300", Decimal("1000"), "USD"), Goods("85171300", Decimal("50"), "VND")]


def _one_by_one(node: Node, countries: list[str], currency: str) -> dict[str, Decimal]:
    with node.transaction() as s:
        return {
            c: convert(s, import_taxes(s, c, PHONES, DAY, home=VN), currency, DAY, home=VN).amount
            for c in countries
        }


def test_the_same_amounts_as_one_country_at_a_time_in_four_queries(node: Node) -> None:
    with node.transaction() as s:
        deliver(s, schedule("TH", 1, date(2026, 11, 1)))
        deliver(s, schedule("SG", 1, date(2026, 11, 1), currency="SGD", usd=Decimal("1.35")),
                sender="SG")  # fmt: skip
    statements: list[str] = []
    event.listen(node.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with node.transaction() as s:
        found = import_taxes_in(s, ["VN", "TH", "SG"], PHONES, DAY, home=VN, currency="USD")
    assert len(statements) == 4
    assert found == _one_by_one(node, ["VN", "TH", "SG"], "USD")
    assert all(amount > 0 for amount in found.values())


def test_the_first_country_that_cannot_be_computed_is_named(node: Node) -> None:
    euros = [*PHONES, Goods("84713020", Decimal(1), "EUR")]  # a rate VN has, TH has not
    with node.transaction() as s:
        deliver(s, schedule("TH", 1, date(2026, 11, 1)))
        with pytest.raises(InvalidInput) as unpublished:
            import_taxes_in(s, ["VN", "SG", "TH"], euros, DAY, home=VN, currency="VND")
        assert [e.code for e in unpublished.value.errors] == ["no_published_tariff"]
        assert "SG has published no tariff" in unpublished.value.detail
        with pytest.raises(InvalidInput) as no_rate:
            import_taxes_in(s, ["VN", "TH"], euros, DAY, home=VN, currency="VND")
        assert [(e.path, e.code) for e in no_rate.value.errors] == [
            ("items[2].currency", "no_exchange_rate")
        ]
        assert "TH has no official rate for EUR" in no_rate.value.detail
        with pytest.raises(NotFound):  # VN has no official rate for AUD
            import_taxes_in(s, ["VN", "TH"], PHONES, DAY, home=VN, currency="AUD")


def test_a_new_version_is_used_as_soon_as_it_is_received(node: Node) -> None:
    """Nothing of a partner's schedule is kept between calls: the next declaration after a
    version arrives (or comes into force) is computed at its rates."""
    phones = [Goods("85171300", Decimal("1000"), "USD")]

    def th_due(on: date) -> Decimal:
        with node.transaction() as s:
            return import_taxes_in(s, ["TH"], phones, on, home=VN, currency="VND")["TH"]

    with node.transaction() as s:
        deliver(s, schedule("TH", 1, date(2026, 11, 1), mfn=Decimal(20)))
    first = th_due(DAY)
    with node.transaction() as s:
        deliver(s, schedule("TH", 2, date(2026, 11, 15), mfn=Decimal(30)))
    assert th_due(DAY) > first
    with node.transaction() as s:
        deliver(s, schedule("TH", 3, date(2027, 1, 1), mfn=Decimal(0)))
    assert th_due(DAY) > first  # version 3 is not in force yet
    assert th_due(date(2027, 1, 1)) < first
