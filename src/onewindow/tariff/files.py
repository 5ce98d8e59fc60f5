"""Parsing of tariff schedule and exchange rate files (CSV). Pure: text in, rows or errors out.

A file is accepted whole or not at all: every bad row is reported with its line and reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from onewindow.kit.codes import UNITS
from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.kit.money import is_currency
from onewindow.tariff.nomenclature import is_subheading

SCHEDULE_HEADER = [
    "code",
    "description",
    "unit",
    "mfn_rate",
    "atiga_rate",
    "vat_rate",
    "valid_from",
    "valid_to",
]
RATES_HEADER = ["currency", "rate", "valid_from"]
MAX_RATE = Decimal(1000)


def _rows(text: str, header: list[str]) -> list[tuple[int, dict[str, str]]]:
    # Comment lines (#) let a sample file say what it is.
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    if not lines:
        raise InvalidInput([FieldError("file", "empty", "the file has no header and no rows")])
    reader = csv.reader(io.StringIO("\n".join(lines)))
    found = [h.strip() for h in next(reader)]
    if found != header:
        msg = f"expected header {','.join(header)}; found {','.join(found)}"
        raise InvalidInput([FieldError("header", "bad_header", msg)])
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            values = values + [""] * (len(header) - len(values))
        rows.append((number, dict(zip(header, (v.strip() for v in values), strict=False))))
    if not rows:
        raise InvalidInput([FieldError("file", "empty", "the file has a header but no rows")])
    return rows


def _check(
    errors: list[FieldError], where: str, field: str, parse: Callable[[str], Any], raw: str
) -> Any:
    try:
        return parse(raw)
    except (ValueError, InvalidOperation) as exc:
        message = (
            f"{where}, column {field}: {raw!r} is {exc}"
            if str(exc).startswith("not ")
            else (f"{where}, column {field}: {raw!r}: {exc}")
        )
        errors.append(FieldError(f"{where}.{field}", "invalid", message))
        return None


def _number(raw: str) -> Decimal:
    try:
        return Decimal(raw)
    except InvalidOperation:  # its message is a list of Python classes
        raise ValueError("not a number") from None


def _rate(raw: str) -> Decimal:
    value = _number(raw)
    if not value.is_finite() or value < 0 or value > MAX_RATE:
        raise ValueError("a rate is a percentage between 0 and 1000")
    return value


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD)") from None


def parse_schedule(text: str) -> list[dict[str, Any]]:
    errors: list[FieldError] = []
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, date]] = set()
    for number, row in _rows(text, SCHEDULE_HEADER):
        where = f"line {number}"
        code = row["code"]
        if not (len(code) == 8 and code.isdigit()):
            errors.append(FieldError(f"{where}.code", "format", f"{code!r} is not 8 digits"))
        elif not is_subheading(code[:6]):
            msg = f"{code[:6]} is not an HS 2022 subheading"
            errors.append(FieldError(f"{where}.code", "unknown_hs", msg))
        if not row["description"]:
            errors.append(FieldError(f"{where}.description", "required", "description is empty"))
        if row["unit"] not in UNITS:
            msg = f"{row['unit']!r} is not a known UN/ECE Rec 20 unit"
            errors.append(FieldError(f"{where}.unit", "unknown_unit", msg))
        parsed = {
            "code": code,
            "description": row["description"][:500],
            "unit": row["unit"],
            "mfn_rate": _check(errors, where, "mfn_rate", _rate, row["mfn_rate"]),
            "atiga_rate": (
                _check(errors, where, "atiga_rate", _rate, row["atiga_rate"])
                if row["atiga_rate"]
                else None
            ),
            "vat_rate": _check(errors, where, "vat_rate", _rate, row["vat_rate"]),
            "valid_from": _check(errors, where, "valid_from", _date, row["valid_from"]),
            "valid_to": (
                _check(errors, where, "valid_to", _date, row["valid_to"])
                if row["valid_to"]
                else None
            ),
        }
        start, end = parsed["valid_from"], parsed["valid_to"]
        if start and end and end < start:
            errors.append(FieldError(f"{where}.valid_to", "order", "valid_to is before valid_from"))
        if start and (code, start) in seen:
            msg = f"{code} from {start} appears twice in the file"
            errors.append(FieldError(f"{where}.code", "duplicate", msg))
        seen.add((code, start))
        out.append(parsed)
    if errors:
        raise InvalidInput(errors, f"the schedule has {len(errors)} error(s); nothing was loaded")
    return out


def parse_rates(text: str) -> list[dict[str, Any]]:
    errors: list[FieldError] = []
    out: list[dict[str, Any]] = []
    for number, row in _rows(text, RATES_HEADER):
        where = f"line {number}"
        if not is_currency(row["currency"]):
            msg = f"{row['currency']!r} is not an ISO 4217 currency"
            errors.append(FieldError(f"{where}.currency", "unknown_currency", msg))
        rate = _check(errors, where, "rate", _number, row["rate"])
        if rate is not None and (not rate.is_finite() or rate <= 0):
            errors.append(FieldError(f"{where}.rate", "not_positive", "a rate must be above 0"))
        valid_from = _check(errors, where, "valid_from", _date, row["valid_from"])
        out.append({"currency": row["currency"], "rate": rate, "valid_from": valid_from})
    if errors:
        raise InvalidInput(errors, f"the rates file has {len(errors)} error(s); nothing was loaded")
    return out
