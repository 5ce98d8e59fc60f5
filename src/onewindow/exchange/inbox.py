"""Receiving: verify envelopes, answer duplicates, apply documents in version order, and
sign a receipt for every message whose signature verified.

In order: verify the envelope (schema, addressee, signer, signature), answer a known message
id with the receipt already signed for it (so a retry or a replay applies nothing), refuse a
message too old to be a retry, then apply it in document version order: each version of a
document is the whole document, so the newest wins; an older or equal version arriving later
is acknowledged (`received_with_warnings`, `superseded_version`) and not applied, and a gap is
accepted (waiting for a version that may never come would block the document for good). Then
the handler registered for the document type runs inside the receiving transaction, behind a
savepoint: InvalidInput (or another 4xx domain error: NotFound, Conflict) from it rejects the
message with its coded reasons and undoes what the handler wrote; no handler means the
document is stored (`received_with_warnings`, `no_handler`). Messages refused before their
signature verified are neither stored nor answered with a signed receipt, only with a
problem: their message id is the sender's word, unauthenticated, and storing it would let
anyone pre-empt a real message with that id, signing a rejection for it would hand anyone
this node's signature on "rejected" for a message it never saw. Every receipt names the
digest of the envelope it answers, so that the sender can tell it is about what it sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from onewindow.exchange import documents, envelope, issuers, mapping, repository
from onewindow.exchange.envelope import (
    Opened,
    Reason,
    Receipt,
    ReceiptStatus,
    Signer,
)
from onewindow.exchange.handlers import Incoming, batch_scope, handler_for
from onewindow.exchange.trust import TrustStore
from onewindow.kit.errors import ConfigurationError, InvalidInput, OneWindowError, invalid

log = logging.getLogger("onewindow.exchange")
# Verification leaves freshness to `apply_verified`, which answers known messages first.
_NO_AGE_LIMIT = timedelta(days=36500)


@dataclass(frozen=True)
class Outcome:
    """What became of one envelope: the signed receipt (None when none could be made) and
    the status (processed, received, superseded, rejected, duplicate, refused, error)."""

    message_id: str | None
    receipt: bytes | None
    status: str
    reasons: tuple[Reason, ...] = ()
    http_status: int = 200


_HTTP_BY_CODE = {"too_large": 413, "malformed_xml": 400, "forbidden_dtd": 400}
_CERTIFICATE_CODES = ("untrusted_certificate", "unknown_key", "revoked_key", "signature_invalid")


def _http_status(reasons: tuple[Reason, ...]) -> int:
    for reason in reasons:
        if reason.code in _HTTP_BY_CODE:
            return _HTTP_BY_CODE[reason.code]
        if reason.code in _CERTIFICATE_CODES or reason.code.startswith("certificate"):
            return 403
    return 422


def _receipt(
    signer: Signer,
    mid: str,
    status: ReceiptStatus,
    now: datetime,
    reasons: tuple[Reason, ...] = (),
    digest: str | None = None,
) -> bytes:
    return envelope.sign_receipt(Receipt(mid, status, signer.country, now, reasons, digest), signer)


def _unverified(data: bytes, error: InvalidInput) -> Outcome:
    """Refused before its signature verified: answered with a problem, never a signed
    receipt. The message id is whatever the sender wrote; a receipt naming it would let
    anyone obtain this node's signature on "rejected" for someone else's message."""
    reasons = envelope.reasons_from(error)
    mid = envelope.message_id_of(data)
    log.warning(
        "exchange.refused_unverified claimed_message=%s reasons=%s",
        mid,
        ",".join(r.code for r in reasons),
    )
    return Outcome(None, None, "refused", reasons, _http_status(reasons))


def _refused(
    h: envelope.Header, digest: str, error: InvalidInput, signer: Signer, now: datetime
) -> Outcome:
    """Refused after its signature verified: a signed rejection naming what was refused."""
    reasons = envelope.reasons_from(error)
    receipt = _receipt(signer, h.message_id, ReceiptStatus.REJECTED, now, reasons, digest)
    log.warning(
        "exchange.refused message=%s from=%s reasons=%s",
        h.message_id,
        h.sender,
        ",".join(r.code for r in reasons),
    )
    return Outcome(h.message_id, receipt, "refused", reasons, _http_status(reasons))


def _payload(name: str, document: etree._Element) -> dict[str, Any]:
    """The document as a dict. It passed its schema in `open_envelope`: not validated again."""
    kind = documents.document_types().get(name)
    spec = kind.mapping if kind else None
    if spec is None:
        raise invalid("document_type", "no_mapping", f"{name} documents are not exchanged")
    try:
        return mapping.read(document, spec)
    except (ValueError, ArithmeticError) as exc:  # XSD allows a few values Python does not
        raise invalid("/", "unsupported_value", str(exc)) from exc


def _read(opened: Opened) -> dict[str, Any] | InvalidInput:
    """The payload, or the refusal of a document that cannot be read as one."""
    try:
        return _payload(opened.header.document_type, opened.document)
    except InvalidInput as exc:
        return exc


def _why(error: OneWindowError) -> tuple[Reason, ...]:
    """The coded reasons of a domain's refusal: InvalidInput's field errors, or the error's
    own code (a NotFound, a Conflict: retrying would not change the answer)."""
    if isinstance(error, InvalidInput) and error.errors:
        return envelope.reasons_from(error)
    return (Reason(error.code[:35], error.detail[:512] or None),)


def verify(
    data: bytes, *, trust: TrustStore, node_key: Signer, country: str, now: datetime
) -> Opened | Outcome:
    """The verified envelope, or the refusal to send back. Pure CPU work: no database."""
    try:
        verified = envelope.verify_envelope(data, trust, now=now, receiver=country)
    except InvalidInput as exc:
        return _unverified(data, exc)
    except ConfigurationError:
        raise  # this node's own set-up, not the sender's doing
    except Exception:  # a parser corner nobody foresaw: still refused, never a 500
        log.exception("exchange.unreadable_envelope")
        return _unverified(data, invalid("/", "unreadable", "the envelope cannot be read"))
    h, digest = verified.header, verified.digest
    try:
        return envelope.unpack(verified, now=now, max_age=_NO_AGE_LIMIT)
    except InvalidInput as exc:
        return _refused(h, digest, exc, node_key, now)
    except Exception:
        log.exception("exchange.unreadable_envelope")
        error = invalid("/", "unreadable", "the document cannot be read")
        return _refused(h, digest, error, node_key, now)


def receive_many(
    session: Session,
    bodies: Sequence[bytes],
    *,
    trust: TrustStore,
    node_key: Signer,
    country: str,
    now: datetime,
    isolate: bool = True,
) -> list[Outcome]:
    """Take several envelopes in one transaction; one outcome each, in order. With
    `isolate`, a handler that fails unexpectedly costs only its own message (no receipt:
    the sender will retry it) instead of the whole batch."""
    checked = [verify(b, trust=trust, node_key=node_key, country=country, now=now) for b in bodies]
    return apply_verified(
        session,
        list(zip(bodies, checked, strict=True)),
        node_key=node_key,
        now=now,
        isolate=isolate,
    )


def apply_verified(
    session: Session,
    checked: Sequence[tuple[bytes, Opened | Outcome]],
    *,
    node_key: Signer,
    now: datetime,
    isolate: bool = True,
) -> list[Outcome]:
    """The database half of `receive_many`, for envelopes already through `verify`."""
    opened = [o for _, o in checked if isinstance(o, Opened)]
    if not opened:
        return [o for _, o in checked if isinstance(o, Outcome)]
    for sender in sorted({o.header.sender for o in opened}):  # a fixed order: no deadlocks
        repository.touch_partner(session, sender, now)
    stored = repository.stored_receipts(session, (o.header.message_id for o in opened))
    keys = [(o.header.sender, o.header.document_type, o.header.document_id) for o in opened]
    versions = repository.applied_versions(session, keys)
    # Read once, though a refusal makes the batch run twice; and before it runs, so that the
    # issuers of every reference concerned come in one query.
    read: list[tuple[bytes, Opened, dict[str, Any] | InvalidInput] | Outcome] = [
        (data, o, _read(o)) if isinstance(o, Opened) else o for data, o in checked
    ]
    references = (
        issuers.key_of(r[1].header.document_type, r[2])
        for r in read
        if not isinstance(r, Outcome) and isinstance(r[2], dict)
    )
    bound = repository.bound_issuers(session, (k for k in references if k is not None))

    def run(savepoints: bool) -> tuple[_Batch, list[Outcome]]:
        batch = _Batch(session, node_key, now, dict(stored), dict(versions), isolate, savepoints)
        batch.bound = dict(bound)
        return batch, [r if isinstance(r, Outcome) else batch.apply(*r) for r in read]

    # Optimistic first: every handler inside one savepoint, which saves two statements per
    # message, and inside the domains' batch scopes (the ledger logs the batch's documents in
    # one append). Should any handler refuse its document or fail, that savepoint is rolled
    # back and the batch is applied again with a savepoint per message and no scope, so that
    # each message keeps or loses only its own writes.
    try:
        with session.begin_nested(), batch_scope(session):
            batch, outcomes = run(savepoints=False)
    except _Retry:
        batch, outcomes = run(savepoints=True)
    repository.add_incoming(session, batch.rows)
    repository.save_versions(session, versions, batch.changed)
    repository.bind_issuers(session, batch.binding)
    for row in batch.rows:
        log.info(
            "exchange.%s message=%s type=%s id=%s v%d from=%s",
            row["status"],
            row["message_id"],
            row["document_type"],
            row["document_id"],
            row["version"],
            row["sender"],
        )
    return outcomes


class _Retry(Exception):
    """A handler refused or failed in the optimistic pass of a batch."""


class _Batch:
    """Applies verified envelopes one by one and writes the stored rows together."""

    def __init__(
        self,
        session: Session,
        signer: Signer,
        now: datetime,
        stored: dict[str, tuple[bytes, str, str]],
        versions: dict[repository.VersionKey, int],
        isolate: bool,
        savepoints: bool,
    ) -> None:
        self.session, self.signer, self.now, self.isolate = session, signer, now, isolate
        self.savepoints = savepoints
        self.stored = stored
        self.versions = versions
        self.changed: dict[repository.VersionKey, tuple[int, str]] = {}
        self.rows: list[dict[str, Any]] = []
        self.bound: dict[issuers.Key, str] = {}
        self.binding: list[dict[str, Any]] = []  # references bound by this batch

    def apply(self, data: bytes, opened: Opened, payload: dict[str, Any] | InvalidInput) -> Outcome:
        h = opened.header
        if h.message_id in self.stored:
            return self._duplicate(opened)
        try:
            envelope.check_freshness(h.created, self.now)
            if isinstance(payload, InvalidInput):
                raise payload
        except InvalidInput as exc:
            return _refused(h, opened.digest, exc, self.signer, self.now)
        try:
            binds = issuers.check(
                h.document_type, payload, sender=h.sender, receiver=h.receiver, bound=self.bound
            )
        except InvalidInput as exc:
            log.warning(
                "exchange.not_issuer message=%s type=%s id=%s from=%s",
                h.message_id,
                h.document_type,
                h.document_id,
                h.sender,
            )
            why = envelope.reasons_from(exc)
            return self._store(data, opened, "rejected", ReceiptStatus.REJECTED, why)
        key = (h.sender, h.document_type, h.document_id)
        applied = self.versions.get(key, 0)
        handler = handler_for(h.document_type)
        if h.version <= applied:
            reason = Reason("superseded_version", f"version {applied} is already applied")
            return self._store(
                data, opened, "superseded", ReceiptStatus.RECEIVED_WITH_WARNINGS, (reason,)
            )
        if handler is None:
            status, receipt_status = "received", ReceiptStatus.RECEIVED_WITH_WARNINGS
            reasons: tuple[Reason, ...] = (
                Reason("no_handler", f"stored: no application here takes {h.document_type}"),
            )
        else:
            incoming = Incoming(
                h.message_id,
                h.sender,
                h.receiver,
                h.document_type,
                h.document_id,
                h.version,
                payload,
                self.now,
            )
            if not self.savepoints:
                try:
                    handler(self.session, incoming)
                    self.session.flush()
                except Exception as exc:
                    raise _Retry from exc
            else:
                try:
                    with self.session.begin_nested():
                        handler(self.session, incoming)  # leaving the block flushes its writes
                except OneWindowError as exc:
                    if exc.status >= 500:  # this node's fault: the sender retries later
                        return self._failed(h, exc)
                    return self._store(data, opened, "rejected", ReceiptStatus.REJECTED, _why(exc))
                except Exception as exc:
                    return self._failed(h, exc)
            status, receipt_status, reasons = "processed", ReceiptStatus.RECEIVED, ()
        self.versions[key] = h.version
        self.changed[key] = (h.version, h.message_id)
        if binds is not None:
            self.bound[binds] = h.sender
            self.binding.append(
                {"document_type": binds[0], "reference": binds[1], "issuer": h.sender,
                 "message_id": h.message_id, "bound_at": self.now}
            )  # fmt: skip
        return self._store(data, opened, status, receipt_status, reasons)

    def _duplicate(self, opened: Opened) -> Outcome:
        """A known message id: nothing is applied again. Its sender gets the receipt signed
        for it, naming the digest of the bytes it sent now (an operator's retry seals the
        same message anew); another partner using that id gets a rejection, not the
        receipt meant for someone else."""
        h = opened.header
        receipt, status, sender = self.stored[h.message_id]
        if sender != h.sender:
            error = invalid("Header/MessageID", "message_id_taken", "another message has this id")
            return _refused(h, opened.digest, error, self.signer, self.now)
        kept = envelope.read_receipt(receipt)
        if kept.message_digest != opened.digest:
            receipt = _receipt(
                self.signer, h.message_id, kept.status, self.now, kept.reasons, opened.digest
            )
        log.info("exchange.duplicate message=%s from=%s", h.message_id, h.sender)
        return Outcome(h.message_id, receipt, "duplicate", (), 422 if status == "rejected" else 200)

    def _failed(self, h: envelope.Header, exc: Exception) -> Outcome:
        if not self.isolate:
            raise exc
        log.error(
            "exchange.handler_failed message=%s type=%s",
            h.message_id,
            h.document_type,
            exc_info=exc,
        )
        return Outcome(h.message_id, None, "error", (), 503)

    def _store(
        self,
        data: bytes,
        opened: Opened,
        status: str,
        receipt_status: ReceiptStatus,
        reasons: tuple[Reason, ...],
    ) -> Outcome:
        h = opened.header
        receipt = _receipt(
            self.signer, h.message_id, receipt_status, self.now, reasons, opened.digest
        )
        self.stored[h.message_id] = (receipt, status, h.sender)  # the same id twice in a batch
        self.rows.append(
            {
                "message_id": h.message_id,
                "sender": h.sender,
                "receiver": h.receiver,
                "document_type": h.document_type,
                "document_id": h.document_id,
                "version": h.version,
                "created_at": h.created,
                "received_at": self.now,
                "status": status,
                "key_id": opened.key_id,
                "envelope": data,
                "receipt": receipt,
                "reasons": [{"code": r.code, "text": r.text, "pointer": r.pointer} for r in reasons]
                or None,
            }
        )
        http = 422 if receipt_status is ReceiptStatus.REJECTED else 200
        return Outcome(h.message_id, receipt, status, reasons, http)
