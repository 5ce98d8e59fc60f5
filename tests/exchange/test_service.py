"""The exchange service on SQLite and PostgreSQL: queuing, receiving, duplicates, version
order, handlers, and every way an envelope is refused with nothing applied.

Both nodes (TH sends, VN receives) share one database here: the outgoing and incoming tables
are apart, so each side sees only its own half. Separate nodes are in tests/integration.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow import ledger
from onewindow.exchange import documents, envelope, handlers, repository, service
from onewindow.exchange.envelope import ReceiptStatus
from onewindow.exchange.handlers import Incoming
from onewindow.exchange.models import IncomingMessage, OutgoingMessage, Partner
from onewindow.exchange.trust import TrustStore
from onewindow.kit import audit, db, keys
from onewindow.kit.config import PartnerConfig
from onewindow.kit.errors import FieldError, InvalidInput, InvalidTransition, NotFound, invalid
from onewindow.ledger import LedgerEntry
from onewindow.ledger import service as ledger_service

Sample = Callable[[], dict[str, Any]]
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
E = "{urn:onewindow:xsd:envelope:1}"


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    factory = db.session_factory(engine)
    with db.transaction(factory) as s:
        partners = {c: PartnerConfig(endpoint=f"http://{c.lower()}") for c in ("TH", "VN")}
        service.sync_partners(s, partners, now=NOW)
    return factory


@pytest.fixture(autouse=True)
def no_domain_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the handlers a test registers itself (nodes opened earlier registered theirs)."""
    monkeypatch.setattr(handlers, "_handlers", {})


@pytest.fixture
def applied() -> Iterator[list[Incoming]]:
    """Every Form D applied on the VN side; the handler is removed afterwards."""
    seen: list[Incoming] = []
    service.register_handler("FORM_D", lambda session, message: seen.append(message))
    yield seen
    service.unregister_handler("FORM_D")


def sealed(
    fed: Any,
    sample: Sample,
    *,
    version: int = 1,
    now: datetime = NOW,
    signer: Any = None,
    **header: Any,
) -> bytes:
    fields = {
        "sender": "TH",
        "receiver": "VN",
        "document_type": "FORM_D",
        "document_id": "TH-2026-000123",
        "version": version,
        "now": now,
    } | header
    doc = documents.build(fields["document_type"], sample())
    return envelope.seal(envelope.new_header(**fields), doc, signer or fed.th)


def receive(sessions: sessionmaker[Session], fed: Any, data: bytes, now: datetime = NOW) -> bytes:
    with db.transaction(sessions) as s:
        return service.receive(s, data, trust=fed.trust(), node_key=fed.vn, country="VN", now=now)


def receipt_of(fed: Any, data: bytes) -> envelope.Receipt:
    return envelope.open_receipt(data, fed.trust(), now=NOW, receiver="VN").receipt


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with db.transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# ---- send ----


def test_send_queues_the_validated_document(sessions: Any, sample_form_d: Sample) -> None:
    with db.transaction(sessions) as s:
        mid = service.send(
            s,
            sender="TH",
            receiver="VN",
            document_type="FORM_D",
            document_id="TH-2026-000123",
            version=1,
            payload=sample_form_d(),
            now=NOW,
        )
    with db.transaction(sessions) as s:
        row = s.get(OutgoingMessage, mid)
        assert row is not None and row.status == "queued" and row.next_attempt_at == NOW
        assert documents.from_xml("FORM_D", row.document) == sample_form_d()


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"receiver": "SG"}, NotFound, None),
        ({"receiver": "TH"}, InvalidInput, "own_country"),
        ({"document_id": "TH-1:VN-2"}, InvalidInput, "invalid_identifier"),
        ({"document_id": "X" * 41}, InvalidInput, "invalid_identifier"),
        ({"version": 0}, InvalidInput, "invalid_version"),
        ({"document_type": "NOPE"}, InvalidInput, "unknown_document_type"),
        ({"payload": {"reference": "R"}}, InvalidInput, "required"),
    ],
)
def test_send_refuses_what_could_never_be_delivered(
    sessions: Any, sample_form_d: Sample, changes: dict[str, Any], error: type, code: str | None
) -> None:
    args = {
        "sender": "TH",
        "receiver": "VN",
        "document_type": "FORM_D",
        "document_id": "TH-2026-000123",
        "version": 1,
        "payload": sample_form_d(),
    } | changes
    with pytest.raises(error) as exc, db.transaction(sessions) as s:
        service.send(s, now=NOW, **args)
    if code:
        assert code in [e.code for e in exc.value.errors]
    assert count(sessions, OutgoingMessage) == 0


def test_a_rolled_back_transaction_sends_nothing(sessions: Any, sample_form_d: Sample) -> None:
    with pytest.raises(RuntimeError), db.transaction(sessions) as s:
        service.send(
            s,
            sender="TH",
            receiver="VN",
            document_type="FORM_D",
            document_id="TH-2026-000123",
            version=1,
            payload=sample_form_d(),
            now=NOW,
        )
        raise RuntimeError("the domain failed after queuing")
    assert count(sessions, OutgoingMessage) == 0


def test_removed_partners_become_inactive(sessions: Any) -> None:
    with db.transaction(sessions) as s:
        service.sync_partners(s, {"VN": PartnerConfig(endpoint="http://vn")}, now=NOW)
        assert {p.country: p.active for p in repository.partners(s)} == {"TH": False, "VN": True}


# ---- receive ----


def test_receive_applies_once_and_signs_the_receipt(
    sessions: Any, federation: Any, sample_form_d: Sample, applied: list[Incoming]
) -> None:
    data = sealed(federation, sample_form_d)
    first = receive(sessions, federation, data)
    again = receive(sessions, federation, data, NOW + timedelta(minutes=5))
    assert again == first  # the stored receipt, signed once
    receipt = receipt_of(federation, first)
    assert receipt.status is ReceiptStatus.RECEIVED and receipt.message_digest
    assert len(applied) == 1
    message = applied[0]
    assert (message.sender, message.receiver, message.version) == ("TH", "VN", 1)
    assert message.payload == sample_form_d()
    with db.transaction(sessions) as s:
        row = s.scalars(select(IncomingMessage)).one()
        assert row.status == "processed" and row.envelope == data and row.receipt == first
        seen = s.get(Partner, "TH")
        assert seen is not None and seen.last_received_at == NOW + timedelta(minutes=5)


def test_without_a_handler_the_document_is_stored(
    sessions: Any, federation: Any, sample_form_d: Sample
) -> None:
    receipt = receipt_of(
        federation, receive(sessions, federation, sealed(federation, sample_form_d))
    )
    assert receipt.status is ReceiptStatus.RECEIVED_WITH_WARNINGS
    assert [r.code for r in receipt.reasons] == ["no_handler"]
    with db.transaction(sessions) as s:
        assert s.scalars(select(IncomingMessage.status)).all() == ["received"]


def test_versions_apply_in_order_and_gaps_are_accepted(
    sessions: Any, federation: Any, sample_form_d: Sample, applied: list[Incoming]
) -> None:
    v2, v1 = (sealed(federation, sample_form_d, version=v) for v in (2, 1))
    assert (
        receipt_of(federation, receive(sessions, federation, v2)).status is ReceiptStatus.RECEIVED
    )
    late = receipt_of(federation, receive(sessions, federation, v1))
    assert late.status is ReceiptStatus.RECEIVED_WITH_WARNINGS
    assert [r.code for r in late.reasons] == ["superseded_version"]
    receive(sessions, federation, sealed(federation, sample_form_d, version=5))
    assert [m.version for m in applied] == [2, 5]
    with db.transaction(sessions) as s:
        statuses = s.execute(select(IncomingMessage.version, IncomingMessage.status)).all()
    assert sorted(statuses) == [(1, "superseded"), (2, "processed"), (5, "processed")]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (InvalidInput([FieldError("consignee.id", "unknown_importer", "no")]),
         ("unknown_importer", "consignee.id")),
        (InvalidTransition("the certificate is cancelled"), ("invalid_transition", None)),
    ],
)  # fmt: skip
def test_a_handler_rejection_undoes_its_writes(
    sessions: Any, federation: Any, sample_form_d: Sample, error: Exception, reason: tuple
) -> None:
    def refuse(session: Session, message: Incoming) -> None:
        audit.record(
            session, at=NOW, actor="test", action="half_done", entity_type="x", entity_id="1"
        )
        raise error

    service.register_handler("FORM_D", refuse)
    receipt = receipt_of(
        federation, receive(sessions, federation, sealed(federation, sample_form_d))
    )
    assert receipt.status is ReceiptStatus.REJECTED
    assert [(r.code, r.pointer) for r in receipt.reasons] == [reason]
    assert count(sessions, audit.AuditEvent) == 0
    with db.transaction(sessions) as s:
        assert s.scalars(select(IncomingMessage.status)).all() == ["rejected"]


def test_a_handler_failure_rolls_back_only_its_message(
    sessions: Any, federation: Any, sample_form_d: Sample, sample_acdd: Sample
) -> None:
    def broken(session: Session, message: Incoming) -> None:
        raise RuntimeError("bug in a domain")

    service.register_handler("ACDD", broken)
    from_th = lambda: sample_acdd() | {"export_country": "TH"}  # noqa: E731
    acdd = sealed(federation, from_th, document_type="ACDD", document_id="VN-EX-1")
    form_d = sealed(federation, sample_form_d)
    try:
        with pytest.raises(RuntimeError):
            receive(sessions, federation, acdd)
        with db.transaction(sessions) as s:
            outcomes = service.receive_many(
                s,
                [acdd, form_d],
                trust=federation.trust(),
                node_key=federation.vn,
                country="VN",
                now=NOW,
            )
    finally:
        service.unregister_handler("ACDD")
    assert [(o.status, o.receipt is None) for o in outcomes] == [
        ("error", True),
        ("received", False),
    ]
    assert count(sessions, IncomingMessage) == 1


def receive_batch(sessions: Any, federation: Any, sample: Sample, ids: list[str]) -> list[str]:
    """Envelopes of the sample Form D under these document ids, received by VN in one batch:
    the status of each."""
    with db.transaction(sessions) as s:
        outcomes = service.receive_many(
            s,
            [sealed(federation, sample, document_id=i) for i in ids],
            trust=federation.trust(),
            node_key=federation.vn,
            country="VN",
            now=NOW,
        )
    return [o.status for o in outcomes]


def test_one_refusal_in_a_batch_costs_only_its_own_writes(
    sessions: Any, federation: Any, sample_form_d: Sample
) -> None:
    """A batch first runs all its handlers under one savepoint; a refusal sends it again, a
    savepoint per message. The documents around the refused one are applied once each."""

    def apply(session: Session, message: Incoming) -> None:
        audit.record(
            session, at=NOW, actor="test", action="applied", entity_type="x",
            entity_id=message.document_id,
        )  # fmt: skip
        if message.document_id == "TH-2-REFUSED":
            raise invalid("reference", "unknown", "refused by the domain")

    service.register_handler("FORM_D", apply)
    statuses = receive_batch(sessions, federation, sample_form_d, ["TH-1", "TH-2-REFUSED", "TH-3"])
    assert statuses == ["processed", "rejected", "processed"]
    with db.transaction(sessions) as s:
        assert s.scalars(select(audit.AuditEvent.entity_id)).all() == ["TH-1", "TH-3"]
        stored = s.execute(select(IncomingMessage.document_id, IncomingMessage.status))
        assert sorted(tuple(row) for row in stored) == [
            ("TH-1", "processed"), ("TH-2-REFUSED", "rejected"), ("TH-3", "processed")
        ]  # fmt: skip


def _tamper(data: bytes) -> bytes:
    return data.replace(b"Smartphones", b"Smartwatches")


def _entity_attack(data: bytes) -> bytes:
    bomb = b'<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    return data.replace(b"?>", b"?>" + bomb, 1).replace(b"Smartphones", b"&b;")


def _unknown_type(fed: Any, sample: Sample) -> bytes:
    root = etree.fromstring(sealed(fed, sample))
    root.find(f"{E}Header/{E}DocumentType").text = "FORM_Z"
    root.remove(root.find(f"{E}Signature"))
    algorithm, value = keys.sign_bytes(fed.th.private_key, envelope.canonical(root))
    sig = etree.SubElement(root, f"{E}Signature")
    for tag, text in (
        ("Algorithm", algorithm),
        ("KeyID", fed.th.key_id),
        ("Value", base64.b64encode(value).decode()),
    ):
        etree.SubElement(sig, f"{E}{tag}").text = text
    return etree.tostring(root)


HOSTILE: dict[str, tuple[Callable[[Any, Any, Sample], bytes], str | None, bool]] = {
    # (the envelope, the reason's code, whether its signature verified: only then is the
    # refusal a signed receipt; before, the message id is anyone's word)
    "altered content": (lambda f, o, s: _tamper(sealed(f, s)), "signature_invalid", False),
    "another federation": (lambda f, o, s: sealed(f, s, signer=o.th), "unknown_key", False),
    "wrong addressee": (lambda f, o, s: sealed(f, s, receiver="SG"), "wrong_receiver", False),
    "replayed old message": (
        lambda f, o, s: sealed(f, s, now=NOW - timedelta(days=3)),
        "message_too_old",
        True,
    ),
    "unknown document type": (
        lambda f, o, s: _unknown_type(f, s),
        "unknown_document_type",
        True,
    ),
    "entity attack": (lambda f, o, s: _entity_attack(sealed(f, s)), None, False),
    "malformed": (lambda f, o, s: sealed(f, s)[:-40], None, False),
    "oversized": (lambda f, o, s: sealed(f, s) + b" " * 3_000_000, None, False),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_envelopes_are_refused_and_nothing_is_applied(
    case: str,
    sessions: Any,
    federation: Any,
    other_federation: Any,
    sample_form_d: Sample,
    applied: list[Incoming],
) -> None:
    make, code, verified = HOSTILE[case]
    data = make(federation, other_federation, sample_form_d)
    if not verified:  # refused before the signature verified: no one to sign a receipt for
        with pytest.raises(InvalidInput) as refused:
            receive(sessions, federation, data)
        if code:
            assert code in [e.code for e in refused.value.errors]
    else:
        receipt = receipt_of(federation, receive(sessions, federation, data))
        assert receipt.status is ReceiptStatus.REJECTED
        assert code in [r.code for r in receipt.reasons]
        assert receipt.message_digest == envelope.digest_of(data)  # names what was refused
    assert applied == [] and count(sessions, IncomingMessage) == 0


def test_a_batch_is_logged_in_one_ledger_append(
    sessions: Any, federation: Any, sample_form_d: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Handlers that log to the ledger in the batch's scope: one append for the batch, in
    the messages' order; after a refusal, one append each for the documents kept."""
    appends: list[int] = []
    real_append = ledger_service.append_many

    def counted(session: Session, entries: Any) -> range:
        appends.append(len(entries))
        return real_append(session, entries)

    monkeypatch.setattr(ledger_service, "append_many", counted)
    monkeypatch.setattr(handlers, "_scopes", {})
    service.register_batch_scope("ledger", ledger.gathered)

    def apply(session: Session, message: Incoming) -> None:
        digest = "0" * 64
        ledger.log_entry(session, ledger.LeafEntry(
            "FORM_D", message.document_id, 1, "TH", digest, NOW, "received"))  # fmt: skip
        if message.document_id.endswith("REFUSED"):
            raise invalid("reference", "unknown", "refused by the domain")

    service.register_handler("FORM_D", apply)
    kept = receive_batch(sessions, federation, sample_form_d, ["TH-1", "TH-2", "TH-3"])
    assert kept == ["processed"] * 3
    assert appends == [3]
    refused = receive_batch(sessions, federation, sample_form_d, ["TH-4", "TH-5-REFUSED", "TH-6"])
    assert refused == ["processed", "rejected", "processed"]
    # The optimistic pass appended nothing (a refusal ends it before its scope does); then
    # one append per message, the refused one's rolled back with its savepoint.
    assert appends == [3, 1, 1, 1]
    with db.transaction(sessions) as s:
        logged = s.scalars(select(LedgerEntry.document_id).order_by(LedgerEntry.leaf_index))
        assert logged.all() == ["TH-1", "TH-2", "TH-3", "TH-4", "TH-6"]
        assert ledger.head(s).tree_size == 5


def test_a_message_id_taken_by_another_sender_gets_a_rejection_not_its_receipt(
    sessions: Any, federation: Any, sample_form_d: Sample, applied: list[Incoming]
) -> None:
    first = receive(sessions, federation, sealed(federation, sample_form_d))
    sg = federation.signer("SG")
    with db.transaction(sessions) as s:
        partners = {c: PartnerConfig(endpoint=f"http://{c.lower()}") for c in ("TH", "VN", "SG")}
        service.sync_partners(s, partners, now=NOW)
    trust = TrustStore(
        federation.authority.certificate,
        [federation.th.certificate, federation.vn.certificate, sg.certificate],
    )
    mid = envelope.read_receipt(first).message_id
    header = envelope.Header(mid, "SG", "VN", "FORM_D", "TH-2026-000123", 2, NOW)
    taken = envelope.seal(header, documents.build("FORM_D", sample_form_d()), sg)
    with db.transaction(sessions) as s:
        answer = service.receive(
            s, taken, trust=trust, node_key=federation.vn, country="VN", now=NOW
        )
    receipt = envelope.read_receipt(answer)
    assert answer != first and receipt.status is ReceiptStatus.REJECTED
    assert [r.code for r in receipt.reasons] == ["message_id_taken"]
    assert len(applied) == 1  # TH's message, once
