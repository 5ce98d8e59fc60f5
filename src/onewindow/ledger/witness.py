"""Witnessing: this node watches its partners' logs and countersigns the heads that hold up.

Each round, for each partner: fetch its signed head; check the signature with a key that one
of the partner's certificates certifies, under the partner's log name; then check that the
head is consistent with the largest head of that partner we already cosigned (equal roots at
equal sizes, otherwise an RFC 9162 consistency proof fetched from the partner, whichever head
is older). A head that holds up is cosigned: this node's Ed25519 signature over the same
checkpoint text the partner signed, stored with it.

A head that does not hold up is stored with its alarm and its reason, and never cosigned:
- `ledger.fork_detected`: the log forked or rewrote its history (two roots for one size, a
  consistency proof that fails, or a partner that cannot prove consistency with a head it
  signed before);
- `ledger.bad_head`: a bad signature, a key none of the partner's certificates certifies, or
  a head signed under another log's name.
Alarms stay until an operator looks into them: `onewindow ledger witnesses` and
GET /api/v1/ledger/witnesses show them. A partner that does not answer, or answers garbage, is
an error of that round only (`ledger.witness_failed` in the log), not evidence of anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from onewindow.kit import keys
from onewindow.kit.certificates import read_ca, read_certificates
from onewindow.kit.config import Settings
from onewindow.kit.errors import (
    ConfigurationError,
    PartnerAnswerMalformed,
    PartnerError,
    PartnerRefused,
)
from onewindow.ledger import merkle, trust
from onewindow.ledger.encoding import ledger_origin
from onewindow.ledger.models import WitnessedHead
from onewindow.ledger.remote import Checkpoint, Fetcher, parse_consistency, parse_head
from onewindow.ledger.schemas import WitnessRead
from onewindow.ledger.service import HeadSigner

log = logging.getLogger("onewindow.ledger")
Status = Literal["ok", "alarm", "error"]


@dataclass(frozen=True)
class Partner:
    country: str
    endpoint: str
    keys: Mapping[str, Ed25519PublicKey]  # by key id


@dataclass(frozen=True)
class Outcome:
    """What one round found for one partner."""

    partner: str
    status: Status
    detail: str
    head: Checkpoint | None = None
    event: str = ""  # the log event of an alarm


def load_partners(settings: Settings, now: datetime) -> tuple[dict[str, Partner], list[str]]:
    """The partners of the settings with the keys their certificates certify (checked against
    the federation root when `ca_file` is set), and what was left out and why."""
    ca = read_ca(settings.ca_file) if settings.ca_file else None
    partners: dict[str, Partner] = {}
    problems: list[str] = []
    for country, config in sorted(settings.partners.items()):
        certificates = []
        try:
            for path in config.certificates:
                certificates.extend(read_certificates(path))
        except ConfigurationError as exc:
            problems.append(f"{country}: {exc.detail}")
        found, left_out = trust.trusted_keys(certificates, ca=ca, country=country, now=now)
        problems.extend(f"{country}: {p}" for p in left_out)
        partners[country] = Partner(country, config.endpoint, found)
    return partners, problems


# ---- one round ----


def witness_once(
    session: Session,
    partners: Mapping[str, Partner],
    fetcher: Fetcher,
    signer: HeadSigner,
    now: datetime,
) -> list[Outcome]:
    """One round over every partner, in the caller's transaction. All fetching happens before
    any write, so a slow partner never holds the database's write lock."""
    seen = [(p, observe(session, p, fetcher)) for p in partners.values()]
    for partner, outcome in seen:
        record(session, partner, outcome, signer, now)
    return [outcome for _, outcome in seen]


def observe(session: Session, partner: Partner, fetcher: Fetcher) -> Outcome:
    """Fetch the partner's head and judge it; writes nothing."""
    country = partner.country
    if not partner.keys:
        return Outcome(country, "error", f"no usable certificate is configured for {country}")
    try:
        head = parse_head(fetcher.head(partner.endpoint))
    except PartnerError as exc:
        return Outcome(country, "error", exc.detail)
    problem = head_problem(head, country, partner.keys)
    if problem:
        return Outcome(country, "alarm", problem, head, "ledger.bad_head")
    last = last_cosigned(session, country)
    if last is None:
        return Outcome(country, "ok", "first head witnessed", head)
    if head.tree_size == last.tree_size:
        if head.root_hash == last.root_hash:
            return Outcome(country, "ok", "unchanged", head)
        detail = (
            f"fork: two roots for size {head.tree_size}: {last.root_hash.hex()} (cosigned "
            f"{last.received_at:%Y-%m-%d %H:%M}Z) and now {head.root_hash.hex()}"
        )
        return Outcome(country, "alarm", detail, head, "ledger.fork_detected")
    if head.tree_size > last.tree_size:
        old, new, old_root, new_root = (
            last.tree_size,
            head.tree_size,
            last.root_hash,
            head.root_hash,
        )
    else:
        old, new, old_root, new_root = (
            head.tree_size,
            last.tree_size,
            head.root_hash,
            last.root_hash,
        )
    try:
        proof = parse_consistency(fetcher.consistency(partner.endpoint, old, new), old, new)
    except (PartnerRefused, PartnerAnswerMalformed) as exc:
        detail = f"fork: no proof that size {old} is a prefix of size {new}: {exc.detail}"
        return Outcome(country, "alarm", detail, head, "ledger.fork_detected")
    except PartnerError as exc:
        return Outcome(country, "error", exc.detail)
    if not merkle.verify_consistency(old, new, old_root, new_root, proof):
        detail = (
            f"fork: the log of size {new} does not extend the log of size {old} "
            f"(root {old_root.hex()}): the log forked or its history was rewritten"
        )
        return Outcome(country, "alarm", detail, head, "ledger.fork_detected")
    if head.tree_size < last.tree_size:
        return Outcome(country, "ok", f"an older head, consistent with size {last.tree_size}", head)
    return Outcome(country, "ok", f"grew from {old} to {new}", head)


def head_problem(
    head: Checkpoint, country: str, partner_keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Why the head is not a head of the partner's log, signed by the partner; None if it is."""
    if head.origin != ledger_origin(country):
        return f"the head is of log {head.origin!r}, not {ledger_origin(country)!r}"
    key = partner_keys.get(head.key_id)
    if key is None:
        return f"the head is signed by key {head.key_id!r}, which no certificate of {country} holds"
    if not keys.verify(key, head.signature, head.message()):
        return f"bad signature on the head of size {head.tree_size} by key {head.key_id}"
    return None


def record(
    session: Session, partner: Partner, outcome: Outcome, signer: HeadSigner, now: datetime
) -> None:
    head = outcome.head
    if outcome.status == "error" or head is None:
        log.warning("ledger.witness_failed partner=%s detail=%s", partner.country, outcome.detail)
        return
    row = session.scalar(
        select(WitnessedHead).where(
            WitnessedHead.partner_country == partner.country,
            WitnessedHead.tree_size == head.tree_size,
            WitnessedHead.root_hash == head.root_hash,
        )
    )
    if row is None:
        row = _row(partner.country, head, now)
        session.add(row)
    row.received_at = now
    if outcome.status == "alarm":
        if not row.alarm:
            row.alarm, row.alarm_detail = True, outcome.detail
            log.error(
                "%s partner=%s size=%d detail=%s",
                outcome.event,
                partner.country,
                head.tree_size,
                outcome.detail,
            )
    elif row.cosignature is None:
        # Keep the partner's valid signature, not one that failed on an earlier round.
        row.partner_key_id, row.partner_signature = head.key_id[:16], head.signature
        row.signed_at = head.signed_at
        row.cosignature, row.cosigned_at = signer.key.sign(head.message()), now
        row.cosigner_key_id = signer.key.key_id
        log.info(
            "ledger.head_witnessed partner=%s size=%d root=%s",
            partner.country,
            head.tree_size,
            head.root_hash.hex(),
        )
    session.flush()


def _row(country: str, head: Checkpoint, now: datetime) -> WitnessedHead:
    return WitnessedHead(
        partner_country=country,
        origin=head.origin,
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        signed_at=head.signed_at,
        partner_key_id=head.key_id[:16],
        partner_signature=head.signature[:512],
        received_at=now,
        alarm=False,
    )


# ---- what operators and third parties see ----


def last_cosigned(session: Session, country: str) -> WitnessedHead | None:
    """The largest head of the partner that this node checked and cosigned."""
    return session.scalar(
        select(WitnessedHead)
        .where(WitnessedHead.partner_country == country, WitnessedHead.cosignature.is_not(None))
        .order_by(WitnessedHead.tree_size.desc(), WitnessedHead.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class WitnessStatus:
    partner: str
    endpoint: str | None
    status: Literal["ok", "ALARM", "never"]
    last: WitnessedHead | None
    seen_at: datetime | None
    alarms: int
    open_alarms: int
    detail: str


def witness_status(session: Session, endpoints: Mapping[str, str]) -> list[WitnessStatus]:
    """One line per partner, configured or once witnessed. ALARM while an alarm is open (see
    `alarms.acknowledge`)."""
    is_open = WitnessedHead.alarm.is_(True) & WitnessedHead.acknowledged_at.is_(None)
    counts = {
        country: (alarms or 0, open_ or 0, seen)
        for country, alarms, open_, seen in session.execute(
            select(
                WitnessedHead.partner_country,
                func.sum(case((WitnessedHead.alarm.is_(True), 1), else_=0)),
                func.sum(case((is_open, 1), else_=0)),
                func.max(WitnessedHead.received_at),
            ).group_by(WitnessedHead.partner_country)
        )
    }
    out = []
    for country in sorted(set(endpoints) | set(counts)):
        alarms, open_alarms, seen = counts.get(country, (0, 0, None))
        last = last_cosigned(session, country)
        detail = ""
        if alarms:
            latest = session.scalars(
                select(WitnessedHead)
                .where(WitnessedHead.partner_country == country, WitnessedHead.alarm.is_(True))
                .order_by(WitnessedHead.received_at.desc(), WitnessedHead.id.desc())
                .limit(1)
            ).one()
            detail = latest.alarm_detail or ""
            if latest.acknowledged_at is not None:
                detail += f" (acknowledged by {latest.acknowledged_by}: {latest.acknowledgement})"
        status: Literal["ok", "ALARM", "never"] = (
            "ALARM" if open_alarms else ("ok" if last is not None else "never")
        )
        out.append(
            WitnessStatus(
                country,
                endpoints.get(country),
                status,
                last,
                seen,
                int(alarms),
                int(open_alarms),
                detail,
            )
        )
    return out


def to_read(status: WitnessStatus) -> WitnessRead:
    last = status.last
    return WitnessRead(
        partner=status.partner,
        endpoint=status.endpoint,
        status=status.status,
        tree_size=last.tree_size if last else None,
        root_hash=last.root_hash.hex() if last else None,
        signed_at=_utc(last.signed_at) if last else None,
        seen_at=_utc(status.seen_at) if status.seen_at else None,
        alarms=status.alarms,
        open_alarms=status.open_alarms,
        detail=status.detail,
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def cosignatures(session: Session, country: str, limit: int = 100) -> list[WitnessedHead]:
    """The partner's heads this node cosigned, largest first."""
    return list(
        session.scalars(
            select(WitnessedHead)
            .where(WitnessedHead.partner_country == country, WitnessedHead.cosignature.is_not(None))
            .order_by(WitnessedHead.tree_size.desc(), WitnessedHead.id.desc())
            .limit(limit)
        )
    )


def alarms(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.status == "alarm"]
