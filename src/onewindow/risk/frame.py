"""The canonical declaration frame: the one table shape every part of the risk engine reads.

Adapters (`kcs` for the KCS/IBS synthetic files, `native` for the node's own declarations) turn
their source into this frame; features, training, evaluation and simulation only ever see it.

Contract (one row per declaration item, pandas DataFrame, extra columns are ignored):

    column            dtype            meaning
    declaration_id    str              unique within the frame
    date              datetime64[ns]   day the declaration was lodged (no time of day)
    office            str              customs office code
    importer          str              importer identifier
    declarant         str              declarant (broker) identifier
    seller            str              foreign seller identifier, "" when unknown
    courier           str              courier identifier, "" when none
    hs6               str              six-digit HS code, zero-padded ("010121")
    origin            str              country of origin (ISO alpha-2)
    departure         str              country of departure (ISO alpha-2)
    process_type      str              code lists of the administration; "" when unknown
    import_type       str
    import_use        str
    payment_type      str
    transport_mode    str
    tax_type          str
    origin_indicator  str
    net_mass          float64          kg, >= 0
    value             float64          declared customs value in national currency, >= 0
    tax_rate          float64          percent, >= 0
    label             float64          1.0 illicit, 0.0 compliant, NaN not inspected / unknown
    revenue           float64          revenue raised by the inspection, NaN when unknown

Every string column is non-null (missing becomes ""), so that an unseen or absent code is just
another key: it is scored with the prior, never refused.

A single live declaration need not become a DataFrame: `record_columns(dict)` checks it and
returns the same columns as one-element arrays, which features and model accept like a frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.risk.columns import (
    CODE_COLUMNS,
    NUMBER_COLUMNS,
    OUTCOME_COLUMNS,
    SCORING_COLUMNS,
)

# A live declaration as column -> one-element array; the features accept it like a frame.
Columns = dict[str, np.ndarray]


def conform(frame: pd.DataFrame, *, source: str = "frame") -> pd.DataFrame:
    """Check an adapter's output against the contract and return it with canonical dtypes.

    Raises InvalidInput naming each missing column or bad value, so the adapter's caller can
    show the person which field of which row to fix.
    """
    errors: list[FieldError] = []
    missing = [c for c in SCORING_COLUMNS if c not in frame.columns]
    for name in missing:
        errors.append(FieldError(f"{source}.{name}", "missing_column", "column is missing"))
    if errors:
        raise InvalidInput(errors)
    if len(frame) == 0:
        raise InvalidInput([FieldError(source, "empty", "no declarations (no data rows)")])

    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    out["declaration_id"] = _strings(frame["declaration_id"])
    dates = pd.to_datetime(frame["date"], errors="coerce").reset_index(drop=True)
    _report_bad(errors, source, "date", dates.isna(), frame["date"], "is not a date (YYYY-MM-DD)")
    out["date"] = dates.dt.normalize().astype("datetime64[ns]")
    for name in CODE_COLUMNS:
        out[name] = _strings(frame[name])
    out["hs6"] = out["hs6"].str.zfill(6)
    for name in NUMBER_COLUMNS:
        raw = frame[name].reset_index(drop=True)
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        _report_bad(errors, source, name, values.isna(), raw, "is not a number")
        _report_bad(errors, source, name, values < 0, raw, "is negative")
        out[name] = values
    for name in OUTCOME_COLUMNS:
        if name in frame.columns:
            raw = frame[name].reset_index(drop=True)
            values = pd.to_numeric(raw, errors="coerce").astype("float64")
            _report_bad(errors, source, name, values.isna() & raw.notna(), raw, "is not a number")
            out[name] = values
        else:
            out[name] = np.nan
    bad_label = out["label"].notna() & ~out["label"].isin([0.0, 1.0])
    _report_bad(errors, source, "label", bad_label, out["label"], "is not 0 or 1")
    if errors:
        raise InvalidInput(errors)
    return out


def record_columns(record: Mapping[str, Any], *, source: str = "declaration") -> Columns:
    """One live declaration (a mapping in canonical names) as columns of one-element arrays.

    Checks the same things as `conform` but in plain Python: building a DataFrame for a single
    row would take most of the scoring time budget.
    """
    errors: list[FieldError] = []
    out: dict[str, np.ndarray] = {}
    for name in SCORING_COLUMNS:
        if name not in record:
            errors.append(FieldError(f"{source}.{name}", "missing_field", "field is missing"))
    if errors:
        raise InvalidInput(errors)
    out["declaration_id"] = np.array([_text(record["declaration_id"])], dtype=object)
    day = _day(record["date"])
    if day is None:
        errors.append(_bad_field(source, "date", record["date"], "is not a date (YYYY-MM-DD)"))
    out["date"] = np.array([day], dtype="datetime64[D]")
    for name in CODE_COLUMNS:
        out[name] = np.array([_text(record[name])], dtype=object)
    out["hs6"] = np.array([str(out["hs6"][0]).zfill(6)], dtype=object)
    for name in (*NUMBER_COLUMNS, *OUTCOME_COLUMNS):
        raw = record.get(name)
        number = _number(raw)
        if name in OUTCOME_COLUMNS and (raw is None or (number is not None and math.isnan(number))):
            number = math.nan  # outcomes are unknown when a declaration is lodged
        elif number is None or not math.isfinite(number):
            errors.append(_bad_field(source, name, raw, "is not a number"))
        elif number < 0:
            errors.append(_bad_field(source, name, raw, "is negative"))
        elif name == "label" and number not in (0.0, 1.0):
            errors.append(_bad_field(source, name, raw, "is not 0 or 1"))
        out[name] = np.array([math.nan if number is None else number], dtype=float)
    if errors:
        raise InvalidInput(errors)
    return out


def require_labels(frame: pd.DataFrame, *, source: str, both_classes: bool = True) -> None:
    """Training and evaluation need outcomes; one class alone teaches and measures nothing."""
    labels = frame["label"].dropna()
    if labels.empty:
        raise InvalidInput(
            [FieldError(f"{source}.label", "no_labels", "no row has an inspection outcome")]
        )
    if both_classes and labels.nunique() < 2:
        only = int(labels.iloc[0])
        raise InvalidInput(
            [
                FieldError(
                    f"{source}.label",
                    "single_class",
                    f"every labelled row has label {only}; both 0 and 1 are needed",
                )
            ]
        )


def _strings(column: pd.Series) -> pd.Series:
    # Codes read as numbers (HS 10121.0) must become the same text as codes read as text.
    values = column.reset_index(drop=True)
    if pd.api.types.is_float_dtype(values):
        values = values.map(_number_text)
    out = values.astype("string").fillna("").str.strip()
    return out.astype(object)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return _number_text(value)
    return str(value).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _day(value: Any) -> np.datetime64 | None:
    if isinstance(value, datetime | date):
        return np.datetime64(value.date() if isinstance(value, datetime) else value, "D")
    try:
        return np.datetime64(str(value).strip()[:10], "D")
    except ValueError:
        return None


def _bad_field(source: str, name: str, raw: Any, reason: str) -> FieldError:
    return FieldError(f"{source}.{name}", "invalid_value", f"{raw!r} {reason}")


def _number_text(value: float) -> str:
    if pd.isna(value):
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _report_bad(
    errors: list[FieldError],
    source: str,
    name: str,
    mask: pd.Series,
    raw: pd.Series,
    reason: str,
) -> None:
    bad = np.flatnonzero(mask.to_numpy())
    if bad.size == 0:
        return
    first = int(bad[0])
    shown = raw.reset_index(drop=True).iloc[first]
    if isinstance(shown, np.generic):
        shown = shown.item()  # show 7.0, not np.float64(7.0)
    more = f" ({bad.size} rows in all)" if bad.size > 1 else ""
    # Row numbers count data rows from 1, as a person sees them in a spreadsheet below the header.
    errors.append(
        FieldError(
            f"{source}.{name}",
            "invalid_value",
            f"row {first + 1}: {shown!r} {reason}{more}",
        )
    )
