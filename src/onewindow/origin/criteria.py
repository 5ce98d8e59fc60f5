"""ATIGA Form D origin criteria (box 8) and the issuing rules around them. Pure.

Box 8 holds one of: `WO` (wholly obtained), a regional value content such as `40%`, a change
of tariff classification (`CC`, `CTH`, `CTSH`), `SP` (specific process), a tariff shift with a
value content (`CTSH + 35%`), or partial cumulation (`PC 25%`). `parse_criterion` accepts the
usual ways people write them (`RVC 40%`, `ctsh+35 %`) and returns one canonical value, whose
`code` is what goes on the wire.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from onewindow.kit.errors import FieldError, InvalidInput, Text

# ATIGA Art. 30(2): material with an RVC under 40 % may still be cumulated in proportion to
# its value content, provided that content is at least 20 %.
RVC_GENERAL_RULE = Decimal(40)
PC_MINIMUM = Decimal(20)
# Issued more than this many days after shipment means issued retroactively (box 13).
RETROACTIVE_AFTER_DAYS = 3
RETROACTIVE_LIMIT_YEARS = 1

_PCT = r"(?:RVC\s*)?(\d{1,3}(?:\.\d{1,2})?)\s*%"
_SHIFT = r"(CC|CTH|CTSH)"
_PATTERNS = (
    (re.compile(r"^(WO|SP|CC|CTH|CTSH)$"), "plain"),
    (re.compile(rf"^{_PCT}$"), "rvc"),
    (re.compile(rf"^{_SHIFT}\s*\+\s*{_PCT}$"), "shift_rvc"),
    (re.compile(rf"^{_PCT}\s*\+\s*{_SHIFT}$"), "rvc_shift"),
    (re.compile(rf"^PC\s*{_PCT}$"), "pc"),
)


class Kind(StrEnum):
    WO = "WO"
    RVC = "RVC"
    CC = "CC"
    CTH = "CTH"
    CTSH = "CTSH"
    SP = "SP"
    PC = "PC"


SHIFTS = frozenset({Kind.CC, Kind.CTH, Kind.CTSH})


@dataclass(frozen=True)
class Criterion:
    """`kind` is the rule; `percentage` the value content it states, if any. A tariff shift
    with a percentage is the combined criterion (`CTSH + 35%`)."""

    kind: Kind
    percentage: Decimal | None = None

    @property
    def rvc_based(self) -> bool:
        return self.percentage is not None

    @property
    def code(self) -> str:
        if self.percentage is None:
            return self.kind.value
        pct = f"{_format_percentage(self.percentage)}%"
        if self.kind is Kind.RVC:
            return pct
        if self.kind is Kind.PC:
            return f"PC {pct}"
        return f"{self.kind.value} + {pct}"

    def __str__(self) -> str:
        return self.code


def _format_percentage(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _error(path: str, code: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError(path, code, message)])


def parse_criterion(text: str, *, path: str = "origin_criterion") -> Criterion:
    """The criterion written in `text`; InvalidInput (`unknown_criterion`,
    `invalid_percentage`, `pc_requires_rvc_under_40`, `pc_below_minimum`) otherwise."""
    if not isinstance(text, str):
        raise _error(path, "unknown_criterion", Text("the origin criterion must be text"))
    normal = " ".join(text.upper().split())
    for pattern, shape in _PATTERNS:
        match = pattern.match(normal)
        if match:
            return _criterion(shape, match.groups(), path)
    raise _error(
        path,
        "unknown_criterion",
        Text(
            "{text!r} is not an origin criterion: use WO, CC, CTH, CTSH, SP, a value content "
            "such as 40%, a combination such as CTSH + 35%, or PC 25%",
            text=text,
        ),
    )


def _criterion(shape: str, groups: tuple[str, ...], path: str) -> Criterion:
    if shape == "plain":
        return Criterion(Kind(groups[0]))
    if shape == "rvc":
        return Criterion(Kind.RVC, _percentage(groups[0], path))
    if shape == "shift_rvc":
        return Criterion(Kind(groups[0]), _percentage(groups[1], path))
    if shape == "rvc_shift":
        return Criterion(Kind(groups[1]), _percentage(groups[0], path))
    value = _percentage(groups[0], path)
    if value >= RVC_GENERAL_RULE:
        raise _error(
            path,
            "pc_requires_rvc_under_40",
            Text("partial cumulation applies only below 40 % RVC"),
        )
    if value < PC_MINIMUM:
        message = Text("partial cumulation needs at least {minimum} %", minimum=PC_MINIMUM)
        raise _error(path, "pc_below_minimum", message)
    return Criterion(Kind.PC, value)


def _percentage(text: str, path: str) -> Decimal:
    value = Decimal(text)
    if not 0 < value <= 100:
        message = Text("{text} % is not a percentage above 0", text=text)
        raise _error(path, "invalid_percentage", message)
    return value


# ---- the rules a Form D must follow ----


def check_fob(criterion: Criterion, fob_value: Any, *, path: str = "fob_value") -> list[FieldError]:
    """Box 9: a criterion based on value content needs the FOB value it was computed from."""
    if criterion.rvc_based and not _positive(fob_value):
        message = Text(
            "the FOB value is required with the criterion {criterion}", criterion=criterion.code
        )
        return [FieldError(path, "fob_required", message)]
    return []


def _positive(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        return False
    try:
        return Decimal(str(value)) > 0
    except ArithmeticError:  # decimal.InvalidOperation on text that is not a number
        return False


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_retroactive(
    shipped: date,
    issued: date,
    retroactive: bool,
    *,
    after_days: int = RETROACTIVE_AFTER_DAYS,
    limit_years: int = RETROACTIVE_LIMIT_YEARS,
    issue_path: str = "certification.issue_date",
    flag_path: str = "flags.issued_retroactively",
) -> list[FieldError]:
    """A Form D issued more than `after_days` after shipment must say it was issued
    retroactively, one issued in time must not, and none may be issued more than
    `limit_years` after shipment."""
    if issued > _add_years(shipped, limit_years):
        message = Text(
            "issued more than {years} year(s) after shipment on {shipped}",
            years=limit_years,
            shipped=shipped,
        )
        return [FieldError(issue_path, "retroactive_too_late", message)]
    late = issued > shipped + timedelta(days=after_days)
    if late and not retroactive:
        message = Text(
            "issued more than {days} days after shipment: tick 'issued retroactively'",
            days=after_days,
        )
        return [FieldError(flag_path, "retroactive_flag_required", message)]
    if retroactive and not late:
        message = Text(
            "issued within {days} days of shipment, so not retroactively", days=after_days
        )
        return [FieldError(flag_path, "retroactive_flag_unexpected", message)]
    return []


def check_form_d(form: Mapping[str, Any]) -> list[Criterion]:
    """Every origin rule over a Form D dict (the shape of `documents.form_d_to_xml`): the
    criteria, FOB values, the partial cumulation box and retroactive issue. Returns the
    item criteria in item order; raises InvalidInput with every problem found."""
    errors: list[FieldError] = []
    criteria: list[Criterion] = []
    for i, item in enumerate(form.get("items") or []):
        path = f"items[{i}]"
        try:
            criterion = parse_criterion(
                item.get("origin_criterion"), path=f"{path}.origin_criterion"
            )
        except InvalidInput as exc:
            errors.extend(exc.errors)
            continue
        criteria.append(criterion)
        errors.extend(check_fob(criterion, item.get("fob_value"), path=f"{path}.fob_value"))
    flags = form.get("flags") or {}
    any_pc = any(c.kind is Kind.PC for c in criteria)
    if any_pc and not flags.get("partial_cumulation"):
        message = Text("an item uses partial cumulation: tick 'partial cumulation'")
        errors.append(FieldError("flags.partial_cumulation", "pc_flag_required", message))
    shipped = (form.get("transport") or {}).get("departure_date")
    issued = (form.get("certification") or {}).get("issue_date")
    if isinstance(shipped, date) and isinstance(issued, date):
        errors.extend(check_retroactive(shipped, issued, bool(flags.get("issued_retroactively"))))
    if errors:
        raise InvalidInput(errors)
    return criteria
