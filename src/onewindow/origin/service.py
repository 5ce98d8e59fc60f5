"""Origin use cases: record certificates, say who may read and list them, decide preference
claims against them and count what the granted claims use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload

from onewindow.kit.auth import Principal, Role
from onewindow.kit.codes import is_country
from onewindow.kit.errors import Conflict, FieldError, InvalidInput, NotFound, Text
from onewindow.origin.models import Certificate, CertificateItem
from onewindow.origin.schemas import CertificateCreate

VALIDITY = timedelta(days=365)  # ATIGA: 12 months from issue
USABLE = frozenset({"received", "utilised"})
WITHDRAWN = frozenset({"cancelled", "replaced"})
# Every status a certificate may have: issued here (then transmitted, utilised or rejected by
# the importing side), received from a partner or recorded by hand, or withdrawn.
STATUSES = ("issued", "transmitted", "utilised", "rejected", "received", "cancelled", "replaced")
AUTHORITIES = (Role.ISSUING_AUTHORITY, Role.ADMINISTRATOR)  # issue, cancel, replace, answer
CUSTOMS = (Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR)  # ask for verification
OFFICIALS = (Role.ISSUING_AUTHORITY, *CUSTOMS)  # see verification requests and messages
CHUNK = 900  # ids per IN list: older SQLite allows 999 parameters a statement


def record_certificate(session: Session, data: CertificateCreate, now: datetime) -> Certificate:
    errors = [
        FieldError(field, "unknown_country", f"{value!r} is not an ISO 3166 country")
        for field, value in (
            ("exporting_country", data.exporting_country),
            ("importing_country", data.importing_country),
        )
        if not is_country(value)
    ]
    if errors:
        raise InvalidInput(errors)
    if session.scalar(select(Certificate.id).where(Certificate.reference == data.reference)):
        raise Conflict(f"certificate {data.reference} is already on record")
    cert = Certificate(
        **data.model_dump(exclude={"items"}),
        valid_until=data.issue_date + VALIDITY,
        status="received",
        source="recorded",
        recorded_at=now,
    )
    cert.items = [
        CertificateItem(**item.model_dump(), used_quantity=Decimal(0)) for item in data.items
    ]
    session.add(cert)
    session.flush()
    return cert


def get_certificate(session: Session, reference: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.reference == reference))


def read_certificate(session: Session, actor: Principal, reference: str) -> Certificate:
    """A certificate for `actor` to read. A trader reads those naming its party as importer
    or as exporter (box 1 of the Form D); to a trader any other is not found, as one that
    does not exist, so that references cannot be probed."""
    cert = get_certificate(session, reference)
    if cert is None or (actor.role is Role.TRADER and actor.party_id not in parties(cert)):
        raise NotFound(Text("certificate {reference} not found", reference=reference))
    return cert


def parties(cert: Certificate) -> tuple[str, ...]:
    """The parties a certificate names: its importer and, when its Form D is on record, its
    exporter."""
    exporter = exporter_id(cert)
    return (cert.importer_id, exporter) if exporter else (cert.importer_id,)


def exporter_id(cert: Certificate) -> str | None:
    """Box 1's exporter id, when the Form D is on record."""
    exporter = (cert.document or {}).get("exporter")
    return exporter.get("id") if isinstance(exporter, dict) else None


def official(actor: Principal) -> bool:
    """Whether `actor` sees what only officials see of a certificate: the messages that
    carried it, and the verification of its origin."""
    return actor.role in OFFICIALS


def _visible(actor: Principal) -> ColumnElement[bool] | None:
    """Which certificates `actor` finds in lists: a trader those naming its party (as
    `read_certificate` lets it read), the issuing authority those issued here, customs all."""
    if actor.role is Role.TRADER:
        exporter = Certificate.document[("exporter", "id")].as_string()
        return or_(Certificate.importer_id == actor.party_id, exporter == actor.party_id)
    if actor.role is Role.ISSUING_AUTHORITY:
        return Certificate.source == "issued"
    return None


def search(
    session: Session,
    actor: Principal,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Certificate]:
    """The certificates `actor` may list, newest first, of one status or all."""
    if status is not None and status not in STATUSES:
        message = Text(
            "no status {status!r}: one of {statuses}", status=status, statuses=", ".join(STATUSES)
        )
        raise InvalidInput([FieldError("status", "unknown_status", message)])
    stmt = select(Certificate).order_by(Certificate.id.desc()).limit(limit).offset(offset)
    if (where := _visible(actor)) is not None:
        stmt = stmt.where(where)
    if status is not None:
        stmt = stmt.where(Certificate.status == status)
    return list(session.scalars(stmt))


def counts(session: Session, actor: Principal) -> dict[str, int]:
    """How many certificates `actor` may list, by status."""
    stmt = select(Certificate.status, func.count()).group_by(Certificate.status)
    if (where := _visible(actor)) is not None:
        stmt = stmt.where(where)
    return {status: int(n) for status, n in session.execute(stmt).all()}


def replacing(session: Session, reference: str) -> str | None:
    """The certificate that `reference` replaced, if it was issued as a replacement."""
    return session.scalar(
        select(Certificate.reference).where(Certificate.replaced_by == reference).limit(1)
    )


def form_d_items(
    items: list[dict[str, Any]], used: Mapping[int, Decimal] | None = None
) -> list[CertificateItem]:
    """The stored items of a Form D (box 5 to 9 per item), keeping quantities already used
    against the item numbers of an earlier version."""
    used = used or {}
    return [
        CertificateItem(
            item_number=i["item_number"],
            hs_code=i["hs_code"],
            description=i["description"],
            origin_criterion=i["origin_criterion"],
            quantity=i["quantity"],
            unit=i.get("unit") or "PCE",
            used_quantity=used.get(i["item_number"], Decimal(0)),
        )
        for i in items
    ]


@dataclass(frozen=True)
class Claim:
    certificate: str
    importer_id: str
    origin: str
    hs_code: str  # the importing country's code; its first six digits are matched
    quantity: Decimal
    goods_date: date


@dataclass(frozen=True)
class Decision:
    granted: bool
    reason: str
    item_id: int | None = None


def decide(cert: Certificate | None, claim: Claim, already_claimed: Decimal) -> Decision:
    """Whether a claim may use the certificate. `already_claimed` counts earlier claims in
    the same batch that are not yet written to `used_quantity`."""
    if cert is None:
        return Decision(False, f"certificate {claim.certificate} is not on record at this node")
    if cert.status not in USABLE:
        return Decision(False, f"certificate {cert.reference} is {cert.status}")
    if cert.importer_id != claim.importer_id:
        return Decision(False, f"certificate {cert.reference} was issued for another importer")
    if cert.exporting_country != claim.origin:
        msg = f"certificate {cert.reference} certifies origin {cert.exporting_country}"
        msg += f", not {claim.origin}"
        return Decision(False, msg)
    if not cert.issue_date <= claim.goods_date <= cert.valid_until:
        msg = f"certificate {cert.reference} is valid {cert.issue_date} to {cert.valid_until}"
        return Decision(False, msg)
    matching = [i for i in cert.items if i.hs_code[:6] == claim.hs_code[:6]]
    if not matching:
        msg = f"certificate {cert.reference} covers no goods of subheading {claim.hs_code[:6]}"
        return Decision(False, msg)
    for item in matching:
        left = item.quantity - item.used_quantity - already_claimed
        if claim.quantity <= left:
            return Decision(
                True, f"ATIGA certificate {cert.reference} item {item.item_number}", item.id
            )
    return Decision(False, f"quantity exceeds what is left on certificate {cert.reference}")


def use(session: Session, uses: Iterable[tuple[int, Decimal]]) -> None:
    """Count granted claims (certificate item id, quantity) against their items: a whole
    lodging batch at once, so its items are read in one statement, not one per claim."""
    for item, quantity in _items(session, uses):
        item.used_quantity += quantity
        item.certificate.status = "utilised"


def unuse(session: Session, uses: Iterable[tuple[int, Decimal]]) -> None:
    """Give back what cancelled or amended declarations had claimed. The certificate stays
    utilised: the issuer has been told so, and a later claim may use what is given back."""
    for item, quantity in _items(session, uses):
        item.used_quantity -= quantity


def _items(
    session: Session, uses: Iterable[tuple[int, Decimal]]
) -> list[tuple[CertificateItem, Decimal]]:
    totals: dict[int, Decimal] = {}
    for item_id, quantity in uses:
        totals[item_id] = totals.get(item_id, Decimal(0)) + quantity
    ids = sorted(totals)
    found = [
        item
        for start in range(0, len(ids), CHUNK)
        for item in session.scalars(
            select(CertificateItem)
            .where(CertificateItem.id.in_(ids[start : start + CHUNK]))
            .options(joinedload(CertificateItem.certificate))
        )
    ]
    return [(item, totals[item.id]) for item in found]
