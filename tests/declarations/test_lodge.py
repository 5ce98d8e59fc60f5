from __future__ import annotations

import copy
import gc
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from onewindow.declarations import Declaration, service
from onewindow.declarations.context import context
from onewindow.kit.audit import AuditEvent
from onewindow.kit.auth import SYSTEM
from onewindow.kit.errors import InvalidInput
from onewindow.kit.node import Node
from onewindow.origin import get_certificate

Doc = Callable[..., dict[str, Any]]


def count(node: Node, model: Any) -> int:
    with node.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_readme_declaration_gets_atiga_rate_with_certificate_on_record(
    node: Node, doc: Doc, lodge: Any, certificate: str
) -> None:
    d = lodge(doc())
    assert d.number == "VNHPH-2026-0000001"
    assert d.totals["customs_value"] == Decimal(527_000_000)
    item = d.items[0]
    assert item.preference_granted is True
    assert [(t.tax, t.rate_kind, t.amount) for t in item.taxes] == [
        ("IMPORT_DUTY", "ATIGA", Decimal(0)),
        ("VAT", "STANDARD", Decimal(52_700_000)),
    ]
    assert d.totals["total_due"] == Decimal(52_700_000)
    with node.transaction() as s:
        cert = get_certificate(s, certificate)
        assert cert is not None and cert.items[0].used_quantity == Decimal(100)


def test_without_certificate_mfn_applies_and_the_reason_is_kept(doc: Doc, lodge: Any) -> None:
    d = lodge(doc())
    item = d.items[0]
    assert item.preference_granted is False
    assert "not on record" in (item.preference_reason or "")
    assert item.taxes[0].rate_kind == "MFN" and item.taxes[0].amount == Decimal(52_700_000)
    assert d.totals["total_due"] == Decimal(52_700_000 + 57_970_000)


def test_certificate_for_another_importer_or_exhausted_is_refused(
    doc: Doc, lodge: Any, certificate: str
) -> None:
    other = doc(
        importer={"id": "0309999999", "name": "Hanoi Trading", "country": "VN"},
        declarant={"id": "0309999999", "name": "Hanoi Trading"},
    )
    assert "another importer" in (lodge(other).items[0].preference_reason or "")
    big = doc()
    big["items"][0]["quantity"] = "250"
    assert lodge(big).items[0].preference_granted is True  # 250 of 300
    assert "quantity exceeds" in (lodge(doc()).items[0].preference_reason or "")  # 100 > 50 left


def test_numbers_follow_office_year_sequence(doc: Doc, lodge: Any) -> None:
    numbers = [lodge(doc()).number for _ in range(3)]
    assert numbers == [f"VNHPH-2026-000000{n}" for n in (1, 2, 3)]


def test_lodging_is_audited(node: Node, doc: Doc, lodge: Any) -> None:
    number = lodge(doc()).number
    with node.transaction() as s:
        events = [e.action for e in service.history(s, SYSTEM, number)]
    assert events == ["declaration.registered", "declaration.channel_green"]


def _bad(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    target[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "error_path", "code"),
    [
        ("type", "XX", "type", "literal_error"),
        ("office", "THBKK", "office", "unknown_office"),
        ("country_of_export", "ZZ", "country_of_export", "unknown_country"),
        ("invoice.currency", "ABC", "invoice.currency", "unknown_currency"),
        ("items.0.unit", "FOO", "items.0.unit", "unknown_unit"),
        ("items.0.hs_code", "99999999", "items.0.hs_code", "unknown_tariff_code"),
        ("items.0.hs_code", "8517", "items.0.hs_code", "string_pattern_mismatch"),
        ("items.0.quantity", "-5", "items.0.quantity", "greater_than"),
        ("items.0.customs_value", "1e30", "items.0.customs_value", "decimal_max_digits"),
        ("items.0.customs_value", "NaN", "items.0.customs_value", "finite_number"),
        ("items.0.gross_mass_kg", "10", "items.0.gross_mass_kg", "mass_inconsistent"),
        ("items.0.preference", {"scheme": "ATIGA"}, "items.0.preference.certificate", "missing"),
        ("transport.arrival_date", "2019-01-01", "invoice.currency", "no_exchange_rate"),
        (
            "transport.arrival_date",
            "not a date",
            "transport.arrival_date",
            "date_from_datetime_parsing",
        ),
        ("items.0.description", "bad\x00byte", "items.0.description", "control_characters"),
        ("items", [], "items", "too_short"),
        ("declarant", "0101234567", "declarant", "model_type"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    node: Node, doc: Doc, path: str, value: Any, error_path: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught, node.transaction() as s:
        service.lodge(s, SYSTEM, [_bad(doc(), path, value)], context(node))
    assert (error_path, code) in {(e.path, e.code) for e in caught.value.errors}
    assert count(node, Declaration) == 0
    assert count(node, AuditEvent) == 0


def test_every_error_is_reported_at_once(node: Node, doc: Doc) -> None:
    data = _bad(_bad(doc(), "items.0.unit", "FOO"), "importer.country", "QQ")
    with pytest.raises(InvalidInput) as caught, node.transaction() as s:
        service.lodge(s, SYSTEM, [data], context(node))
    assert {e.path for e in caught.value.errors} >= {"items.0.unit", "importer.country"}


def test_unicode_and_sql_fragments_are_stored_verbatim(doc: Doc, lodge: Any) -> None:
    name = "Công ty TNHH Sài Gòn 🚢 '; DROP TABLE declarations; -- <script>alert(1)</script>"
    data = doc(importer={"id": "0101234567", "name": name, "country": "VN"})
    data["items"][0]["description"] = "Điện thoại ' OR 1=1 -- สมาร์ทโฟน"
    d = lodge(data)
    assert d.importer_name == name
    assert d.items[0].description == "Điện thoại ' OR 1=1 -- สมาร์ทโฟน"


def test_ten_thousand_items_are_refused_whole(node: Node, doc: Doc) -> None:
    data = doc()
    data["items"] = data["items"] * 10_000
    with pytest.raises(InvalidInput) as caught, node.transaction() as s:
        service.lodge(s, SYSTEM, [data], context(node))
    assert caught.value.errors[0].path == "items"
    assert count(node, Declaration) == 0


def test_export_needs_destination_and_is_released_green_without_duty(doc: Doc, lodge: Any) -> None:
    export = doc(
        type="EX",
        country_of_export="VN",
        country_of_destination="SG",
        exporter={"id": "0101234567", "name": "Saigon Logistics JSC", "country": "VN"},
        importer={"name": "Lion Trading Pte", "country": "SG"},
        transport={"mode": "1", "departure_date": "2026-11-20"},
    )
    del export["items"][0]["preference"]
    d = lodge(export)
    assert d.type == "EX" and d.status == "released" and d.totals["total_due"] == 0


def test_no_cycle_collection_runs_while_a_batch_is_lodged(node: Node, doc: Doc) -> None:
    """With a threshold that would collect every few objects, no pass starts while the batch
    is worked on (`_lodge_each` on the stack); the collector runs again around it."""
    inside, outside = [], []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            frame, names = sys._getframe(1), set()
            while frame is not None:
                names.add(frame.f_code.co_name)
                frame = frame.f_back
            (inside if "_lodge_each" in names else outside).append(info["generation"])

    thresholds = gc.get_threshold()
    gc.callbacks.append(seen)
    gc.set_threshold(10)
    try:
        with node.transaction() as s:
            numbers = service.lodge(s, SYSTEM, [doc(), doc(), doc()], context(node))
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*thresholds)
    assert len(numbers) == 3
    assert inside == []
    assert outside  # the collector was on around the batch
    assert gc.isenabled()
