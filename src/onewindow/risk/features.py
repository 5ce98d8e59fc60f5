"""Features of a declaration, computed from past inspection outcomes only (pure, no I/O).

One code path serves training, evaluation and live scoring: `FeatureStats.fit` learns the
statistics from labelled history, `FeatureStats.transform` turns any canonical frame (one row or
a million) into the model matrix. For the training rows themselves encoding.training_matrix
feeds the same `assemble` with statistics that never include the row's own label.

Label-based statistics are smoothed toward the overall illicit rate:
    rate = (illicit + m × prior) / (inspected + m)
so a key seen once or never (an unseen importer) gets close to the prior instead of 0 or 1.

Speed: every text code is turned into an integer once per column (`Vocab`), pairs are
integers combined arithmetically and statistics are found by binary search, because string
joins and hash look-ups per pair would cost more than the model itself in batch scoring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

# A canonical frame, or for a few live declarations a plain mapping of column -> array (see
# frame.record_columns), which skips the cost of building a DataFrame.
Columns: TypeAlias = Mapping[str, Any] | pd.DataFrame
# Up to this many rows, codes are found with Python dicts instead of pandas hash tables.
SMALL_BATCH = 16

# Keys whose inspection history is summarised.
HISTORY_KEYS: dict[str, tuple[str, ...]] = {
    "importer": ("importer",),
    "declarant": ("declarant",),
    "seller": ("seller",),
    "hs6": ("hs6",),
    "hs4": ("hs4",),
    "hs2": ("hs2",),
    "origin": ("origin",),
    "office": ("office",),
    "hs6_origin": ("hs6", "origin"),
    "importer_hs6": ("importer", "hs6"),
    "office_importer": ("office", "importer"),
    "declarant_importer": ("declarant", "importer"),
    "hs4_departure": ("hs4", "departure"),
    # Repeat consignments: the same goods at the same declared value or mass were seen before.
    "value": ("value",),
    "hs6_value": ("hs6", "value"),
    "hs6_mass": ("hs6", "net_mass"),
    "mass_value": ("net_mass", "value"),
}
# Low-cardinality codes given to LightGBM as categorical features.
CATEGORY_COLUMNS: tuple[str, ...] = (
    "office",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "tax_type",
    "origin_indicator",
    "origin",
    "departure",
)
TEXT_ATOMS: tuple[str, ...] = tuple(
    dict.fromkeys(("importer", "declarant", "seller", "hs6", "departure", *CATEGORY_COLUMNS))
)
NUMBER_ATOMS: tuple[str, ...] = ("value", "net_mass")
NUMERIC_NAMES: tuple[str, ...] = (
    "log_value",
    "log_mass",
    "tax_rate",
    "log_duty",
    "hs6_num",
    "hs4_num",
    "hs2_num",
    "log_unit_price",
    "unit_price_dev",
    "unit_price_z",
    "weekday",
    "day_of_month",
)
HS_LEVELS: tuple[tuple[str, int], ...] = (("hs6", 6), ("hs4", 4), ("hs2", 2))
# Fewer past declarations than this and the HS code's unit-price history is too thin to trust.
UNIT_MIN_COUNT = 5

FEATURE_NAMES: tuple[str, ...] = (
    *(f"{kind}_{key}" for key in HISTORY_KEYS for kind in ("rate", "n", "seen")),
    *(f"cat_{c}" for c in CATEGORY_COLUMNS),
    *NUMERIC_NAMES,
)
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f"cat_{c}" for c in CATEGORY_COLUMNS)


@dataclass
class KeyStats:
    """Per-key counts: `labelled` inspected rows, `illicit` of them, `seen` rows of any kind."""

    codes: np.ndarray  # sorted int64 key codes
    labelled: np.ndarray
    illicit: np.ndarray
    seen: np.ndarray
    _index: pd.Index | None = field(default=None, repr=False, compare=False)

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size = len(self.codes)
        if size == 0:
            zero = np.zeros(len(query))
            return zero, zero, zero
        if self.codes[-1] == size - 1:
            # Codes 0..size-1 all present (a single-column key): index directly, no search.
            found = (query >= 0) & (query < size)
            safe = np.where(found, query, 0)
        elif len(query) > SMALL_BATCH:
            # A hash table, built once, beats binary search on large batches by about 5x.
            if self._index is None:
                self._index = pd.Index(self.codes)
            pos = self._index.get_indexer(query)
            found = pos >= 0
            safe = np.where(found, pos, 0)
        else:
            safe = np.minimum(np.searchsorted(self.codes, query), size - 1)
            found = (query >= 0) & (self.codes[safe] == query)
        return (
            np.where(found, self.labelled[safe], 0.0),
            np.where(found, self.illicit[safe], 0.0),
            np.where(found, self.seen[safe], 0.0),
        )


@dataclass
class FeatureStats:
    prior: float
    smoothing: float
    vocab: dict[str, pd.Index]  # atom -> its known values; position = integer code
    keys: dict[str, KeyStats]
    unit: dict[str, np.ndarray]  # "hs6_mean", "hs6_std", "hs6_count", ... aligned to vocab
    date_range: tuple[str, str]
    rows: int
    # Built on first use: dict look-ups beat pandas' hash tables for a handful of rows.
    _dicts: dict[str, dict[Any, int]] = field(default_factory=dict, repr=False, compare=False)
    _tables: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def fit(cls, frame: pd.DataFrame, *, smoothing: float = 20.0) -> FeatureStats:
        """Learn every statistic from `frame` (unlabelled rows count only toward `seen`)."""
        has, y = labels_of(frame)
        vocab: dict[str, pd.Index] = {}
        for atom in TEXT_ATOMS:
            vocab[atom] = pd.Index(pd.unique(frame[atom].to_numpy(dtype=object)), dtype=object)
        for atom in NUMBER_ATOMS:
            vocab[atom] = pd.Index(pd.unique(frame[atom].to_numpy(dtype=float)), dtype="float64")
        hs6 = vocab["hs6"].to_numpy(dtype=object)
        for level, digits in HS_LEVELS[1:]:
            vocab[level] = pd.Index(pd.unique(np.array([h[:digits] for h in hs6], dtype=object)))
        stats = cls(
            prior=float(y[has].mean()) if has.any() else 0.0,
            smoothing=smoothing,
            vocab=vocab,
            keys={},
            unit={},
            date_range=(str(frame["date"].min().date()), str(frame["date"].max().date())),
            rows=len(frame),
        )
        atoms = stats.atom_codes(frame)
        for name in HISTORY_KEYS:
            uniques, inverse = np.unique(stats.key_code(atoms, name), return_inverse=True)
            size = len(uniques)
            stats.keys[name] = KeyStats(
                codes=uniques.astype(np.int64),
                labelled=np.bincount(inverse, weights=has.astype(float), minlength=size),
                illicit=np.bincount(inverse, weights=y, minlength=size),
                seen=np.bincount(inverse, minlength=size).astype(float),
            )
        lup = log_unit_price(frame)
        ok = ~np.isnan(lup)
        for level, _ in HS_LEVELS:
            size = len(vocab[level])
            code = atoms[level][ok]
            count = np.bincount(code, minlength=size).astype(float)
            total = np.bincount(code, weights=lup[ok], minlength=size)
            square = np.bincount(code, weights=lup[ok] ** 2, minlength=size)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = total / count
                std = np.sqrt(np.maximum(square / count - mean**2, 0.0))
            stats.unit[f"{level}_mean"] = mean
            stats.unit[f"{level}_std"] = std
            stats.unit[f"{level}_count"] = count
        return stats

    def atom_codes(self, frame: Columns) -> dict[str, np.ndarray]:
        """Integer code of every atom column; -1 where the value was never seen."""
        out: dict[str, np.ndarray] = {}
        for atom in TEXT_ATOMS:
            out[atom] = self._codes(atom, _column(frame, atom, object))
        for atom in NUMBER_ATOMS:
            out[atom] = self._codes(atom, _column(frame, atom, float))
        for level, digits in HS_LEVELS[1:]:
            # Known HS6 codes map to their heading through a table; only new ones are sliced.
            table = self._heading_table(level, digits)
            code = np.where(out["hs6"] >= 0, table[np.maximum(out["hs6"], 0)], -1)
            new = np.flatnonzero(out["hs6"] < 0)
            if new.size:
                raw = _column(frame, "hs6", object)[new]
                code[new] = self.vocab[level].get_indexer([str(h)[:digits] for h in raw])
            out[level] = code
        return out

    def _codes(self, atom: str, values: np.ndarray) -> np.ndarray:
        if len(values) > SMALL_BATCH:
            return self.vocab[atom].get_indexer(values)
        lookup = self._dicts.get(atom)
        if lookup is None:
            lookup = self._dicts[atom] = {v: i for i, v in enumerate(self.vocab[atom].tolist())}
        return np.array([lookup.get(v, -1) for v in values.tolist()], dtype=np.intp)

    def _heading_table(self, level: str, digits: int) -> np.ndarray:
        table = self._tables.get(level)
        if table is None:
            hs6 = self.vocab["hs6"].tolist()
            table = self._tables[level] = self.vocab[level].get_indexer([h[:digits] for h in hs6])
        return table

    def _hs_numbers(self, frame: Columns, code: np.ndarray) -> np.ndarray:
        # The HS code as a number lets trees group neighbouring lines (chapters, headings).
        table = self._tables.get("hs6_number")
        if table is None:
            table = self._tables["hs6_number"] = _hs_number_array(self.vocab["hs6"].tolist())
        number = np.where(code >= 0, table[np.maximum(code, 0)], np.nan)
        new = np.flatnonzero(code < 0)
        if new.size:
            number[new] = _hs_number_array(_column(frame, "hs6", object)[new].tolist())
        return np.column_stack((number, np.floor(number / 100), np.floor(number / 10000)))

    def key_code(self, atoms: dict[str, np.ndarray], name: str) -> np.ndarray:
        parts = HISTORY_KEYS[name]
        code = atoms[parts[0]].astype(np.int64)
        for part in parts[1:]:
            nxt = atoms[part].astype(np.int64)
            code = np.where((code >= 0) & (nxt >= 0), code * len(self.vocab[part]) + nxt, -1)
        return code

    def transform(self, frame: Columns) -> np.ndarray:
        """Model matrix for declarations to be scored (none of them is in the statistics)."""
        atoms = self.atom_codes(frame)
        history = {
            name: self.keys[name].lookup(self.key_code(atoms, name)) for name in HISTORY_KEYS
        }
        return self.assemble(frame, atoms, history, self.prior)

    def assemble(
        self,
        frame: Columns,
        atoms: dict[str, np.ndarray],
        history: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
        prior: float | np.ndarray,
    ) -> np.ndarray:
        # Column-major: every feature is written as one contiguous column, and LightGBM reads
        # column-major input without a copy.
        out = np.empty((_rows(frame), len(FEATURE_NAMES)), dtype=np.float64, order="F")
        j = 0
        m = self.smoothing
        for name in HISTORY_KEYS:
            labelled, illicit, seen = history[name]
            out[:, j] = (illicit + m * prior) / (labelled + m)
            out[:, j + 1] = np.log1p(labelled)
            out[:, j + 2] = np.log1p(seen)
            j += 3
        for c in CATEGORY_COLUMNS:
            # -1 (unseen code) is a missing value to LightGBM, so a new code is still scored.
            out[:, j] = atoms[c]
            j += 1
        value = _column(frame, "value", float)
        mass = _column(frame, "net_mass", float)
        rate = _column(frame, "tax_rate", float)
        out[:, j] = np.log1p(value)
        out[:, j + 1] = np.log1p(mass)
        out[:, j + 2] = rate
        out[:, j + 3] = np.log1p(value * rate / 100.0)
        out[:, j + 4 : j + 7] = self._hs_numbers(frame, atoms["hs6"])
        lup = log_unit_price(frame)
        mean = np.full(len(lup), np.nan)
        std = np.full(len(lup), np.nan)
        # Fall back from HS6 to HS4 to HS2 so a rare tariff line borrows its heading's history.
        for level, _ in HS_LEVELS:
            code = atoms[level]
            safe = np.maximum(code, 0)
            counts = self.unit[f"{level}_count"]
            usable = (code >= 0) & np.isnan(mean)
            if len(counts):
                usable &= counts[safe] >= UNIT_MIN_COUNT
                mean = np.where(usable, self.unit[f"{level}_mean"][safe], mean)
                std = np.where(usable, self.unit[f"{level}_std"][safe], std)
        out[:, j + 7] = lup
        out[:, j + 8] = lup - mean
        out[:, j + 9] = (lup - mean) / np.maximum(std, 0.1)
        days = _column(frame, "date", "datetime64[D]")
        out[:, j + 10] = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        months = days.astype("datetime64[M]")
        out[:, j + 11] = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "smoothing": self.smoothing,
            "date_range": list(self.date_range),
            "rows": self.rows,
            "vocab": {k: v.tolist() for k, v in self.vocab.items()},
            "keys": {
                k: {f: getattr(s, f).tolist() for f in ("codes", "labelled", "illicit", "seen")}
                for k, s in self.keys.items()
            },
            "unit": {k: v.tolist() for k, v in self.unit.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureStats:
        """Inverse of to_dict; raises KeyError/TypeError/ValueError on a malformed document."""
        vocab = {
            k: pd.Index(v, dtype="float64" if k in NUMBER_ATOMS else object)
            for k, v in data["vocab"].items()
        }
        missing = {*TEXT_ATOMS, *NUMBER_ATOMS, "hs4", "hs2"} - set(vocab)
        if missing or set(data["keys"]) != set(HISTORY_KEYS):
            raise KeyError("feature statistics do not match this version's features")
        keys = {
            k: KeyStats(
                codes=np.asarray(v["codes"], dtype=np.int64),
                labelled=np.asarray(v["labelled"], dtype=float),
                illicit=np.asarray(v["illicit"], dtype=float),
                seen=np.asarray(v["seen"], dtype=float),
            )
            for k, v in data["keys"].items()
        }
        unit = {k: np.asarray(v, dtype=float) for k, v in data["unit"].items()}
        return cls(
            prior=float(data["prior"]),
            smoothing=float(data["smoothing"]),
            vocab=vocab,
            keys=keys,
            unit=unit,
            date_range=(str(data["date_range"][0]), str(data["date_range"][1])),
            rows=int(data["rows"]),
        )


def labels_of(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    label = frame["label"].to_numpy(dtype="float64")
    has = ~np.isnan(label)
    return has, np.where(has, label, 0.0)


def _column(frame: Columns, name: str, dtype: Any) -> np.ndarray:
    return np.asarray(frame[name], dtype=dtype)


def _rows(frame: Columns) -> int:
    return len(frame) if isinstance(frame, pd.DataFrame) else len(frame["value"])


def _hs_number_array(codes: list[Any]) -> np.ndarray:
    return np.array([float(c) if str(c).isdigit() else np.nan for c in codes], dtype=float)


def log_unit_price(frame: Columns) -> np.ndarray:
    value = _column(frame, "value", float)
    mass = _column(frame, "net_mass", float)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(mass > 0, value / mass, np.nan)
    return np.log1p(unit)
