"""Selection metrics on examples worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from onewindow.risk.evaluate import auc, report, top_k, top_metrics


def test_top_k_rounds_half_up_like_the_papers() -> None:
    assert top_k(8134, 1) == 81
    assert top_k(8134, 5) == 407
    assert top_k(50, 1) == 1  # 0.5 rounds up, where Python's round(0.5) would give 0
    assert top_k(150, 1) == 2  # 1.5 -> 2


def test_precision_recall_revenue_on_a_hand_example() -> None:
    # 20 rows; scores put rows 0,1 on top. Row 0 illicit (revenue 30), row 1 not;
    # illicit overall: rows 0, 5, 9 with revenue 30, 10, 60 (total 100).
    label = np.zeros(20)
    label[[0, 5, 9]] = 1
    revenue = np.zeros(20)
    revenue[[0, 5, 9]] = [30, 10, 60]
    score = np.linspace(1, 0, 20)
    top = top_metrics(label, revenue, score, percents=(5, 10))
    assert top["5"] == {"k": 1, "precision": 1.0, "recall": pytest.approx(1 / 3), "revenue": 0.3}
    assert top["10"] == {"k": 2, "precision": 0.5, "recall": pytest.approx(1 / 3), "revenue": 0.3}


def test_ties_are_broken_by_row_order() -> None:
    label = np.array([0, 1, 1, 0.0])
    score = np.array([0.5, 0.5, 0.5, 0.5])
    top = top_metrics(label, np.zeros(4), score, percents=(50,))
    assert top["50"]["precision"] == 0.5  # rows 0 and 1, not a lucky pick


def test_report_has_the_documented_shape() -> None:
    label = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1.0] * 10)
    doc = report(label, label * 5, np.arange(100, dtype=float), note="x")
    assert list(doc) == ["rows", "auc", "top", "note"]
    assert doc["rows"] == 100
    assert list(doc["top"]) == ["1", "2", "5", "10"]
    assert set(doc["top"]["5"]) == {"k", "precision", "recall", "revenue"}


def test_auc_is_none_with_one_class_and_exact_otherwise() -> None:
    assert auc(np.zeros(5), np.arange(5.0)) is None
    assert auc(np.array([0, 0, 1, 1.0]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
