"""Figures over certificates for the analysts: how much of each Form D has been used."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.origin.models import Certificate, CertificateItem


def utilisation(session: Session, start: date, end: date) -> list[tuple[str, str, int, Decimal]]:
    """(exporting country, status, certificates, share of their quantities used) of the
    certificates issued from `start` (included) to `end` (excluded), here or received."""
    stmt = (
        select(
            Certificate.exporting_country,
            Certificate.status,
            func.count(func.distinct(Certificate.id)),
            func.sum(CertificateItem.quantity),
            func.sum(CertificateItem.used_quantity),
        )
        .join(CertificateItem, CertificateItem.certificate_id == Certificate.id)
        .where(Certificate.issue_date >= start, Certificate.issue_date < end)
        .group_by(Certificate.exporting_country, Certificate.status)
        .order_by(Certificate.exporting_country, Certificate.status)
    )
    out = []
    for country, status, count, quantity, used in session.execute(stmt):
        share = Decimal(used or 0) / Decimal(quantity) if quantity else Decimal(0)
        out.append((country, status, count, share))
    return out
