"""The leaf encoding and the signed head text: fixed bytes that anyone can rebuild."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from onewindow.ledger import merkle
from onewindow.ledger.encoding import (
    LeafEntry,
    check_entry,
    leaf_data,
    ledger_origin,
    tree_head_message,
)

ENTRY = LeafEntry(
    document_type="form_d",
    document_id="VN-2026-000001",
    version=2,
    issuer_country="VN",
    document_sha256=hashlib.sha256(b"certificate").hexdigest(),
    logged_at=datetime(2026, 11, 20, 8, 0, 1, 5, tzinfo=UTC),
    kind="issued",
)


def test_leaf_data_is_canonical_json() -> None:
    expected = (
        '{"document_id":"VN-2026-000001",'
        f'"document_sha256":"{ENTRY.document_sha256}",'
        '"document_type":"form_d","issuer_country":"VN","kind":"issued",'
        '"logged_at":"2026-11-20T08:00:01.000005Z","v":1,"version":2}'
    ).encode()
    assert leaf_data(ENTRY) == expected
    # What anyone else gets with the standard library and the documented rules:
    fields = json.loads(expected)
    again = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert again.encode() == expected
    assert merkle.leaf_hash(expected) == hashlib.sha256(b"\x00" + expected).digest()


def test_time_zone_does_not_change_the_leaf() -> None:
    local = ENTRY.logged_at.astimezone(timezone(timedelta(hours=7)))
    assert leaf_data(replace(ENTRY, logged_at=local)) == leaf_data(ENTRY)


def test_non_ascii_identifiers_are_utf8() -> None:
    data = leaf_data(replace(ENTRY, document_id='Số "1"\\'))
    assert '"document_id":"Số \\"1\\"\\\\"'.encode() in data
    assert check_entry(replace(ENTRY, document_id='Số "1"\\')) == []


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("document_type", "form d", "pattern"),
        ("document_type", "x" * 41, "pattern"),
        ("document_type", 7, "pattern"),
        ("document_id", "", "pattern"),
        ("document_id", "a\nb", "pattern"),
        ("document_id", "x" * 101, "pattern"),
        ("document_id", "trailing ", "pattern"),
        ("version", "1", "type"),
        ("version", 2**31, "range"),
        ("issuer_country", "vn", "pattern"),
        ("issuer_country", "ZZ", "unknown_country"),
        ("issuer_country", ["VN"], "pattern"),
        ("document_sha256", "A" * 64, "pattern"),
        ("document_sha256", "a" * 63, "pattern"),
        ("logged_at", datetime(2026, 1, 1), "timezone"),
        ("logged_at", "2026-01-01T00:00:00Z", "timezone"),
        ("kind", "Issued", "choice"),
        ("kind", ["issued"], "choice"),
    ],
)
def test_check_entry_names_the_field(field: str, value: object, code: str) -> None:
    errors = check_entry(replace(ENTRY, **{field: value}), "e")  # type: ignore[arg-type]
    assert [(e.path, e.code) for e in errors] == [(f"e.{field}", code)]


def test_check_entry_accepts_good_entries_and_refuses_other_types() -> None:
    assert check_entry(ENTRY) == []
    assert check_entry(replace(ENTRY, document_id="A")) == []
    assert [e.code for e in check_entry({"kind": "issued"})] == ["type"]


def test_tree_head_message() -> None:
    message = tree_head_message(
        ledger_origin("VN"), 5, bytes(range(32)), datetime(2026, 11, 20, 8, tzinfo=UTC)
    )
    assert message == (
        b"onewindow/VN/ledger\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        b"time 2026-11-20T08:00:00.000000Z\n"
    )
    with pytest.raises(ValueError, match="origin"):
        tree_head_message("has space", 5, bytes(32), datetime.now(UTC))
