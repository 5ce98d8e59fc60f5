"""The stored log against the pure merkle module: roots, proofs, heads, and bad input."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from onewindow.kit import keys
from onewindow.kit.clock import FixedClock
from onewindow.kit.errors import InvalidInput, LedgerDamaged, NotFound
from onewindow.ledger import merkle, service
from onewindow.ledger.encoding import LeafEntry, leaf_data
from onewindow.ledger.models import LedgerEntry, LedgerState

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def entry(i: int, **changes: object) -> LeafEntry:
    base = LeafEntry(
        document_type="form_d",
        document_id=f"VN-2026-{i:06d}",
        version=1,
        issuer_country="VN",
        document_sha256=hashlib.sha256(b"doc %d" % i).hexdigest(),
        logged_at=T0 + timedelta(seconds=i),
        kind="issued",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def signer(clock: FixedClock | None = None) -> service.HeadSigner:
    return service.HeadSigner(keys.generate_key(), "onewindow/VN/ledger", clock or FixedClock(T0))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_log_agrees_with_merkle_module(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(150, 300)
    entries = [entry(i) for i in range(n)]
    data = [leaf_data(e) for e in entries]
    start = 0
    while start < n:  # random batch sizes, including single appends
        size = rng.choice([1, 1, 2, 3, 7, 16, 33, 64])
        if size == 1:
            assert service.append(session, entries[start]).leaf_index == start
        else:
            assert service.append_many(session, entries[start : start + size]) == range(
                start, min(start + size, n)
            )
        start += size
    assert service.tree_size(session) == n

    for size in range(n + 1):
        assert service.head(session, size).root_hash == merkle.root_hash(data[:size])
    for _ in range(60):
        size = rng.randrange(1, n + 1)
        index = rng.randrange(size)
        found = service.prove_index(session, index, size)
        assert found.leaf_data == data[index]
        assert found.proof == merkle.inclusion_proof(data[:size], index)
        assert merkle.verify_inclusion(data[index], index, size, found.proof, found.root_hash)
    for _ in range(60):
        new = rng.randrange(0, n + 1)
        old = rng.randrange(0, new + 1)
        c = service.consistency(session, old, new)
        assert c.proof == merkle.consistency_proof(data[:new], old)
        assert c.old_root == merkle.root_hash(data[:old])
        assert merkle.verify_consistency(old, new, c.old_root, c.new_root, c.proof)


def test_prove_by_document(session: Session) -> None:
    service.append_many(session, [entry(i) for i in range(10)])
    service.append(session, entry(3, version=2, kind="status_change"))
    service.append_many(session, [entry(i) for i in range(10, 13)])

    latest = service.prove(session, "VN-2026-000003")
    assert (latest.entry.leaf_index, latest.entry.version) == (10, 2)
    assert latest.tree_size == 14
    root = service.head(session).root_hash
    assert merkle.verify_inclusion(latest.leaf_data, 10, 14, latest.proof, root)

    every = service.prove_all(session, "VN-2026-000003")
    assert [p.entry.leaf_index for p in every] == [3, 10]
    for p in every:
        assert merkle.verify_inclusion(p.leaf_data, p.entry.leaf_index, 14, p.proof, root)
    # At an older size only the first entry existed.
    assert service.prove(session, "VN-2026-000003", tree_size=10).entry.version == 1
    assert service.prove(session, "VN-2026-000003", document_type="form_d").entry.version == 2
    with pytest.raises(NotFound):
        service.prove(session, "VN-2026-000003", document_type="invoice")
    with pytest.raises(NotFound, match="not in the ledger"):
        service.prove(session, "VN-2026-999999")
    with pytest.raises(NotFound):
        service.prove_all(session, "VN-2026-000011", tree_size=5)


def test_revocation(session: Session) -> None:
    service.append_many(session, [entry(1), entry(2)])
    assert not service.is_revoked(session, "VN-2026-000001")
    service.append(session, entry(1, version=2, kind="revoked"))
    assert service.is_revoked(session, "VN-2026-000001")
    assert service.is_revoked(session, "VN-2026-000001", document_type="form_d")
    assert not service.is_revoked(session, "VN-2026-000001", document_type="invoice")
    assert not service.is_revoked(session, "VN-2026-000002")


def test_signed_heads(session: Session) -> None:
    clock = FixedClock(T0)
    s = signer(clock)
    empty = service.current_signed_head(session, s)
    assert (empty.tree_size, empty.root_hash) == (0, merkle.EMPTY_ROOT)
    service.append_many(session, [entry(i) for i in range(5)])
    clock.advance(seconds=1.5)
    sth = service.current_signed_head(session, s)
    assert sth.tree_size == 5 and sth.id != empty.id
    assert service.current_signed_head(session, s).id == sth.id  # unchanged log: same head
    session.expire_all()  # read it back as stored, naive datetime and all on SQLite
    stored = service.latest_signed_head(session)
    assert stored is not None
    assert service.verify_signed_head(stored, s.key.public_key)
    assert not service.verify_signed_head(stored, keys.generate_key().public_key)

    for change in (
        {"tree_size": 4},
        {"root_hash": bytes(32)},
        {"signed_at": stored.signed_at + timedelta(microseconds=1)},
        {"origin": "onewindow/TH/ledger"},
        {"signature": bytes([stored.signature[0] ^ 1]) + stored.signature[1:]},
    ):
        altered = service.SignedTreeHead(
            tree_size=stored.tree_size,
            root_hash=stored.root_hash,
            signed_at=stored.signed_at,
            origin=stored.origin,
            key_id=stored.key_id,
            signature=stored.signature,
        )
        for name, value in change.items():
            setattr(altered, name, value)
        assert not service.verify_signed_head(altered, s.key.public_key), change


def test_times_are_stored_as_utc(session: Session) -> None:
    local = datetime(2026, 11, 20, 15, 0, tzinfo=timezone(timedelta(hours=7)))
    service.append(session, entry(1, logged_at=local))
    session.expire_all()
    found = service.prove(session, "VN-2026-000001")
    assert b'"logged_at":"2026-11-20T08:00:00.000000Z"' in found.leaf_data


def test_bad_entries_are_refused_whole(session: Session) -> None:
    service.append(session, entry(0))
    bad = [
        entry(1),
        entry(2, document_sha256="XYZ"),
        entry(3, issuer_country="XX"),
        entry(4, kind="deleted"),
        entry(5, logged_at=datetime(2026, 1, 1)),
        entry(6, version=0),
        entry(7, document_id=" padded "),
        entry(8, document_type=""),
        entry(9, version=True),
    ]
    with pytest.raises(InvalidInput) as caught:
        service.append_many(session, bad)
    paths = [e.path for e in caught.value.errors]
    assert paths == [
        "entries[1].document_sha256",
        "entries[2].issuer_country",
        "entries[3].kind",
        "entries[4].logged_at",
        "entries[5].version",
        "entries[6].document_id",
        "entries[7].document_type",
        "entries[8].version",
    ]
    assert service.tree_size(session) == 1
    with pytest.raises(InvalidInput, match="LeafEntry"):
        service.append_many(session, [{"document_id": "x"}])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="at most"):
        service.append_many(session, [entry(1)] * (service.MAX_BATCH + 1))
    assert service.append_many(session, []) == range(1, 1)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda s: service.head(s, 4), "the log has only 3 entries"),
        (lambda s: service.head(s, -1), "non-negative"),
        (lambda s: service.consistency(s, 2, 1), "must not exceed"),
        (lambda s: service.consistency(s, 1, 9), "only 3 entries"),
        (lambda s: service.consistency(s, "1", 2), "non-negative"),
        (lambda s: service.prove(s, "VN-2026-000001", tree_size=True), "non-negative"),
        (lambda s: service.prove(s, "x" * 101), "document_id"),
        (lambda s: service.prove(s, None), "document_id"),
        (lambda s: service.prove_index(s, -1), "non-negative"),
    ],
)
def test_bad_sizes_and_ids(session: Session, call: object, error: str) -> None:
    service.append_many(session, [entry(i) for i in range(3)])
    with pytest.raises(InvalidInput, match=error):
        call(session)  # type: ignore[operator]


def test_missing_entries(session: Session) -> None:
    service.append_many(session, [entry(i) for i in range(3)])
    with pytest.raises(NotFound):
        service.prove_index(session, 3)
    with pytest.raises(NotFound):
        service.prove_index(session, 2, tree_size=2)


def test_tampered_storage_is_detected(session: Session) -> None:
    service.append_many(session, [entry(i) for i in range(8)])
    session.execute(
        update(LedgerEntry).where(LedgerEntry.leaf_index == 5).values(document_sha256="0" * 64)
    )
    with pytest.raises(LedgerDamaged, match="no longer matches"):
        service.prove(session, "VN-2026-000005")
    session.execute(text("DELETE FROM ledger_nodes WHERE level = 2"))
    with pytest.raises(LedgerDamaged, match="missing"):
        service.prove(session, "VN-2026-000001")


def test_state_row_is_recreated(session: Session) -> None:
    session.execute(delete(LedgerState))
    assert service.tree_size(session) == 0
    assert service.append(session, entry(0)).leaf_index == 0
    assert service.tree_size(session) == 1


def test_gathered_entries_are_appended_together_at_the_end(session: Session) -> None:
    service.log_entry(session, entry(0))  # outside a block: at once
    assert service.head(session).tree_size == 1
    with service.gathered(session):
        service.log_entry(session, entry(1))
        with service.gathered(session):  # an inner block leaves the append to the outer one
            service.log_entry(session, entry(2))
        service.log_entry(session, entry(3))
        assert service.head(session).tree_size == 1
    assert service.head(session).tree_size == 4
    in_order = [leaf_data(entry(i)) for i in range(4)]
    assert service.head(session).root_hash == merkle.root_hash(in_order)

    with pytest.raises(RuntimeError), service.gathered(session):
        service.log_entry(session, entry(4))
        raise RuntimeError("the batch failed")
    assert service.head(session).tree_size == 4
    service.log_entry(session, entry(5))  # and the session logs at once again
    assert service.head(session).tree_size == 5
