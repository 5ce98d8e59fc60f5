"""Live scoring of risk Subjects: the highest item probability, unseen codes scored, and the
strongest model contributions as short readable reasons."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from onewindow.risk import Subject, SubjectItem
from onewindow.risk.features import FEATURE_NAMES, HISTORY_KEYS
from onewindow.risk.learning import RiskModel
from onewindow.risk.scoring import KEY_WORDS, ModelScorer, describe

REASON = re.compile(r"^.+: [+-]\d+\.\d\d$")


def _item(hs: str, value: str = "5000", mass: str = "100", rate: str = "8") -> SubjectItem:
    return SubjectItem(hs, "CN", Decimal(value), Decimal(mass), Decimal(rate), "MFN")


def _subject(importer: str | None, *items: SubjectItem) -> Subject:
    return Subject(
        "IM", "10", importer, "DCL1", "S1", "CN", date(2020, 5, 4), items, lodged=date(2020, 5, 4)
    )


@pytest.fixture(scope="module")
def scorer(trained: RiskModel) -> ModelScorer:
    return ModelScorer(trained)


def test_a_risky_importer_and_code_score_higher(scorer: ModelScorer) -> None:
    risky = _subject("BAD1", _item("99999900"))
    plain = _subject("IMP3", _item("01012100"))
    low, high = scorer.score([plain, risky]) or []
    assert 0 <= low < high <= 1 and high > 0.5


def test_a_declaration_scores_as_its_riskiest_item(scorer: ModelScorer) -> None:
    bad, good = _item("99999900"), _item("01012100")
    alone = scorer.score([_subject("IMP3", bad), _subject("IMP3", good)]) or []
    mixed = scorer.score([_subject("IMP3", good, bad, good)]) or []
    assert mixed[0] == pytest.approx(max(alone))


def test_unseen_codes_are_scored_not_refused(scorer: ModelScorer) -> None:
    new = Subject("EX", "99", None, "NEW", "", "ZZ", date(2031, 1, 1), (_item("12345678"),))
    [score] = scorer.score([new]) or []
    assert 0 < score < 1


def test_opinions_give_the_score_and_short_reasons(scorer: ModelScorer) -> None:
    subjects = [_subject("BAD2", _item("99999900")), _subject(None, _item("84713000", "1"))]
    opinions = scorer.opinions(subjects) or []
    assert [o.score for o in opinions] == pytest.approx(scorer.score(subjects) or [])
    for opinion in opinions:
        assert opinion.reasons[0] == f"scored by model {scorer.version}"
        contributions = opinion.reasons[1:]
        assert 1 <= len(contributions) <= 3
        assert all(REASON.match(r) for r in contributions), contributions
    # The risky importer's own history is among what pushed its score up.
    assert any(r.startswith("importer BAD2") and ": +" in r for r in opinions[0].reasons)
    assert scorer.opinions([]) == [] and scorer.score([]) == []


def test_every_feature_reads_as_words() -> None:
    row = {
        "importer": "IMP1",
        "declarant": "DCL1",
        "seller": "S1",
        "hs6": "851713",
        "origin": "CN",
        "office": "10",
        "departure": "CN",
        "value": 1234.5,
        "net_mass": 10.0,
        "tax_rate": 8.0,
        **{c: "x" for c in ("process_type", "import_type", "import_use", "payment_type")},
        **{c: "y" for c in ("transport_mode", "tax_type", "origin_indicator")},
    }
    assert set(KEY_WORDS) == set(HISTORY_KEYS)
    words = {name: describe(name, row) for name in FEATURE_NAMES}
    assert all(text != name for name, text in words.items()), words
    assert words["rate_hs6_value"] == "HS 851713 × value history"
    assert words["n_importer"] == "importer IMP1 inspections"
    assert words["cat_transport_mode"] == "transport mode y"


def test_scores_match_the_model_on_the_same_rows(scorer: ModelScorer, trained: RiskModel) -> None:
    """The Subject mapping feeds the model exactly the canonical columns."""
    subject = _subject("IMP7", _item("64039900", "777", "3", "13"))
    columns = {
        "declaration_id": np.array([""], dtype=object),
        "date": np.array(["2020-05-04"], dtype="datetime64[D]"),
        **{
            name: np.array([value], dtype=object)
            for name, value in {
                "office": "10",
                "importer": "IMP7",
                "declarant": "DCL1",
                "seller": "S1",
                "courier": "",
                "hs6": "640399",
                "origin": "CN",
                "departure": "CN",
                "process_type": "IM",
                "import_type": "",
                "import_use": "",
                "payment_type": "",
                "transport_mode": "",
                "tax_type": "MFN",
                "origin_indicator": "",
            }.items()
        },
        "net_mass": np.array([3.0]),
        "value": np.array([777.0]),
        "tax_rate": np.array([13.0]),
    }
    expected = trained.score(columns).probability[0]
    assert (scorer.score([subject]) or [])[0] == pytest.approx(expected)
