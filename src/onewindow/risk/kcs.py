"""The `kcs` adapter: the KCS/IBS "Customs Import Declaration Datasets" CSV files as a frame.

The files (df_syn_*_eng.csv, Jeong, Kim, Park & Choi, arXiv:2208.02484) carry the label `Fraud`
but no revenue column. Revenue is therefore defined here as

    revenue = Fraud × Item Price × Tax Rate / 100

the duty on the declared value of a fraudulent item; every report on this data says so.
`from_kcs` is pure; `read_kcs` is the only function here that touches the file system.
"""

from __future__ import annotations

import difflib
import io
from pathlib import Path

import pandas as pd

from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.risk.frame import conform

REVENUE_NOTE = "revenue = Fraud × Item Price × Tax Rate / 100 (duty on the declared value)"

# Source column -> canonical column. Courier ID is mostly empty in the files but is kept.
KCS_COLUMNS: dict[str, str] = {
    "Declaration ID": "declaration_id",
    "Date": "date",
    "Office ID": "office",
    "Process Type": "process_type",
    "Import Type": "import_type",
    "Import Use": "import_use",
    "Payment Type": "payment_type",
    "Mode of Transport": "transport_mode",
    "Declarant ID": "declarant",
    "Importer ID": "importer",
    "Seller ID": "seller",
    "Courier ID": "courier",
    "HS6 Code": "hs6",
    "Country of Departure": "departure",
    "Country of Origin": "origin",
    "Tax Rate": "tax_rate",
    "Tax Type": "tax_type",
    "Country of Origin Indicator": "origin_indicator",
    "Net Mass": "net_mass",
    "Item Price": "value",
    "Fraud": "label",
}
# Scoring can do without the outcome; everything else must be there.
OPTIONAL_COLUMNS = frozenset({"Fraud", "Courier ID"})


def from_kcs(raw: pd.DataFrame, *, source: str = "kcs") -> pd.DataFrame:
    """Map a KCS table (all cells as text) to the canonical frame, or say what is wrong."""
    missing = [c for c in KCS_COLUMNS if c not in raw.columns and c not in OPTIONAL_COLUMNS]
    if missing:
        unknown = [c for c in raw.columns if c not in KCS_COLUMNS]
        errors = []
        for name in missing:
            close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
            hint = f" (found {close[0]!r}: renamed?)" if close else ""
            errors.append(
                FieldError(f"{source}.{name}", "missing_column", "column is missing" + hint)
            )
        raise InvalidInput(errors)
    frame = raw.rename(columns=KCS_COLUMNS)
    if "courier" not in frame.columns:
        frame["courier"] = ""
    canon = conform(frame, source=source)
    canon["revenue"] = canon["label"] * canon["value"] * canon["tax_rate"] / 100.0
    return canon


def parse_kcs(text: str, *, source: str = "kcs") -> pd.DataFrame:
    """Parse CSV text; every cell is read as text so that `conform` reports bad values itself."""
    if not text.strip():
        raise InvalidInput([FieldError(source, "empty", "the file is empty")])
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput([FieldError(source, "not_csv", f"not a readable CSV: {first}")]) from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    return from_kcs(raw, source=source)


def read_kcs(path: Path) -> pd.DataFrame:
    source = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            [FieldError(str(path), "unreadable", exc.strerror or "cannot be read")]
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            [FieldError(source, "not_text", f"not UTF-8 text (byte {exc.start})")]
        ) from exc
    return parse_kcs(text, source=source)
