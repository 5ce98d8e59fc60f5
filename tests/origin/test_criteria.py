"""Origin criteria (box 8) and the issuing rules: FOB value, partial cumulation, retroactive
issue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.kit.errors import InvalidInput
from onewindow.origin import criteria
from onewindow.origin.criteria import Criterion, Kind
from onewindow.origin.documents import form_d_from_xml, form_d_to_xml

Sample = Callable[[], dict[str, Any]]


@pytest.mark.parametrize(
    ("text", "kind", "percentage", "code"),
    [
        ("WO", Kind.WO, None, "WO"),
        ("wo", Kind.WO, None, "WO"),
        ("SP", Kind.SP, None, "SP"),
        ("CC", Kind.CC, None, "CC"),
        ("CTH", Kind.CTH, None, "CTH"),
        (" ctsh ", Kind.CTSH, None, "CTSH"),
        ("40%", Kind.RVC, Decimal(40), "40%"),
        ("RVC 40%", Kind.RVC, Decimal(40), "40%"),
        ("rvc40 %", Kind.RVC, Decimal(40), "40%"),
        ("40.0%", Kind.RVC, Decimal(40), "40%"),
        ("42.5%", Kind.RVC, Decimal("42.5"), "42.5%"),
        ("100%", Kind.RVC, Decimal(100), "100%"),
        ("CTSH + 35%", Kind.CTSH, Decimal(35), "CTSH + 35%"),
        ("CTSH+RVC 35%", Kind.CTSH, Decimal(35), "CTSH + 35%"),
        ("35% + CTH", Kind.CTH, Decimal(35), "CTH + 35%"),
        ("CC + 40%", Kind.CC, Decimal(40), "CC + 40%"),
        ("PC 25%", Kind.PC, Decimal(25), "PC 25%"),
        ("pc  rvc 20%", Kind.PC, Decimal(20), "PC 20%"),
        ("PC 39.99%", Kind.PC, Decimal("39.99"), "PC 39.99%"),
    ],
)
def test_parse(text: str, kind: Kind, percentage: Decimal | None, code: str) -> None:
    criterion = criteria.parse_criterion(text)
    assert criterion == Criterion(kind, percentage)
    assert criterion.code == str(criterion) == code
    assert criterion.rvc_based is (percentage is not None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "unknown_criterion"),
        ("XYZ", "unknown_criterion"),
        ("40", "unknown_criterion"),
        ("WO + 40%", "unknown_criterion"),
        ("SP + 40%", "unknown_criterion"),
        ("CTH or 40%", "unknown_criterion"),
        ("40.123%", "unknown_criterion"),
        ("-5%", "unknown_criterion"),
        ("0%", "invalid_percentage"),
        ("101%", "invalid_percentage"),
        ("CTSH + 0%", "invalid_percentage"),
        ("PC 40%", "pc_requires_rvc_under_40"),
        ("PC 45%", "pc_requires_rvc_under_40"),
        ("PC 19.99%", "pc_below_minimum"),
        ("PC 5%", "pc_below_minimum"),
    ],
)
def test_parse_refuses(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        criteria.parse_criterion(text, path="items[3].origin_criterion")
    assert [(e.path, e.code) for e in exc.value.errors] == [("items[3].origin_criterion", code)]


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidInput):
        criteria.parse_criterion(None)


PERCENT = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)
PC_PERCENT = st.decimals(min_value=Decimal(20), max_value=Decimal("39.99"), places=2)
VALID = st.one_of(
    st.sampled_from([Criterion(k) for k in (Kind.WO, Kind.SP, Kind.CC, Kind.CTH, Kind.CTSH)]),
    PERCENT.map(lambda p: Criterion(Kind.RVC, p)),
    st.tuples(st.sampled_from(sorted(criteria.SHIFTS)), PERCENT).map(lambda t: Criterion(*t)),
    PC_PERCENT.map(lambda p: Criterion(Kind.PC, p)),
)


@given(VALID)
def test_code_round_trips(criterion: Criterion) -> None:
    assert criteria.parse_criterion(criterion.code) == criterion
    assert criteria.parse_criterion(criterion.code).code == criterion.code


@given(
    VALID, st.sampled_from([str.lower, str.upper, str.title]), st.sampled_from([" ", "  ", "\t"])
)
def test_spelling_variants_mean_the_same(
    criterion: Criterion, case: Callable[[str], str], space: str
) -> None:
    variant = space + case(criterion.code).replace(" ", space) + space
    assert criteria.parse_criterion(variant) == criterion


@settings(max_examples=40, deadline=None)
@given(VALID)
def test_canonical_codes_pass_the_schema(sample_form_d: Sample, criterion: Criterion) -> None:
    form = sample_form_d()
    form["items"][0]["origin_criterion"] = criterion.code
    assert form_d_from_xml(form_d_to_xml(form)) == form


@given(VALID, st.one_of(st.none(), st.just(Decimal(0)), st.decimals(min_value=1, max_value=10**6)))
def test_fob_is_required_exactly_when_rvc_based(criterion: Criterion, fob: Decimal | None) -> None:
    errors = criteria.check_fob(criterion, fob)
    missing = fob is None or fob <= 0
    assert bool(errors) is (criterion.rvc_based and missing)
    assert all(e.code == "fob_required" for e in errors)


def test_fob_accepts_plain_values_and_refuses_garbage() -> None:
    rvc = Criterion(Kind.RVC, Decimal(40))
    assert criteria.check_fob(rvc, "1200.50") == []
    assert criteria.check_fob(rvc, 10) == []
    assert criteria.check_fob(rvc, "NaN") != []
    assert criteria.check_fob(rvc, "many") != []
    assert criteria.check_fob(rvc, True) != []


SHIPPED = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("days", "flag", "code"),
    [
        (-5, False, None),  # issued before shipment
        (0, False, None),
        (3, False, None),
        (3, True, "retroactive_flag_unexpected"),
        (4, False, "retroactive_flag_required"),
        (4, True, None),
        (365, True, None),
        (366, True, "retroactive_too_late"),
        (400, False, "retroactive_too_late"),
    ],
)
def test_retroactive_issue(days: int, flag: bool, code: str | None) -> None:
    errors = criteria.check_retroactive(SHIPPED, SHIPPED + timedelta(days=days), flag)
    assert [e.code for e in errors] == ([code] if code else [])


def test_one_year_is_a_calendar_year() -> None:
    leap = date(2024, 2, 29)
    assert criteria.check_retroactive(leap, date(2025, 2, 28), True) == []
    assert (
        criteria.check_retroactive(leap, date(2025, 3, 1), True)[0].code == "retroactive_too_late"
    )


def one_year_after(day: date) -> date:
    if (day.month, day.day) == (2, 29):
        return date(day.year + 1, 2, 28)
    return date(day.year + 1, day.month, day.day)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(-30, 800))
def test_exactly_one_flag_state_is_right_within_a_year(shipped: date, days: int) -> None:
    issued = shipped + timedelta(days=days)
    ok = [not criteria.check_retroactive(shipped, issued, flag) for flag in (False, True)]
    within_a_year = issued <= one_year_after(shipped)
    assert sum(ok) == (1 if within_a_year else 0)
    if within_a_year:
        assert ok[1] is (days > criteria.RETROACTIVE_AFTER_DAYS)


def test_check_form_d_accepts_the_sample(sample_form_d: Sample) -> None:
    got = criteria.check_form_d(sample_form_d())
    assert got == [Criterion(Kind.RVC, Decimal(40)), Criterion(Kind.CTSH)]


def test_check_form_d_reports_every_problem(sample_form_d: Sample) -> None:
    form = sample_form_d()
    form["items"][0]["fob_value"] = None
    form["items"][1]["origin_criterion"] = "PC 25%"
    form["items"].append({**form["items"][1], "item_number": 3, "origin_criterion": "??"})
    form["certification"]["issue_date"] = form["transport"]["departure_date"] + timedelta(days=10)
    with pytest.raises(InvalidInput) as exc:
        criteria.check_form_d(form)
    assert [(e.path, e.code) for e in exc.value.errors] == [
        ("items[0].fob_value", "fob_required"),
        ("items[1].fob_value", "fob_required"),
        ("items[2].origin_criterion", "unknown_criterion"),
        ("flags.partial_cumulation", "pc_flag_required"),
        ("flags.issued_retroactively", "retroactive_flag_required"),
    ]
