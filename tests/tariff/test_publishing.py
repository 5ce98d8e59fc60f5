"""Publishing the schedule and rates to partners, keeping the partners' versions, and the
import taxes due in a partner's country at its published rates: on SQLite and PostgreSQL.

The sending side is the `node` fixture (VN, the sample schedule and rates); the receiving
side applies documents through the handler the tariff domain registers, as the gateway does
once an envelope has verified (the signed path is in test_publishing_gateway.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.exchange import documents
from onewindow.exchange.handlers import Incoming, handler_for
from onewindow.exchange.models import OutgoingMessage
from onewindow.exchange.service import sync_partners
from onewindow.kit.auth import Principal, Role
from onewindow.kit.config import PartnerConfig
from onewindow.kit.errors import Forbidden, InvalidInput, NotFound
from onewindow.kit.node import Node
from onewindow.ledger import LedgerEntry
from onewindow.tariff import (
    Due,
    Goods,
    Home,
    Publication,
    convert,
    import_taxes,
    partner_schedules,
    publish,
)
from onewindow.tariff.models import PartnerLine, PartnerRate, PartnerSchedule

SUPERVISOR = Principal("super1", Role.SUPERVISOR)
OFFICER = Principal("officer1", Role.OFFICER)
VN = Home("VN", "VND")
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _partners(node: Node, *countries: str) -> None:
    with node.transaction() as s:
        configs = {c: PartnerConfig(endpoint=f"http://{c.lower()}") for c in countries}
        sync_partners(s, configs, now=node.clock.now())


def _count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# ---- publishing ----


def test_publish_sends_one_version_to_every_partner_logged_once(node: Node) -> None:
    _partners(node, "TH", "SG")
    with node.transaction() as s:
        first = publish(s, SUPERVISOR, home=VN, now=node.clock.now())
        assert (first.version, first.effective_date) == (1, date(2026, 11, 20))
        assert first.receivers == "SG,TH" and first.line_count == 27
        assert first.rate_count == 7  # one per currency: USD at its November rate
    with node.transaction() as s:
        second = publish(s, SUPERVISOR, home=VN, effective=date(2027, 1, 1), to=["TH"],
                         now=node.clock.now())  # fmt: skip
        assert (second.version, second.receivers) == (2, "TH")
        sent = s.scalars(
            select(OutgoingMessage).order_by(OutgoingMessage.version, OutgoingMessage.receiver)
        ).all()
        assert [(m.receiver, m.document_id, m.version) for m in sent] == [
            ("SG", "VN-TARIFF", 1), ("TH", "VN-TARIFF", 1), ("TH", "VN-TARIFF", 2)
        ]  # fmt: skip
        # one document per version in the ledger, as issued, whatever the number of partners
        logged = s.scalars(select(LedgerEntry).order_by(LedgerEntry.leaf_index)).all()
        assert [(e.document_type, e.version, e.kind) for e in logged] == [
            ("TARIFF_SCHEDULE", 1, "issued"), ("TARIFF_SCHEDULE", 2, "issued")
        ]  # fmt: skip
        assert logged[0].document_sha256 == first.document_sha256
        payload = documents.from_xml("TARIFF_SCHEDULE", sent[0].document)
    usd = next(r for r in payload["rates"] if r["currency"] == "USD")
    phones = next(line for line in payload["lines"] if line["code"] == "85171300")
    assert usd["rate"] == Decimal(26350) and phones["mfn"] == Decimal(10)
    assert payload["country"] == "VN" and payload["currency"] == "VND"


def test_refused_publications_queue_and_log_nothing(node: Node) -> None:
    with node.transaction() as s, pytest.raises(InvalidInput) as none:
        publish(s, SUPERVISOR, home=VN, now=node.clock.now())
    assert none.value.errors[0].code == "no_partners"
    _partners(node, "TH")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"effective": date(2026, 11, 19)}, "effective", "in_the_past"),
        ({"to": ["VN"]}, "to[0]", "own_country"),
        ({"to": ["TH", "MY"]}, "to[1]", "not_partner"),
    ]
    for options, path, code in cases:
        with node.transaction() as s, pytest.raises(InvalidInput) as refused:
            publish(s, SUPERVISOR, home=VN, now=node.clock.now(), **options)
        assert [(e.path, e.code) for e in refused.value.errors] == [(path, code)], options
    with node.transaction() as s:
        with pytest.raises(Forbidden):
            publish(s, OFFICER, home=VN, now=node.clock.now())
        for model in (Publication, OutgoingMessage, LedgerEntry):
            assert _count(s, model) == 0, model


def test_a_schedule_too_large_for_the_exchange_is_refused_before_anything_is_sent(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    _partners(node, "TH")
    monkeypatch.setattr("onewindow.tariff.publishing.MAX_DOCUMENT_BYTES", 500)
    with node.transaction() as s:
        with pytest.raises(InvalidInput) as refused:
            publish(s, SUPERVISOR, home=VN, now=node.clock.now())
        assert refused.value.errors[0].code == "too_large"
        assert "27 lines make" in refused.value.errors[0].message
        assert _count(s, OutgoingMessage) == _count(s, LedgerEntry) == 0


# ---- receiving ----


def schedule(country: str, version: int, effective: date, **changes: Any) -> dict[str, Any]:
    """A partner's schedule: smartphones at `mfn` % duty, 7 % VAT, USD at `usd` THB."""
    mfn, usd = changes.pop("mfn", Decimal(20)), changes.pop("usd", Decimal("35"))
    return {
        "country": country,
        "version": version,
        "effective_date": effective,
        "issued_at": NOW,
        "currency": "THB",
        "rates": [{"currency": "USD", "rate": usd}, {"currency": "VND", "rate": Decimal("0.0013")}],
        "lines": [
            {"code": "85171300", "unit": "PCE", "mfn": mfn, "atiga": Decimal(0), "vat": Decimal(7)},
            {"code": "84713020", "unit": "PCE", "mfn": Decimal(0), "vat": Decimal(7)},
        ],
    } | changes


def deliver(session: Session, payload: dict[str, Any], *, sender: str = "TH",
            version: int | None = None, document_id: str | None = None) -> None:  # fmt: skip
    """Apply a schedule as the gateway does once its envelope verified: through the
    registered handler, logged in the ledger as received."""
    handler = handler_for("TARIFF_SCHEDULE")
    assert handler is not None
    message = Incoming(
        str(uuid.uuid4()), sender, "VN", "TARIFF_SCHEDULE", document_id or f"{sender}-TARIFF",
        version or payload["version"], payload, NOW,
    )  # fmt: skip
    with session.begin_nested():
        handler(session, message)


def test_a_received_version_is_kept_logged_and_used_from_its_effective_date(
    node: Node,
) -> None:
    phones = [Goods("85171300", Decimal("1000"), "USD")]
    with node.transaction() as s:
        deliver(s, schedule("TH", 1, date(2026, 11, 1)))
        deliver(s, schedule("TH", 2, date(2027, 1, 1), mfn=Decimal(30), usd=Decimal(36)))
        # USD 1000 = 35000 THB; duty 20 % = 7000; VAT 7 % of 42000 = 2940
        assert import_taxes(s, "TH", phones, date(2026, 12, 31), home=VN) == ("THB", 9940)
        # version 2 from 2027: 36000 THB; 30 % = 10800; VAT 7 % of 46800 = 3276
        assert import_taxes(s, "TH", phones, date(2027, 1, 1), home=VN) == ("THB", 14076)
        # a preference where the line has an ATIGA rate: no duty, VAT only
        assert import_taxes(s, "TH", phones, date(2026, 12, 1), home=VN, preference=True) == (
            "THB", Decimal(2450)
        )  # fmt: skip
        entries = s.scalars(select(LedgerEntry).order_by(LedgerEntry.leaf_index)).all()
        assert [(e.document_id, e.version, e.issuer_country, e.kind) for e in entries] == [
            ("TH-TARIFF", 1, "TH", "received"), ("TH-TARIFF", 2, "TH", "received")
        ]  # fmt: skip
        kept = partner_schedules(s, OFFICER, "TH")
        assert [(v.version, v.effective_date, v.line_count) for v in kept] == [
            (2, date(2027, 1, 1), 2), (1, date(2026, 11, 1), 2)
        ]  # fmt: skip


def test_a_version_with_an_earlier_date_replaces_the_older_one_from_that_date(
    node: Node,
) -> None:
    """The highest version whose date has come is in force: a correction published with an
    earlier effective date than the version before it replaces that one too."""
    phones = [Goods("85171300", Decimal("100"), "THB")]
    with node.transaction() as s:
        deliver(s, schedule("TH", 1, date(2026, 1, 1), mfn=Decimal(10)))
        deliver(s, schedule("TH", 2, date(2027, 1, 1), mfn=Decimal(20)))
        deliver(s, schedule("TH", 3, date(2026, 12, 1), mfn=Decimal(15)))
        days = [date(2026, 11, 30), date(2026, 12, 1), date(2027, 6, 1)]
        amounts = [import_taxes(s, "TH", phones, day, home=VN).amount for day in days]
    # 10 % then 15 %, and VAT 7 % on value and duty
    assert amounts == [Decimal("17.70"), Decimal("23.05"), Decimal("23.05")]


def test_refused_schedules_store_nothing(node: Node) -> None:
    with node.transaction() as s:
        deliver(s, schedule("TH", 2, date(2026, 11, 1)))
    bad: list[tuple[dict[str, Any], dict[str, Any], str, str]] = [
        (schedule("TH", 1, date(2027, 1, 1)), {}, "version", "not_newer"),
        (schedule("TH", 2, date(2027, 1, 1)), {}, "version", "not_newer"),
        (schedule("TH", 3, date(2027, 1, 1)), {"version": 4}, "version", "version_mismatch"),
        (schedule("TH", 3, date(2027, 1, 1)), {"document_id": "TH-X"}, "document_id",
         "wrong_document"),
        (schedule("TH", 3, date(2027, 1, 1), currency="ABC"), {}, "currency",
         "unknown_currency"),
        (schedule("TH", 3, date(2027, 1, 1), lines=[
            {"code": "99999999", "unit": "PCE", "mfn": Decimal(1), "vat": Decimal(1)}]), {},
         "lines[0].code", "unknown_hs"),
        (schedule("TH", 3, date(2027, 1, 1), lines=[
            {"code": "85171300", "unit": "ZZZ", "mfn": Decimal(1), "vat": Decimal(1)}]), {},
         "lines[0].unit", "unknown_unit"),
    ]  # fmt: skip
    for payload, options, path, code in bad:
        with node.transaction() as s:
            with pytest.raises(InvalidInput) as refused:
                deliver(s, payload, **options)
            assert (refused.value.errors[0].path, refused.value.errors[0].code) == (path, code)
    with node.transaction() as s:
        assert _count(s, PartnerSchedule) == 1 and _count(s, LedgerEntry) == 1
        assert _count(s, PartnerLine) == 2 and _count(s, PartnerRate) == 2


# ---- the service the transit domain calls ----


def test_missing_versions_lines_and_rates_are_named(node: Node) -> None:
    with node.transaction() as s:
        deliver(s, schedule("TH", 1, date(2026, 11, 1)))
        with pytest.raises(InvalidInput) as nothing:
            import_taxes(s, "TH", [Goods("85171300", Decimal(1), "USD")], date(2026, 10, 31),
                         home=VN)  # fmt: skip
        assert [(e.path, e.code) for e in nothing.value.errors] == [
            ("country", "no_published_tariff")
        ]
        assert "TH has published no tariff in force on 2026-10-31" in nothing.value.detail
        with pytest.raises(InvalidInput) as none_from:
            import_taxes(s, "SG", [Goods("85171300", Decimal(1), "USD")], date(2026, 12, 1),
                         home=VN)  # fmt: skip
        assert none_from.value.errors[0].code == "no_published_tariff"
        items = [Goods("85171300", Decimal(1), "EUR"), Goods("87032359", Decimal(1), "USD")]
        with pytest.raises(InvalidInput) as missing:
            import_taxes(s, "TH", items, date(2026, 12, 1), home=VN)
        assert [(e.path, e.code) for e in missing.value.errors] == [
            ("items[0].currency", "no_exchange_rate"), ("items[1].hs_code", "no_tariff_line")
        ]  # fmt: skip


def test_own_country_uses_the_national_schedule_and_rates(node: Node) -> None:
    items = [Goods("85171300", Decimal("1000"), "USD"), Goods("84713020", Decimal("500"), "VND")]
    with node.transaction() as s:
        due = import_taxes(s, "VN", items, date(2026, 11, 20), home=VN)
        # 26,350,000 VND: 10 % duty 2,635,000, VAT 10 % of 28,985,000 = 2,898,500; the laptop
        # 500 VND: no duty, VAT 50
        assert due == Due("VND", Decimal(5533550))
        with pytest.raises(InvalidInput) as missing:
            import_taxes(s, "VN", [Goods("85171300", Decimal(1), "USD")], date(2021, 1, 1),
                         home=VN)  # fmt: skip
        assert [e.code for e in missing.value.errors] == ["no_tariff_line", "no_exchange_rate"]


def test_convert_uses_this_nodes_official_rates(node: Node) -> None:
    day = date(2026, 11, 20)
    with node.transaction() as s:
        assert convert(s, Due("THB", Decimal(1000)), "VND", day, home=VN) == ("VND", 745000)
        # 1000 THB = 745,000 VND = 28.27 USD at 26,350
        assert convert(s, Due("THB", Decimal(1000)), "USD", day, home=VN) == (
            "USD", Decimal("28.27")
        )  # fmt: skip
        assert convert(s, Due("VND", Decimal(263500)), "USD", day, home=VN).amount == 10
        with pytest.raises(NotFound):
            convert(s, Due("THB", Decimal(1)), "USD", date(2025, 1, 1), home=VN)


def test_only_officials_read_the_partners_versions(node: Node) -> None:
    with node.transaction() as s:
        with pytest.raises(Forbidden):
            partner_schedules(s, Principal("t", Role.TRADER, "0101234567"))
        assert partner_schedules(s, OFFICER) == []
