"""The `native` training data: the node's own declarations with their inspection outcomes, as
the canonical risk frame (risk/frame.py), so an administration trains on its own history.

One row per item, as in the KCS data, built from the same `risk.Subject` the live scorer sees
(risk.service.canonical_rows), so training and scoring read a declaration the same way.

- label: 1 when an inspection of the declaration found an irregularity, 0 when inspections
  found it compliant, missing when it was never inspected (a document check is not a finding);
- revenue: what the inspections raised, due after − due before from the officer's findings
  (never below 0: a correction in the trader's favour raises nothing), split over the items
  in proportion to their value; missing when never inspected.

When an officer corrects the goods, the stored declaration shows the corrected values. A model
must learn from what was declared (it is what it will be shown), so values that an inspection
recorded as `declared` in its detail are put back before the row is built.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.declarations.models import Control, Declaration, DeclarationItem, TaxLineRow
from onewindow.kit import db, migrate
from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.risk.frame import conform
from onewindow.risk.service import Subject, SubjectItem, canonical_rows
from onewindow.risk.sources import Source

REVENUE_NOTE = (
    "revenue = due after − due before the inspection (officers' findings), split over the "
    "items by value; 0 when the inspection changed nothing"
)
CHUNK = 2000  # declarations read per query: bounded memory on a long history

Outcome = tuple[float, float]  # (label, revenue of the declaration); NaN when not inspected


def native_frame(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> pd.DataFrame:
    """The node's declarations lodged in [since, until) as the canonical frame."""
    subjects: list[Subject] = []
    outcomes: list[Outcome] = []
    for subject, outcome in _declarations(session, since, until):
        subjects.append(subject)
        outcomes.append(outcome)
    owner, columns = canonical_rows(subjects)
    frame = pd.DataFrame(columns)
    values = frame["value"].to_numpy(dtype=float) if len(frame) else []
    totals: dict[int, float] = {}
    for index, value in zip(owner, values, strict=True):
        totals[index] = totals.get(index, 0.0) + value
    counts = pd.Series(owner).value_counts().to_dict() if owner else {}
    labels, revenues = [], []
    for index, value in zip(owner, values, strict=True):
        label, revenue = outcomes[index]
        total = totals[index]
        share = value / total if total > 0 else 1.0 / counts[index]
        labels.append(label)
        revenues.append(revenue * share)
    frame["label"] = labels
    frame["revenue"] = revenues
    return conform(frame, source="native")


def read_native(path: Path) -> pd.DataFrame:
    """The `native` format from a file: a node's SQLite database (a copy or a backup)."""
    if not path.is_file():
        raise InvalidInput([FieldError(str(path), "not_found", "no such database file")])
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        if not migrate.current_heads(engine):
            raise InvalidInput(
                [FieldError(str(path), "not_a_node", "not a OneWindow node database")]
            )
        with db.transaction(db.session_factory(engine)) as session:
            return native_frame(session)
    finally:
        engine.dispose()


def _declarations(
    session: Session, since: datetime | None, until: datetime | None
) -> Iterator[tuple[Subject, Outcome]]:
    last = 0
    while True:
        # Plain rows, not ORM objects with their relationships: a long history must stay cheap.
        stmt = select(*_COLUMNS).where(Declaration.id > last).order_by(Declaration.id)
        if since is not None:
            stmt = stmt.where(Declaration.lodged_at >= since)
        if until is not None:
            stmt = stmt.where(Declaration.lodged_at < until)
        batch = list(session.execute(stmt.limit(CHUNK)))
        if not batch:
            return
        ids = [row.id for row in batch]
        items, duties, controls = _children(session, ids[0], ids[-1])
        for row in batch:
            declared = _declared(controls.get(row.id, []))
            subject_items = tuple(
                _item(item, duties.get((row.id, item.seq)), declared, row.exchange_rate)
                for item in items.get(row.id, [])
            )
            if subject_items:
                yield _subject(row, subject_items), _outcome(controls.get(row.id, []))
        last = ids[-1]


_COLUMNS = (
    Declaration.id,
    Declaration.number,
    Declaration.type,
    Declaration.office,
    Declaration.importer_id,
    Declaration.declarant_id,
    Declaration.exporter_name,
    Declaration.country_of_export,
    Declaration.goods_date,
    Declaration.exchange_rate,
    Declaration.pre_arrival,
    Declaration.document,
    Declaration.lodged_at,
)


def _children(
    session: Session, first: int, last: int
) -> tuple[dict[int, list[Any]], dict[tuple[int, int], Any], dict[int, list[Any]]]:
    items: dict[int, list[Any]] = {}
    stmt = (
        select(
            DeclarationItem.declaration_id,
            DeclarationItem.seq,
            DeclarationItem.hs_code,
            DeclarationItem.origin,
            DeclarationItem.net_mass_kg,
            DeclarationItem.value_national,
            DeclarationItem.preference_certificate,
        )
        .where(DeclarationItem.declaration_id.between(first, last))
        .order_by(DeclarationItem.declaration_id, DeclarationItem.seq)
    )
    for item in session.execute(stmt):
        items.setdefault(item.declaration_id, []).append(item)
    duty_stmt = select(
        TaxLineRow.declaration_id, TaxLineRow.item_seq, TaxLineRow.rate, TaxLineRow.rate_kind
    ).where(TaxLineRow.declaration_id.between(first, last), TaxLineRow.tax == "IMPORT_DUTY")
    duties = {(t.declaration_id, t.item_seq): t for t in session.execute(duty_stmt)}
    controls: dict[int, list[Any]] = {}
    control_stmt = (
        select(Control.declaration_id, Control.result, Control.detail)
        .where(Control.declaration_id.between(first, last), Control.kind == "inspection")
        .order_by(Control.id)
    )
    for control in session.execute(control_stmt):
        controls.setdefault(control.declaration_id, []).append(control)
    return items, duties, controls


def _subject(row: Any, items: tuple[SubjectItem, ...]) -> Subject:
    transport = (row.document or {}).get("transport") or {}
    return Subject(
        row.type,
        row.office,
        row.importer_id,
        row.declarant_id,
        row.exporter_name,
        row.country_of_export,
        row.goods_date,
        items,
        row.pre_arrival,
        transport_mode=str(transport.get("mode", "")),
        lodged=row.lodged_at.date(),
        reference=row.number,
    )


def _item(
    item: Any, duty: Any, declared: dict[tuple[int, str], str], exchange_rate: Decimal
) -> SubjectItem:
    out = SubjectItem(
        item.hs_code,
        item.origin,
        item.value_national,
        item.net_mass_kg,
        duty.rate if duty is not None else Decimal(0),
        duty.rate_kind if duty is not None else "",
        "ATIGA" if item.preference_certificate else "",  # the only scheme a claim can name
    )
    for (seq, name), value in declared.items():
        if seq != item.seq:
            continue
        if name == "hs_code":
            out = replace(out, hs_code=value)
        elif name == "origin":
            out = replace(out, origin=value)
        elif name == "net_mass_kg" and (mass := _decimal(value)) is not None:
            out = replace(out, net_mass_kg=mass)
        elif name == "customs_value" and (amount := _decimal(value)) is not None:
            out = replace(out, value_national=amount * exchange_rate)
    return out


def _declared(controls: list[Any]) -> dict[tuple[int, str], str]:
    """Values as declared before the first inspection corrected them, by (item, field)."""
    found: dict[tuple[int, str], str] = {}
    for control in controls:
        for entry in (control.detail or {}).get("declared", []):
            key = (int(entry["item"]), str(entry["field"]))
            found.setdefault(key, str(entry["value"]))
    return found


def _outcome(controls: list[Any]) -> Outcome:
    if not controls:
        return math.nan, math.nan
    label = 1.0 if any(c.result == "irregularity" for c in controls) else 0.0
    revenue = Decimal(0)
    for control in controls:
        detail = control.detail or {}
        before, after = _decimal(detail.get("due_before")), _decimal(detail.get("due_after"))
        if before is not None and after is not None:
            revenue += max(Decimal(0), after - before)
    return label, float(revenue)


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


# Lent to the risk domain's training sources (this domain's descriptor names it).
NATIVE = Source(read_native, REVENUE_NOTE, native_frame)
