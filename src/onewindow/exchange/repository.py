"""Queries on the exchange tables. Nothing here decides anything: the service does."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, func, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onewindow.exchange import wakeup
from onewindow.exchange.models import (
    PENDING,
    AppliedVersion,
    DocumentIssuer,
    IncomingMessage,
    OutgoingMessage,
    Partner,
)
from onewindow.kit.db import insert_many

OUT, IN = "out", "in"


@dataclass(frozen=True)
class Claimed:
    """An outgoing message taken by a delivery worker for one attempt."""

    message_id: str
    sender: str
    receiver: str
    document_type: str
    document_id: str
    version: int
    document: bytes
    sealed: bytes | None
    created_at: datetime
    attempts: int


def claim_due(
    session: Session,
    now: datetime,
    lease_until: datetime,
    limit: int,
    exclude: Collection[str] = (),
) -> list[Claimed]:
    """Take up to `limit` messages due for an attempt and lease them until `lease_until`: a
    worker that dies mid-attempt leaves them to be retried when the lease runs out.

    One UPDATE … WHERE IN (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING: atomic on SQLite
    (the statement holds the write lock) and, on PostgreSQL, concurrent workers skip each
    other's rows instead of waiting for them. Messages to the partners in `exclude` (resting
    after failures) are left for later."""
    o = OutgoingMessage
    due = (
        select(o.message_id)
        .where(o.next_attempt_at <= now, o.status.in_(PENDING))
        .where(o.receiver.not_in(exclude) if exclude else literal(True))
        .order_by(o.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(o)
        .where(o.message_id.in_(due.scalar_subquery()))
        .values(
            status="sent",
            attempts=o.attempts + 1,
            next_attempt_at=lease_until,
            last_attempt_at=now,
        )
        .returning(
            o.message_id,
            o.sender,
            o.receiver,
            o.document_type,
            o.document_id,
            o.version,
            o.document,
            o.sealed,
            o.created_at,
            o.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(stmt).all()
    claimed = [Claimed(**row._asdict()) for row in rows]
    return sorted(claimed, key=lambda c: (c.created_at, c.message_id))


def next_due(session: Session) -> datetime | None:
    """When the next pending message is due: one read of the index, so that an idle worker
    polls without writing."""
    return session.scalar(select(func.min(OutgoingMessage.next_attempt_at)))


def expire(session: Session, queued_before: datetime, now: datetime) -> int:
    """Park as failed every pending message queued before `queued_before` (its TTL is over)."""
    o = OutgoingMessage
    result = session.execute(
        update(o)
        .where(o.next_attempt_at.is_not(None), o.status.in_(PENDING))
        .where(o.queued_at < queued_before)
        .values(
            status="failed",
            next_attempt_at=None,
            completed_at=now,
            last_error=literal("no receipt before the time to live ran out; last error: ")
            + func.coalesce(o.last_error, "none"),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def update_outgoing(session: Session, changes: Sequence[Mapping[str, Any]]) -> None:
    """Bulk UPDATE by primary key: each mapping holds `message_id` and the columns to set."""
    if changes:
        session.execute(update(OutgoingMessage), list(changes))


def outgoing(session: Session, message_id: str) -> OutgoingMessage | None:
    return session.get(OutgoingMessage, message_id)


def failed_ids(session: Session) -> list[str]:
    o = OutgoingMessage
    return list(session.scalars(select(o.message_id).where(o.status == "failed")))


def add_outgoing(session: Session, row: Mapping[str, Any]) -> None:
    """Written when the transaction flushes, not now: a caller queueing many documents builds
    them all before it takes SQLite's write lock, which the delivery worker needs too."""
    session.add(OutgoingMessage(**row))
    wakeup.mark(session)


# ---- incoming ----


def stored_receipts(
    session: Session, message_ids: Iterable[str]
) -> dict[str, tuple[bytes, str, str]]:
    """The receipt signed for each message already stored, its status and its sender."""
    ids = list(set(message_ids))
    if not ids:
        return {}
    i = IncomingMessage
    query = select(i.message_id, i.receipt, i.status, i.sender).where(i.message_id.in_(ids))
    return {r.message_id: (r.receipt, r.status, r.sender) for r in session.execute(query)}


def add_incoming(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        insert_many(session, IncomingMessage, [dict(row) for row in rows])


VersionKey = tuple[str, str, str]  # sender, document type, document id


def applied_versions(session: Session, keys: Iterable[VersionKey]) -> dict[VersionKey, int]:
    """The latest version applied of each document named."""
    wanted = set(keys)
    if not wanted:
        return {}
    v = AppliedVersion
    query = select(v.sender, v.document_type, v.document_id, v.version).where(
        v.document_id.in_({k[2] for k in wanted})
    )
    found = {(r.sender, r.document_type, r.document_id): r.version for r in session.execute(query)}
    return {k: n for k, n in found.items() if k in wanted}


def save_versions(
    session: Session, known: Iterable[VersionKey], changed: Mapping[VersionKey, tuple[int, str]]
) -> None:
    """Write the versions applied in a batch: `known` are the documents that had a row."""
    existing = set(known)
    rows = [
        {
            "sender": k[0],
            "document_type": k[1],
            "document_id": k[2],
            "version": version,
            "message_id": mid,
        }
        for k, (version, mid) in changed.items()
    ]
    new = [r for r in rows if (r["sender"], r["document_type"], r["document_id"]) not in existing]
    old = [r for r in rows if (r["sender"], r["document_type"], r["document_id"]) in existing]
    if new:
        insert_many(session, AppliedVersion, new)
    if old:
        session.execute(update(AppliedVersion), old)  # bulk UPDATE by primary key


IssuerKey = tuple[str, str]  # document type, reference


def bound_issuers(session: Session, keys: Iterable[IssuerKey]) -> dict[IssuerKey, str]:
    """The issuer bound to each reference named: one query for a whole batch."""
    wanted = set(keys)
    if not wanted:
        return {}
    d = DocumentIssuer
    query = select(d.document_type, d.reference, d.issuer).where(
        d.reference.in_({k[1] for k in wanted})
    )
    found = {(r.document_type, r.reference): r.issuer for r in session.execute(query)}
    return {k: issuer for k, issuer in found.items() if k in wanted}


def bind_issuers(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        insert_many(session, DocumentIssuer, [dict(row) for row in rows])


# ---- partners ----


def partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.country)))


# Built once, in Core: asked in most transactions that send, and cheap to run.
_PARTNERS: Table = Partner.__table__  # type: ignore[assignment]
_ACTIVE_ONE = select(_PARTNERS.c.active).where(_PARTNERS.c.country == bindparam("country"))


def partner_active(session: Session, country: str) -> bool | None:
    """Whether a partner is active (None: unknown), asked once per transaction: a caller may
    queue thousands of documents in one, and the session does not keep the row for us."""
    known: dict[str, bool | None] = session.info.setdefault("exchange.partners", {})
    if country not in known:
        known[country] = session.scalar(_ACTIVE_ONE, {"country": country})
    return known[country]


_ACTIVE = select(_PARTNERS.c.country, _PARTNERS.c.active).where(
    _PARTNERS.c.country.in_(bindparam("countries", expanding=True))
)


def partners_active(session: Session, countries: Sequence[str]) -> dict[str, bool | None]:
    """`partner_active` for several countries, those not asked yet in this transaction in
    one query."""
    known: dict[str, bool | None] = session.info.setdefault("exchange.partners", {})
    wanted = sorted(set(countries) - known.keys())
    if wanted:
        rows = session.execute(_ACTIVE, {"countries": wanted})
        found: dict[str, bool] = {row.country: row.active for row in rows}
        known.update({country: found.get(country) for country in wanted})
    return {country: known[country] for country in countries}


def touch_partner(session: Session, country: str, now: datetime) -> None:
    """Record contact from a partner. Being writes, these also take the partner's row lock
    (PostgreSQL) or the database write lock (SQLite) before anything is read, so that two
    deliveries from one partner are applied one after the other, never interleaved. A sender
    verified by the trust store but not yet in the table gets an inactive row."""
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert_(Partner)
        .values(country=country, endpoint=None, active=False, key_ids=None, updated_at=now)
        .on_conflict_do_nothing(index_elements=["country"])
    )
    session.execute(update(Partner).where(Partner.country == country).values(last_received_at=now))


# ---- reading for people ----


def _columns(direction: str) -> list[Any]:
    m: Any = OutgoingMessage if direction == OUT else IncomingMessage
    partner = m.receiver if direction == OUT else m.sender
    if direction == OUT:
        extra = [m.attempts, m.completed_at, m.last_error]
        at = m.created_at
    else:
        extra = [
            literal(1).label("attempts"),
            m.received_at.label("completed_at"),
            literal(None).label("last_error"),
        ]
        at = m.received_at
    return [
        literal(direction).label("direction"),
        m.message_id,
        partner.label("partner"),
        m.document_type,
        m.document_id,
        m.version,
        m.status,
        at.label("at"),
        *extra,
        m.reasons,
    ]


def messages(
    session: Session,
    *,
    direction: str | None = None,
    status: str | None = None,
    partner: str | None = None,
    document_type: str | None = None,
    document_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Row[Any]]:
    """Messages of both directions, newest first, with the filters given."""
    parts = []
    for d, model, other in ((OUT, OutgoingMessage, "receiver"), (IN, IncomingMessage, "sender")):
        if direction not in (None, d):
            continue
        m: Any = model
        query = select(*_columns(d))
        if status:
            query = query.where(m.status == status)
        if partner:
            query = query.where(getattr(m, other) == partner)
        if document_type:
            query = query.where(m.document_type == document_type)
        if document_id:
            query = query.where(m.document_id == document_id)
        parts.append(query)
    combined = union_all(*parts).subquery()
    ordered = select(combined).order_by(combined.c.at.desc(), combined.c.message_id)
    return list(session.execute(ordered.limit(limit).offset(offset)).all())


def stats(session: Session) -> list[Row[Any]]:
    """Counts per partner, document type, direction and status."""
    parts = []
    for d, model, other in ((OUT, OutgoingMessage, "receiver"), (IN, IncomingMessage, "sender")):
        m: Any = model
        col = getattr(m, other)
        parts.append(
            select(
                col.label("partner"),
                m.document_type,
                literal(d).label("direction"),
                m.status,
                func.count().label("count"),
            ).group_by(col, m.document_type, m.status)
        )
    combined = union_all(*parts).subquery()
    c = combined.c
    query = select(combined).order_by(c.partner, c.document_type, c.direction, c.status)
    return list(session.execute(query).all())
