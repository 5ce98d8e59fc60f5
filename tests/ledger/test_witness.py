"""Witnessing partners' logs with the fake fetcher: growth is cosigned; forks, rewritten
history, rollbacks and bad signatures raise alarms; an unreachable partner is only an error."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit import keys
from onewindow.kit.audit import trail
from onewindow.kit.auth import Principal, Role
from onewindow.kit.clock import FixedClock
from onewindow.kit.errors import Forbidden, InvalidInput, NotFound, PartnerUnreachable
from onewindow.ledger import merkle
from onewindow.ledger.alarms import acknowledge, list_alarms
from onewindow.ledger.encoding import LeafEntry, ledger_origin, tree_head_message
from onewindow.ledger.fakes import FakeFetcher, MemoryLog
from onewindow.ledger.models import WitnessedHead
from onewindow.ledger.schemas import CosignatureRead
from onewindow.ledger.service import HeadSigner
from onewindow.ledger.witness import (
    Outcome,
    Partner,
    cosignatures,
    to_read,
    witness_once,
    witness_status,
)

TH_KEY = keys.generate_key()
VN_KEY = keys.generate_key()
OTHER_KEY = keys.generate_key()
URL = "http://th.test"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
PARTNERS = {"TH": Partner("TH", URL, {TH_KEY.key_id: TH_KEY.public_key})}


def entry(i: int, tag: str = "a") -> LeafEntry:
    digest = hashlib.sha256(f"{tag}{i}".encode()).hexdigest()
    return LeafEntry("FORM_D", f"TH-{tag}-{i}", 1, "TH", digest, T0, "issued")


def entries(n: int, tag: str = "a", start: int = 0) -> list[LeafEntry]:
    return [entry(i, tag) for i in range(start, start + n)]


@pytest.fixture
def th(clock: FixedClock) -> MemoryLog:
    log = MemoryLog("TH", TH_KEY, clock)
    log.append(*entries(5))
    return log


@pytest.fixture
def fetcher(th: MemoryLog) -> FakeFetcher:
    return FakeFetcher({URL: th})


@pytest.fixture
def run(session: Session, fetcher: FakeFetcher, clock: FixedClock) -> Any:
    signer = HeadSigner(VN_KEY, ledger_origin("VN"), clock)

    def round_() -> Outcome:
        clock.advance(minutes=1)
        (outcome,) = witness_once(session, PARTNERS, fetcher, signer, clock.now())
        return outcome

    return round_


def status(session: Session) -> Any:
    (line,) = witness_status(session, {"TH": URL})
    return to_read(line)


def test_heads_that_hold_up_are_cosigned(session: Session, th: MemoryLog, run: Any) -> None:
    first = run()
    assert (first.status, first.detail) == ("ok", "first head witnessed")
    th.append(*entries(4, start=5))
    grown = run()
    assert grown.status == "ok" and grown.detail == "grew from 5 to 9"
    assert run().detail == "unchanged"

    rows = cosignatures(session, "TH")
    assert [r.tree_size for r in rows] == [9, 5]
    for row in rows:  # our signature over exactly the checkpoint text the partner signed
        message = tree_head_message(row.origin, row.tree_size, row.root_hash, row.signed_at)
        assert VN_KEY.verify(row.cosignature, message)
        assert TH_KEY.verify(row.partner_signature, message)
    read = CosignatureRead.of(rows[0], "VN", VN_KEY)
    assert read.signed_message.startswith("onewindow/TH/ledger\n9\n")
    assert TH_KEY.verify(base64.b64decode(read.partner_signature), read.signed_message.encode())

    shown = status(session)
    assert (shown.status, shown.tree_size, shown.alarms) == ("ok", 9, 0)
    assert shown.root_hash == merkle.root_hash([r for r in _leaves(th)]).hex()


def _leaves(log: MemoryLog) -> list[bytes]:
    return log._leaves()


def _assert_alarm(
    session: Session, outcome: Outcome, caplog: pytest.LogCaptureFixture, event: str
) -> None:
    assert outcome.status == "alarm", outcome
    assert event in caplog.text
    shown = status(session)
    assert shown.status == "ALARM" and shown.detail == outcome.detail
    alarmed = session.scalars(select(WitnessedHead).where(WitnessedHead.alarm.is_(True))).all()
    assert alarmed and all(row.cosignature is None for row in alarmed)


def test_fork_same_size_other_root(
    session: Session, th: MemoryLog, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    run()
    th.entries = entries(5, tag="b")  # another log of the same size: a split view
    with caplog.at_level(logging.INFO, "onewindow.ledger"):
        outcome = run()
    assert outcome.detail.startswith("fork: two roots for size 5")
    _assert_alarm(session, outcome, caplog, "ledger.fork_detected")


def test_fork_after_a_shared_prefix(
    session: Session,
    th: MemoryLog,
    fetcher: FakeFetcher,
    run: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    th.entries = entries(6)
    assert run().status == "ok"
    th.entries = entries(4) + entries(5, tag="b", start=4)  # shares 4 entries, then diverges
    with caplog.at_level(logging.INFO, "onewindow.ledger"):
        outcome = run()
    assert ("consistency", URL, 6, 9) in fetcher.calls
    assert "does not extend the log of size 6" in outcome.detail
    _assert_alarm(session, outcome, caplog, "ledger.fork_detected")


def test_rewritten_history(
    session: Session, th: MemoryLog, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    th.append(*entries(3, start=5))
    run()
    th.entries[2] = entry(2, tag="forged")  # an old entry quietly changed...
    th.append(*entries(2, start=8))  # ...and the log grown to hide it
    with caplog.at_level(logging.INFO, "onewindow.ledger"):
        outcome = run()
    assert outcome.detail.startswith("fork: the log of size 10 does not extend")
    _assert_alarm(session, outcome, caplog, "ledger.fork_detected")


def test_rolled_back_log(
    session: Session, th: MemoryLog, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    th.append(*entries(3, start=5))
    run()
    th.entries = th.entries[:6]  # the partner restored an old backup and signs size 6
    with caplog.at_level(logging.INFO, "onewindow.ledger"):
        outcome = run()
    assert outcome.detail.startswith("fork: no proof that size 6 is a prefix of size 8")
    _assert_alarm(session, outcome, caplog, "ledger.fork_detected")


def test_an_older_consistent_head_is_fine(th: MemoryLog, fetcher: FakeFetcher, run: Any) -> None:
    stale = th.head()
    th.append(*entries(3, start=5))
    run()
    fetcher.answers[(URL, "head")] = stale  # a cache in front of the partner lags behind
    outcome = run()
    assert outcome.status == "ok" and "older head" in outcome.detail


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _resign(head: dict[str, Any], key: keys.NodeKey, origin: str | None = None) -> dict[str, Any]:
    head = dict(head, origin=origin or head["origin"], key_id=key.key_id)
    when = datetime.fromisoformat(head["signed_at"])
    message = tree_head_message(
        head["origin"], head["tree_size"], bytes.fromhex(head["root_hash"]), when
    )
    return dict(head, signature=base64.b64encode(key.sign(message)).decode())


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda h: dict(h, signature=_flip(h["signature"])), "bad signature"),
        (lambda h: dict(h, signature="not base64!"), "bad signature"),
        (lambda h: dict(h, signature=""), "bad signature"),
        (lambda h: dict(h, tree_size=h["tree_size"] + 1), "bad signature"),
        (lambda h: dict(h, root_hash="00" * 32), "bad signature"),
        (lambda h: dict(h, signed_at="2030-01-01T00:00:00Z"), "bad signature"),
        (lambda h: _resign(h, OTHER_KEY), "which no certificate of TH holds"),
        (lambda h: _resign(h, TH_KEY, "onewindow/VN/ledger"), "not 'onewindow/TH/ledger'"),
    ],
)
def test_bad_heads_raise_the_alarm(
    session: Session,
    fetcher: FakeFetcher,
    run: Any,
    caplog: pytest.LogCaptureFixture,
    tamper: Any,
    expected: str,
) -> None:
    fetcher.answers[(URL, "head")] = tamper
    with caplog.at_level(logging.INFO, "onewindow.ledger"):
        outcome = run()
    assert expected in outcome.detail
    _assert_alarm(session, outcome, caplog, "ledger.bad_head")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: dict(c, proof=c["proof"][:-1]),  # too short
        lambda c: dict(c, proof=[*c["proof"], "00" * 32]),  # too long
        lambda c: dict(c, proof=["11" * 32 for _ in c["proof"]]),  # wrong hashes
        lambda c: dict(c, proof=["zz" * 32]),  # not hex
        lambda c: dict(c, proof=["00"]),  # not 32 bytes
        lambda c: dict(c, proof="00" * 32),  # not a list
        lambda c: dict(c, old_size=1),  # for other sizes
        lambda c: ["not", "an", "object"],
    ],
)
def test_bad_consistency_proofs_raise_the_alarm(
    session: Session,
    th: MemoryLog,
    fetcher: FakeFetcher,
    run: Any,
    caplog: pytest.LogCaptureFixture,
    tamper: Any,
) -> None:
    run()
    th.append(*entries(6, start=5))
    fetcher.answers[(URL, "consistency")] = tamper
    with caplog.at_level(logging.INFO, "onewindow.ledger"):
        outcome = run()
    assert outcome.detail.startswith("fork:")
    _assert_alarm(session, outcome, caplog, "ledger.fork_detected")


@pytest.mark.parametrize(
    "answer",
    [
        PartnerUnreachable("http://th.test: connection refused"),
        ["a list"],
        {"tree_size": 5},
        {"origin": "onewindow/TH/ledger", "tree_size": -1},
        "garbage",
    ],
)
def test_unreachable_or_garbage_is_an_error_not_an_alarm(
    session: Session, fetcher: FakeFetcher, run: Any, answer: Any, th: MemoryLog
) -> None:
    honest = th.head()
    variants = [answer]
    if isinstance(answer, dict):  # and every field of a real head broken in turn
        variants = [
            dict(honest, tree_size="5"),
            dict(honest, tree_size=True),
            dict(honest, root_hash="zz" * 32),
            dict(honest, root_hash="00" * 31),
            dict(honest, signed_at="yesterday"),
            dict(honest, signed_at="2026-11-20T08:00:00"),
            dict(honest, origin="two\nlines"),
            answer,
        ]
    for variant in variants:
        fetcher.answers[(URL, "head")] = variant
        outcome = run()
        assert outcome.status == "error", (variant, outcome)
    assert session.scalars(select(WitnessedHead)).all() == []
    assert status(session).status == "never"


def test_an_alarm_stays_until_looked_into(session: Session, th: MemoryLog, run: Any) -> None:
    run()
    honest = list(th.entries)
    th.entries = entries(5, tag="b")
    assert run().status == "alarm"
    th.entries = honest + entries(2, start=5)  # back to the honest log, grown
    assert run().status == "ok"
    shown = status(session)
    assert shown.status == "ALARM" and shown.tree_size == 7 and shown.alarms == 1


def test_partner_without_usable_certificate(
    session: Session, fetcher: FakeFetcher, clock: FixedClock
) -> None:
    signer = HeadSigner(VN_KEY, ledger_origin("VN"), clock)
    partners = {"TH": Partner("TH", URL, {})}
    (outcome,) = witness_once(session, partners, fetcher, signer, clock.now())
    assert outcome.status == "error" and "no usable certificate" in outcome.detail
    assert fetcher.calls == []


def test_cosignatures_keep_the_key_that_made_them(
    session: Session, th: MemoryLog, fetcher: FakeFetcher, clock: FixedClock, run: Any
) -> None:
    """After this node rotates its key, older cosignatures still name the old key."""
    run()
    rotated = keys.generate_key()
    signer = HeadSigner(rotated, ledger_origin("VN"), clock)
    th.append(*entries(2, start=5))
    clock.advance(minutes=1)
    witness_once(session, PARTNERS, fetcher, signer, clock.now())

    newer, older = cosignatures(session, "TH")
    assert (newer.cosigner_key_id, older.cosigner_key_id) == (rotated.key_id, VN_KEY.key_id)
    shown = [CosignatureRead.of(row, "VN", rotated) for row in (newer, older)]
    assert [c.witness_key_id for c in shown] == [rotated.key_id, VN_KEY.key_id]
    assert VN_KEY.verify(base64.b64decode(shown[1].cosignature), shown[1].signed_message.encode())

    # A cosignature from before the key was kept: named only if the current key made it.
    older.cosigner_key_id = None
    assert CosignatureRead.of(older, "VN", rotated).witness_key_id is None
    assert CosignatureRead.of(older, "VN", VN_KEY).witness_key_id == VN_KEY.key_id


SUPERVISOR = Principal("super1", Role.SUPERVISOR)


def _forked(th: MemoryLog, run: Any) -> None:
    run()
    th.entries = entries(5, tag="b")  # a split view: the alarm
    assert run().status == "alarm"


def test_an_acknowledged_alarm_stays_on_record(
    session: Session, th: MemoryLog, run: Any, clock: FixedClock
) -> None:
    _forked(th, run)
    (done,) = acknowledge(session, SUPERVISOR, "TH", "  called TH's operator  ", clock.now())
    assert (done.acknowledged_by, done.acknowledgement) == ("super1", "called TH's operator")

    shown = status(session)
    assert (shown.status, shown.alarms, shown.open_alarms) == ("ok", 1, 0)
    assert shown.detail.startswith("fork: two roots for size 5")
    assert shown.detail.endswith("(acknowledged by super1: called TH's operator)")
    assert list_alarms(session, "TH") == [done] and list_alarms(session, open_only=True) == []
    (event,) = trail(session, "ledger_partner", "TH")
    assert (event.action, event.actor) == ("ledger.alarm_acknowledged", "super1")
    assert event.detail == {"alarms": [done.id], "note": "called TH's operator"}

    th.entries = entries(6, tag="c")  # new evidence: ALARM again
    assert run().status == "alarm"
    shown = status(session)
    assert (shown.status, shown.alarms, shown.open_alarms) == ("ALARM", 2, 1)


@pytest.mark.parametrize(
    ("actor", "note", "error", "says"),
    [
        (Principal("officer1", Role.OFFICER), "looked", Forbidden, "needs: supervisor"),
        (Principal("saigon", Role.TRADER, "0101234567"), "looked", Forbidden, "may not"),
        (SUPERVISOR, "   ", InvalidInput, "note: say what was found"),
        (SUPERVISOR, "x" * 1001, InvalidInput, "note: at most 1000"),
        (SUPERVISOR, "ok\x00", InvalidInput, "note: control characters"),
    ],
)
def test_acknowledging_wrongly_changes_nothing(
    session: Session,
    th: MemoryLog,
    run: Any,
    clock: FixedClock,
    actor: Principal,
    note: str,
    error: type[Exception],
    says: str,
) -> None:
    _forked(th, run)
    with pytest.raises(error) as caught:
        acknowledge(session, actor, "TH", note, clock.now())
    assert says in str(caught.value) or says in repr(getattr(caught.value, "errors", ""))
    assert status(session).open_alarms == 1
    assert trail(session, "ledger_partner", "TH") == []


def test_nothing_to_acknowledge(session: Session, run: Any, clock: FixedClock) -> None:
    run()
    with pytest.raises(NotFound, match="no open alarm for partner TH"):
        acknowledge(session, SUPERVISOR, "TH", "looked", clock.now())
