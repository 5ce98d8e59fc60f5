"""The node's own declarations as training data (`native`): one row per item, labels and
revenue from the officers' inspection findings, and the same reading of a declaration as the
live scorer's."""

from __future__ import annotations

import math
import random
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.generator import declaration
from onewindow.declarations.history import native_frame, read_native
from onewindow.declarations.models import Control
from onewindow.declarations.repository import recent_scores
from onewindow.declarations.schemas import Correction, InspectionFindings
from onewindow.kit.auth import SYSTEM, Principal, Role
from onewindow.kit.errors import InvalidInput
from onewindow.kit.node import Node
from onewindow.risk import Selectivity, Subject, Targets, canonical_rows
from onewindow.risk.columns import COLUMNS
from onewindow.risk.frame import conform
from onewindow.risk.lanes import lanes

OFFICER = Principal("officer1", Role.OFFICER)


class Recorder:
    """A scorer that keeps what lodging showed it and gives every declaration 0.5."""

    def __init__(self) -> None:
        self.seen: list[Subject] = []

    def score(self, subjects: list[Subject]) -> list[float]:
        self.seen += subjects
        return [0.5] * len(subjects)


def _lodge(node: Node, items: tuple[int, ...], seed: int = 1) -> tuple[list[str], Recorder]:
    """Lodge declarations with these item counts, every one sent to inspection."""
    recorder = Recorder()
    lanes(node).selectivity = Selectivity(Targets(1.0, 0.0, 1.0), recorder, rng=random.Random(seed))
    rng = random.Random(seed)
    docs = [declaration(rng, date(2026, 11, 18), items=n) for n in items]
    with node.transaction() as s:
        return service.lodge(s, SYSTEM, docs, context(node)), recorder


def _inspect(node: Node, number: str, result: str, corrections: list[Correction]) -> Any:
    with node.transaction() as s:
        decl = service.record_inspection(
            s,
            OFFICER,
            number,
            InspectionFindings(result=result, corrections=corrections),
            context(node),
        )
        return decl.controls[-1].detail


def test_labels_and_revenue_come_from_the_inspections(node: Node) -> None:
    (bad, good, unseen), _ = _lodge(node, (2, 1, 3))
    raised = Correction(item=1, field="customs_value", value="99999.00")
    detail = _inspect(node, bad, "irregularity", [raised])
    _inspect(node, good, "compliant", [])
    with node.transaction() as s:
        frame = native_frame(s)

    assert list(frame.columns) == list(COLUMNS)
    assert frame.groupby("declaration_id").size().to_dict() == {bad: 2, good: 1, unseen: 3}
    rows = {n: frame[frame["declaration_id"] == n] for n in (bad, good, unseen)}
    assert (rows[bad]["label"] == 1.0).all() and (rows[good]["label"] == 0.0).all()
    assert rows[unseen]["label"].isna().all() and rows[unseen]["revenue"].isna().all()
    due = Decimal(detail["due_after"]) - Decimal(detail["due_before"])
    assert due > 0
    assert rows[bad]["revenue"].sum() == pytest.approx(float(due))
    # Split over the items by value.
    shares = rows[bad]["value"] / rows[bad]["value"].sum()
    assert rows[bad]["revenue"].tolist() == pytest.approx((shares * float(due)).tolist())
    assert rows[good]["revenue"].tolist() == [0.0]
    assert frame["hs6"].str.len().eq(6).all() and frame["date"].eq(pd.Timestamp("2026-11-20")).all()


def test_the_declared_values_are_learned_from_not_the_corrected_ones(node: Node) -> None:
    """An inspection that records what was declared before its corrections gives the model
    the declaration as lodged: that is what it will be shown."""
    (number,), recorder = _lodge(node, (1,))
    declared = recorder.seen[0].items[0].hs_code
    other = "22030010" if declared != "22030010" else "85171300"
    _inspect(node, number, "irregularity", [Correction(item=1, field="hs_code", value=other)])
    with node.transaction() as s:
        as_declared = native_frame(s)
        control = s.scalars(select(Control).where(Control.kind == "inspection")).one()
        assert control.detail["declared"] == [{"item": 1, "field": "hs_code", "value": declared}]
        control.detail = {k: v for k, v in control.detail.items() if k != "declared"}
    with node.transaction() as s:
        corrected = native_frame(s)  # an older record without `declared`: the corrected value
    assert as_declared["hs6"][0] == declared[:6]
    assert corrected["hs6"][0] == other[:6]


def test_training_and_live_scoring_read_a_declaration_the_same_way(node: Node) -> None:
    numbers, recorder = _lodge(node, (1, 2, 3, 4), seed=5)
    with node.transaction() as s:
        stored = native_frame(s)
    _, live = canonical_rows(recorder.seen)
    live_frame = conform(pd.DataFrame(live), source="live")
    compared = [c for c in COLUMNS if c not in ("declaration_id", "label", "revenue")]
    pd.testing.assert_frame_equal(stored[compared], live_frame[compared])
    assert sorted(set(stored["declaration_id"])) == sorted(numbers)


def test_a_node_database_file_is_a_native_source(node: Node, tmp_path: Path) -> None:
    if node.engine.dialect.name != "sqlite":
        pytest.skip("the file form of the native format is a SQLite database")
    _lodge(node, (2, 2))
    path = Path(node.engine.url.database or "")
    frame = read_native(path)
    assert len(frame) == 4
    with pytest.raises(InvalidInput) as missing:
        read_native(tmp_path / "nowhere.db")
    assert missing.value.errors[0].code == "not_found"
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(InvalidInput) as foreign:
        read_native(tmp_path / "empty.db")
    assert foreign.value.errors[0].code == "not_a_node"


def test_no_declarations_is_a_clear_error(node: Node) -> None:
    with node.transaction() as s, pytest.raises(InvalidInput) as empty:
        native_frame(s)
    assert empty.value.errors[0].code == "empty"


def test_recent_scores_are_those_given_since_a_time(node: Node) -> None:
    _lodge(node, (1, 1))
    since = node.clock.now()
    node.clock.advance(hours=1)  # type: ignore[attr-defined]
    _lodge(node, (1, 1, 1), seed=2)
    with node.transaction() as s:
        assert recent_scores(s, since, 10) == [0.5] * 5
        assert recent_scores(s, node.clock.now(), 2) == [0.5, 0.5]
        assert math.isclose(sum(recent_scores(s, since, 3)), 1.5)
