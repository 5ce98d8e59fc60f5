"""The ledger's self-check against rows altered or deleted behind the node's back, and the
refusal to sign a head over a log that fails it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from onewindow.kit import keys
from onewindow.kit.clock import FixedClock
from onewindow.kit.errors import LedgerDamaged
from onewindow.ledger import merkle, selfcheck, service
from onewindow.ledger.encoding import LeafEntry, leaf_data
from onewindow.ledger.models import LedgerEntry, LedgerNode, LedgerState, SignedTreeHead

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
KEY = keys.generate_key()
SIGNER = service.HeadSigner(KEY, "onewindow/VN/ledger", FixedClock(T0))


def entry(i: int, tag: str = "doc") -> LeafEntry:
    digest = hashlib.sha256(f"{tag} {i}".encode()).hexdigest()
    return LeafEntry("form_d", f"VN-{i}", 1, "VN", digest, T0 + timedelta(seconds=i), "issued")


def grown(session: Session, n: int, signed_at: tuple[int, ...] = ()) -> None:
    """A log of n entries, with a head signed at each size in `signed_at` and at n."""
    done = 0
    for size in (*signed_at, n):
        service.append_many(session, [entry(i) for i in range(done, size)])
        service.sign_head(session, SIGNER)
        done = size


def check(session: Session, tail: int | None = None) -> selfcheck.Finding:
    return selfcheck.check(session, tail=tail, public_key=KEY.public_key)


def rewrite(session: Session, index: int, tag: str = "forged") -> None:
    """Entry `index` replaced, with its leaf hash and every stored subtree above it made
    consistent again: what a careful forger with database access does."""
    size = service.tree_size(session)
    forged = entry(index, tag)
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.leaf_index == index)
        .values(
            document_sha256=forged.document_sha256,
            leaf_hash=merkle.leaf_hash(leaf_data(forged)),
        )
    )
    hashes = [
        merkle.leaf_hash(leaf_data(entry(i, tag if i == index else "doc"))) for i in range(size)
    ]
    for (level, pos), value in merkle.subtree_nodes(hashes).items():
        if level > 0:
            session.execute(
                update(LedgerNode)
                .where(LedgerNode.level == level, LedgerNode.position == pos)
                .values(hash=value)
            )


def test_a_sound_log_passes(session: Session) -> None:
    grown(session, 300, signed_at=(1, 7, 64, 200))
    found = check(session)
    assert found.ok and found.scope == "full" and found.problem is None
    assert (found.entries, found.heads, found.tree_size) == (300, 5, 300)
    tail = check(session, tail=50)
    assert tail.ok and tail.scope == "tail" and tail.from_index == 250 and tail.entries == 50
    assert check(session, tail=1000).scope == "full"  # a tail longer than the log is all of it


def test_an_empty_log_passes(session: Session) -> None:
    assert check(session).ok
    assert check(session, tail=10).ok


def test_progress_is_reported(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selfcheck, "BATCH", 16)
    grown(session, 40)
    seen: list[tuple[int, int]] = []
    assert selfcheck.check(session, progress=lambda done, total: seen.append((done, total))).ok
    assert seen == [(16, 40), (32, 40), (40, 40)]


def test_a_tampered_document_hash_is_named_and_no_head_is_signed(session: Session) -> None:
    grown(session, 8)
    session.execute(
        update(LedgerEntry).where(LedgerEntry.leaf_index == 5).values(document_sha256="0" * 64)
    )
    found = check(session)
    assert not found.ok and found.first_bad_entry == 5
    assert found.problem is not None and found.problem.startswith("entry 5 (form_d VN-5 v1")
    assert "no longer matches its leaf hash" in found.problem
    assert check(session, tail=2).ok  # outside the tail: only a full check sees it

    selfcheck.record(session, found, T0, "test")
    service.append(session, entry(8))
    with pytest.raises(LedgerDamaged, match="failed its full check") as refused:
        service.current_signed_head(session, SIGNER)
    assert refused.value.extra["first_bad_entry"] == 5
    assert refused.value.status == 503 and refused.value.code == "ledger_damaged"
    assert session.query(SignedTreeHead).count() == 1  # the head of size 8 only

    # Put right, a full check that passes clears the failure: heads are signed again.
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.leaf_index == 5)
        .values(document_sha256=entry(5).document_sha256)
    )
    again = check(session)
    assert again.ok
    selfcheck.record(session, again, T0, "test")
    assert service.current_signed_head(session, SIGNER).tree_size == 9


def test_a_passing_tail_check_does_not_clear_a_failure(session: Session) -> None:
    grown(session, 4)
    selfcheck.record(session, selfcheck.Finding("full", 0, 4, 4, 1, False, 1, "bad"), T0, None)
    selfcheck.record(session, check(session, tail=2), T0, None)
    assert selfcheck.standing_failure(session) is not None
    assert selfcheck.latest(session).problem == "bad"  # type: ignore[union-attr]


def test_a_new_head_checks_what_it_adds(session: Session) -> None:
    """Nobody ran a check: signing the next head checks the entries since the last one."""
    grown(session, 8)
    service.append_many(session, [entry(i) for i in range(8, 12)])
    session.execute(update(LedgerEntry).where(LedgerEntry.leaf_index == 10).values(kind="revoked"))
    with pytest.raises(LedgerDamaged, match="entry 10 "):
        service.current_signed_head(session, SIGNER)


def test_a_rewritten_entry_with_its_hashes_is_caught_by_the_signed_root(session: Session) -> None:
    grown(session, 16, signed_at=(2, 9))
    rewrite(session, 11)
    found = check(session)
    assert not found.ok and found.first_bad_entry == 9
    assert found.problem == (
        "the stored log of size 16 does not have the root its signed head has: "
        "entries 9-15 were rewritten together with their stored hashes"
    )
    service.append(session, entry(16))
    with pytest.raises(LedgerDamaged, match="rewritten"):
        service.current_signed_head(session, SIGNER)


def test_a_rewritten_leaf_hash_is_caught_by_the_subtree(session: Session) -> None:
    grown(session, 8)
    forged = entry(6, "forged")
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.leaf_index == 6)
        .values(
            document_sha256=forged.document_sha256, leaf_hash=merkle.leaf_hash(leaf_data(forged))
        )
    )
    found = check(session)
    assert not found.ok and found.first_bad_entry == 6
    assert found.problem is not None and found.problem.startswith("entries 6-7 do not give")


def test_a_deleted_last_row_is_named(session: Session) -> None:
    grown(session, 7)  # an odd size: the last leaf is part of every root and proof
    session.execute(delete(LedgerEntry).where(LedgerEntry.leaf_index == 6))
    for tail in (None, 1):
        found = check(session, tail)
        assert not found.ok and found.first_bad_entry == 6
        assert found.problem == "entry 6 is missing (the log's size is 7)"
    with pytest.raises(LedgerDamaged) as proof:
        service.prove(session, "VN-3")
    assert proof.value.extra["first_bad_entry"] == 6
    with pytest.raises(LedgerDamaged):
        service.append(session, entry(7))


def test_a_truncated_log_is_named(session: Session) -> None:
    """The last row deleted and the size put back by one: proofs at the new size work, but
    the signed head covers more."""
    grown(session, 8)
    session.execute(delete(LedgerEntry).where(LedgerEntry.leaf_index == 7))
    session.execute(update(LedgerState).values(tree_size=7))
    found = check(session, tail=5)
    assert not found.ok and found.first_bad_entry == 7
    assert "last signed head covers 8" in (found.problem or "")
    with pytest.raises(LedgerDamaged, match="entries were deleted"):
        selfcheck.before_signing(session, KEY.public_key)


def test_subtrees_left_past_the_end_are_named(session: Session) -> None:
    service.append_many(session, [entry(i) for i in range(8)])  # no head signed yet
    session.execute(delete(LedgerEntry).where(LedgerEntry.leaf_index >= 6))
    session.execute(update(LedgerState).values(tree_size=6))
    found = check(session)
    assert not found.ok and found.first_bad_entry == 6
    assert "beyond the log's size 6" in (found.problem or "")


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM ledger_nodes WHERE level = 2",
        "UPDATE ledger_nodes SET hash = :junk WHERE level = 1 AND position = 2",
    ],
)
def test_altered_subtrees_are_named(session: Session, sql: str) -> None:
    grown(session, 8)
    session.execute(text(sql), {"junk": b"\x01" * 32})
    found = check(session)
    assert not found.ok and found.first_bad_entry in (0, 4)
    assert "stored subtree" in (found.problem or "")


def test_an_altered_signed_head_is_named(session: Session) -> None:
    grown(session, 8)
    session.execute(update(SignedTreeHead).values(signed_at=T0 + timedelta(days=1)))
    found = check(session)
    assert not found.ok and "does not verify with this node's key" in (found.problem or "")


def test_damage_found_while_serving_is_recorded_once(session: Session) -> None:
    grown(session, 4)
    error = LedgerDamaged("entry 3 is missing", first_bad_entry=3)
    first = selfcheck.record_damage(session, error, T0)
    assert first is not None and first.scope == "serving" and first.first_bad_entry == 3
    assert selfcheck.record_damage(session, error, T0) is None
    assert selfcheck.latest(session) is first
