"""The delivery worker against a loopback partner: batches, a partner down, lost answers,
crashed workers, the time to live and operators' retries. Nothing lost, nothing applied twice.

As in test_service.py, the TH sender and the VN receiver share one database."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow.exchange import envelope, handlers, repository, service
from onewindow.exchange.envelope import ReceiptStatus
from onewindow.exchange.gateway import StaticGateway, View
from onewindow.exchange.handlers import Incoming
from onewindow.exchange.models import IncomingMessage, OutgoingMessage
from onewindow.exchange.tasks import DeliveryPolicy, DeliveryWorker
from onewindow.exchange.transport import LoopbackTransport
from onewindow.kit import db
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import PartnerConfig

Sample = Callable[[], dict[str, Any]]
RECEIVED, REJECTED = ReceiptStatus.RECEIVED, ReceiptStatus.REJECTED
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
VN = "http://vn.example"
SG = "http://sg.example"  # never answers


@dataclass
class Pair:
    """TH's worker delivering to VN's gateway through a loopback transport."""

    sessions: sessionmaker[Session]
    clock: FixedClock
    transport: LoopbackTransport
    worker: DeliveryWorker
    applied: Counter[str] = field(default_factory=Counter)
    posted: list[list[bytes]] = field(default_factory=list)

    def queue(self, sample: Sample, n: int = 1, **changes: Any) -> list[str]:
        with db.transaction(self.sessions) as s:
            return [
                service.send(
                    s,
                    **(
                        {
                            "sender": "TH",
                            "receiver": "VN",
                            "document_type": "FORM_D",
                            "document_id": f"TH-2026-{i:06d}",
                            "version": 1,
                            "payload": sample(),
                            "now": self.clock.now(),
                        }
                        | changes
                    ),
                )
                for i in range(n)
            ]

    def outgoing(self) -> dict[str, OutgoingMessage]:
        with db.transaction(self.sessions) as s:
            return {m.message_id: m for m in s.scalars(select(OutgoingMessage))}

    def statuses(self) -> Counter[str]:
        return Counter(m.status for m in self.outgoing().values())

    def incoming(self) -> int:
        with db.transaction(self.sessions) as s:
            return len(s.scalars(select(IncomingMessage.message_id)).all())


@pytest.fixture(autouse=True)
def no_domain_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the handlers a test registers itself (nodes opened earlier registered theirs)."""
    monkeypatch.setattr(handlers, "_handlers", {})


@pytest.fixture
def pair(engine: Engine, federation: Any) -> Iterator[Pair]:
    sessions = db.session_factory(engine)
    clock = FixedClock(NOW)
    with db.transaction(sessions) as s:
        partners = {"VN": PartnerConfig(endpoint=VN), "SG": PartnerConfig(endpoint=SG)}
        service.sync_partners(s, partners, now=NOW)
    transport = LoopbackTransport()
    view = View("TH", federation.th, federation.trust(), partners)
    policy = DeliveryPolicy(retry_base=1, retry_cap=8, ttl=3600, batch_size=10, timeout=5)
    worker = DeliveryWorker(sessions, StaticGateway(view), transport, clock=clock, policy=policy)
    pair = Pair(sessions, clock, transport, worker)

    def vn(envelopes: Sequence[bytes]) -> list[bytes | None]:
        pair.posted.append(list(envelopes))
        with db.transaction(sessions) as s:
            outcomes = service.receive_many(
                s,
                envelopes,
                trust=federation.trust(),
                node_key=federation.vn,
                country="VN",
                now=clock.now(),
            )
        return [o.receipt for o in outcomes]

    def count(session: Session, message: Incoming) -> None:
        pair.applied[message.message_id] += 1

    transport.routes[VN] = vn
    service.register_handler("FORM_D", count)
    yield pair
    service.unregister_handler("FORM_D")


def test_queued_documents_are_delivered_in_batches(pair: Pair, sample_form_d: Sample) -> None:
    ids = pair.queue(sample_form_d, 25)
    assert pair.worker.run_until_idle() == 25
    assert pair.statuses() == {"processed": 25}
    assert [len(batch) for batch in pair.posted] == [10, 10, 5]
    assert set(pair.applied) == set(ids) and set(pair.applied.values()) == {1}
    message = pair.outgoing()[ids[0]]
    assert message.receipt is not None and message.receipt_status == "received"
    assert message.next_attempt_at is None and message.attempts == 1


def test_a_partner_down_gets_everything_once_when_back(pair: Pair, sample_form_d: Sample) -> None:
    ids = pair.queue(sample_form_d, 12)
    pair.transport.down.add(VN)
    assert pair.worker.run_until_idle() == 10  # one batch fails, and VN is left to rest
    for message in pair.outgoing().values():
        assert message.status == "queued" and message.attempts in (0, 1)
        if message.attempts:
            assert "connection refused" in (message.last_error or "")
            assert message.next_attempt_at is not None and message.next_attempt_at > NOW
    assert pair.worker.run_once() == 0  # backing off
    for _ in range(3):  # still down: the waits grow
        pair.clock.advance(seconds=8)
        pair.worker.run_until_idle()
    assert max(m.attempts for m in pair.outgoing().values()) >= 3
    pair.transport.down.clear()
    pair.clock.advance(seconds=8)
    pair.worker.run_until_idle()
    assert pair.statuses() == {"processed": 12}
    assert sorted(pair.applied) == sorted(ids) and set(pair.applied.values()) == {1}


def test_a_partner_down_does_not_hold_up_the_others(pair: Pair, sample_form_d: Sample) -> None:
    pair.queue(sample_form_d, 30, receiver="SG")
    pair.worker.run_until_idle()  # SG is down (no route): one failed batch, then it rests
    pair.queue(sample_form_d, 5)
    pair.worker.run_until_idle()
    assert pair.statuses() == {"queued": 30, "processed": 5}
    assert [endpoint for endpoint, _ in pair.transport.posts].count(SG) == 1


def test_a_round_sends_to_its_partners_side_by_side(pair: Pair, sample_form_d: Sample) -> None:
    """Each partner's answer waits until the other partner has been posted to: sent one
    after the other, the first would give up waiting."""
    posted = {VN: threading.Event(), SG: threading.Event()}
    seen: dict[str, bool] = {}
    vn = pair.transport.routes[VN]

    def route(endpoint: str, other: str) -> Callable[[Sequence[bytes]], list[bytes | None]]:
        def answer(envelopes: Sequence[bytes]) -> list[bytes | None]:
            posted[endpoint].set()
            seen[endpoint] = posted[other].wait(5)
            return vn(envelopes) if endpoint == VN else [None] * len(envelopes)

        return answer

    pair.transport.routes |= {VN: route(VN, SG), SG: route(SG, VN)}
    pair.queue(sample_form_d, 3)
    pair.queue(sample_form_d, 2, receiver="SG", document_id="TH-2026-000500")
    assert pair.worker.run_once() == 5
    assert seen == {VN: True, SG: True}
    assert pair.statuses() == {"processed": 3, "queued": 2}  # SG gave no receipt


def test_a_lost_answer_is_retried_with_the_same_bytes(pair: Pair, sample_form_d: Sample) -> None:
    (mid,) = pair.queue(sample_form_d)
    pair.transport.lose_answers = True
    pair.worker.run_once()
    assert pair.applied[mid] == 1 and pair.statuses() == {"queued": 1}
    pair.transport.lose_answers = False
    pair.clock.advance(seconds=1)
    pair.worker.run_once()
    assert pair.posted[0] == pair.posted[1]  # identical signed bytes
    assert pair.statuses() == {"processed": 1} and pair.applied[mid] == 1
    assert pair.incoming() == 1


def test_a_worker_dying_mid_round_leaves_a_lease_that_runs_out(
    pair: Pair, sample_form_d: Sample
) -> None:
    pair.queue(sample_form_d, 3)
    now = pair.clock.now()
    with db.transaction(pair.sessions) as s:  # claimed, then the process died
        assert len(repository.claim_due(s, now, now + pair.worker.policy.lease_time, 10)) == 3
    assert pair.statuses() == {"sent": 3}
    assert pair.worker.run_once() == 0
    pair.clock.advance(seconds=pair.worker.policy.lease_time.total_seconds() + 1)
    pair.worker.run_until_idle()
    assert pair.statuses() == {"processed": 3} and set(pair.applied.values()) == {1}


def test_time_to_live_parks_messages_until_an_operator_retries(
    pair: Pair, sample_form_d: Sample
) -> None:
    ids = pair.queue(sample_form_d, 2)
    pair.transport.lose_answers = True  # VN applies them; TH never hears back
    pair.worker.run_once()
    first = [m.sealed for m in pair.outgoing().values()]
    pair.transport.down.add(VN)
    pair.clock.advance(hours=2)
    pair.worker.run_once()
    assert pair.statuses() == {"failed": 2}
    for message in pair.outgoing().values():
        error = message.last_error or ""
        assert error.startswith("no receipt before the time to live ran out; last error: the")
    with db.transaction(pair.sessions) as s:
        assert sorted(repository.failed_ids(s)) == sorted(ids)
        assert service.retry(s, ids, now=pair.clock.now()) == ids
    pair.transport.down.clear()
    pair.transport.lose_answers = False
    pair.worker.run_until_idle()
    assert pair.statuses() == {"processed": 2}
    assert set(pair.applied.values()) == {1}  # the retry was answered from VN's store
    assert all(m.sealed not in first for m in pair.outgoing().values())  # sealed afresh


def test_retry_refuses_messages_that_did_not_fail(pair: Pair, sample_form_d: Sample) -> None:
    (mid,) = pair.queue(sample_form_d)
    with pytest.raises(service.InvalidInput), db.transaction(pair.sessions) as s:
        service.retry(s, [mid], now=NOW)
    with pytest.raises(service.NotFound), db.transaction(pair.sessions) as s:
        service.retry(s, ["00000000-0000-4000-8000-000000000000"], now=NOW)


def test_a_receipt_that_does_not_verify_settles_nothing(
    pair: Pair, sample_form_d: Sample, other_federation: Any
) -> None:
    (mid,) = pair.queue(sample_form_d)

    def impostor(envelopes: Sequence[bytes]) -> list[bytes | None]:
        receipt = envelope.Receipt(mid, envelope.ReceiptStatus.RECEIVED, "VN", NOW)
        return [envelope.sign_receipt(receipt, other_federation.vn)]

    pair.transport.routes[VN] = impostor
    pair.worker.run_once()
    message = pair.outgoing()[mid]
    assert message.status == "queued" and "does not verify" in (message.last_error or "")


def test_rejections_come_back_with_their_reasons(pair: Pair, sample_form_d: Sample) -> None:
    def refuse(session: Session, message: Incoming) -> None:
        raise service.InvalidInput([service.FieldError("consignee", "unknown_importer", "no")])

    service.register_handler("FORM_D", refuse)
    (mid,) = pair.queue(sample_form_d)
    pair.worker.run_once()
    message = pair.outgoing()[mid]
    assert message.status == "rejected" and message.receipt_status == "rejected"
    assert message.reasons == [{"code": "unknown_importer", "text": "no", "pointer": "consignee"}]


def test_documents_without_a_handler_are_delivered(pair: Pair, sample_acdd: Sample) -> None:
    pair.queue(lambda: sample_acdd() | {"export_country": "TH"}, 1, document_type="ACDD")
    pair.worker.run_once()
    assert pair.statuses() == {"delivered": 1}


def test_a_message_this_node_cannot_sign_is_parked(pair: Pair, sample_form_d: Sample) -> None:
    with db.transaction(pair.sessions) as s:
        service.sync_partners(
            s, {"VN": PartnerConfig(endpoint=VN), "TH": PartnerConfig(endpoint=VN)}, now=NOW
        )
    pair.queue(sample_form_d, 1, sender="SG")  # a domain naming the wrong sender
    pair.worker.run_once()
    (message,) = pair.outgoing().values()
    assert message.status == "failed" and "cannot seal" in (message.last_error or "")


def test_messages_and_stats_show_both_directions(pair: Pair, sample_form_d: Sample) -> None:
    pair.queue(sample_form_d, 3)
    pair.worker.run_until_idle()
    pair.queue(sample_form_d, 1, document_id="TH-WAITING")
    with db.transaction(pair.sessions) as s:
        rows = repository.stats(s)
        found = {(r.partner, r.document_type, r.direction, r.status): r.count for r in rows}
        assert found == {
            ("VN", "FORM_D", "out", "processed"): 3,
            ("VN", "FORM_D", "out", "queued"): 1,
            ("TH", "FORM_D", "in", "processed"): 3,
        }
        queued = repository.messages(s, direction="out", status="queued")
        assert [m.document_id for m in queued] == ["TH-WAITING"]
        assert len(repository.messages(s, partner="TH")) == 3
        assert len(repository.messages(s, document_id="TH-2026-000001")) == 2


def test_concurrent_workers_never_send_a_message_twice(
    pair: Pair, sample_form_d: Sample, engine: Engine
) -> None:
    """Two workers (as two processes on one PostgreSQL would be), four senders each: every
    message is claimed by one of them only."""
    pair.queue(sample_form_d, 120)
    other = DeliveryWorker(
        pair.sessions,
        pair.worker.gateway,
        pair.transport,
        clock=pair.clock,
        policy=pair.worker.policy,
    )
    for worker in (pair.worker, other):
        worker.start()
    try:
        for _ in range(400):
            if pair.statuses() == {"processed": 120}:
                break
            time.sleep(0.05)
    finally:
        for worker in (pair.worker, other):
            worker.stop()
    assert pair.statuses() == {"processed": 120}
    posted = Counter(message for batch in pair.posted for message in batch)
    assert len(posted) == 120 and set(posted.values()) == {1}


def test_a_commit_that_queued_messages_wakes_the_worker(pair: Pair, sample_form_d: Sample) -> None:
    """Polling once a minute, the worker still sends at once what this process commits (here
    from a savepoint, as a received message's handler queues); what a rolled back transaction
    queued wakes it for nothing, and nothing is sent."""
    policy = pair.worker.policy.model_copy(update={"poll_interval": 60.0, "senders": 1})
    worker = DeliveryWorker(
        pair.sessions, pair.worker.gateway, pair.transport, clock=pair.clock, policy=policy
    )
    worker.start()
    try:
        time.sleep(0.2)  # its first round found nothing: it waits for the next poll
        with pytest.raises(RuntimeError), db.transaction(pair.sessions) as s:
            service.send(
                s, sender="TH", receiver="VN", document_type="FORM_D",
                document_id="TH-2026-000999", version=1, payload=sample_form_d(),
                now=pair.clock.now(),
            )  # fmt: skip
            raise RuntimeError("rolled back")
        with db.transaction(pair.sessions) as s:
            with s.begin_nested():  # as a received message's handler queues
                mid = service.send(
                    s, sender="TH", receiver="VN", document_type="FORM_D",
                    document_id="TH-2026-000998", version=1, payload=sample_form_d(),
                    now=pair.clock.now(),
                )  # fmt: skip
            time.sleep(0.3)  # released, not committed: a worker woken now would find nothing
        for _ in range(100):
            if pair.statuses() == {"processed": 1}:
                break
            time.sleep(0.05)
    finally:
        worker.stop()
    assert pair.statuses() == {"processed": 1}
    assert set(pair.applied) == {mid}


def _digest(sealed: bytes) -> str:
    """What the receiver's receipt names: SHA-256 of the envelope's C14N without Signature."""
    root = etree.fromstring(sealed)
    root.remove(root.find("{urn:onewindow:xsd:envelope:1}Signature"))
    return hashlib.sha256(envelope.canonical(root)).hexdigest()


def _forged(case: str, mid: str, sent: bytes, federation: Any, sg: Any) -> bytes:
    """A receipt for message `mid` (whose envelope was `sent`) that proves nothing."""
    digest = _digest(sent)
    no = (envelope.Reason("refused", "by whoever signed this"),)
    if case == "rejected without a digest":  # what VN used to sign for junk naming `mid`
        return envelope.sign_receipt(envelope.Receipt(mid, REJECTED, "VN", NOW, no), federation.vn)
    if case == "received with a wrong digest":
        receipt = envelope.Receipt(mid, RECEIVED, "VN", NOW, (), "ab" * 32)
        return envelope.sign_receipt(receipt, federation.vn)
    if case == "rejected with a wrong digest":
        receipt = envelope.Receipt(mid, REJECTED, "VN", NOW, no, "ab" * 32)
        return envelope.sign_receipt(receipt, federation.vn)
    assert case == "signed by another partner"
    return envelope.sign_receipt(envelope.Receipt(mid, RECEIVED, "SG", NOW, (), digest), sg)


@pytest.mark.parametrize(
    "case",
    [
        "rejected without a digest",
        "received with a wrong digest",
        "rejected with a wrong digest",
        "signed by another partner",
    ],
)
def test_a_receipt_that_proves_nothing_settles_nothing(
    case: str,
    pair: Pair,
    sample_form_d: Sample,
    federation: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The sender keeps the message on its retry schedule unless the addressee's signed
    receipt names the digest of what was sent; then the real receipt settles it."""
    sg = federation.signer("SG")
    trust = federation.trust()
    trust.add(sg.certificate)  # a partner of the federation, but not the addressee
    view = View("TH", federation.th, trust, pair.worker.gateway.current().partners)
    pair.worker.gateway = StaticGateway(view)
    (mid,) = pair.queue(sample_form_d)
    real = pair.transport.routes[VN]
    pair.transport.routes[VN] = lambda sent: [_forged(case, mid, sent[0], federation, sg)]
    with caplog.at_level("WARNING", logger="onewindow.exchange"):
        pair.worker.run_once()
    message = pair.outgoing()[mid]
    assert (message.status, message.receipt, message.completed_at) == ("queued", None, None)
    assert message.next_attempt_at is not None and message.next_attempt_at > NOW
    assert "the receipt does not verify" in (message.last_error or "")
    assert any("exchange.receipt_refused" in r.getMessage() for r in caplog.records)
    pair.transport.routes[VN] = real
    pair.clock.advance(seconds=pair.worker.policy.retry_cap)
    pair.worker.run_until_idle()
    assert pair.statuses() == {"processed": 1} and pair.applied[mid] == 1
