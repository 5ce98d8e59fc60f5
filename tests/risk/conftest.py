"""Fixtures for the risk engine tests: small synthetic data with a planted signal (in canonical
and KCS form) and one model trained once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from onewindow.risk import artifact
from onewindow.risk.kcs import KCS_COLUMNS
from onewindow.risk.learning import RiskModel, train

BAD_IMPORTERS = tuple(f"BAD{i}" for i in range(5))
BAD_HS = "999999"


def make_frame(rows: int = 3000, *, seed: int = 0, start: str = "2020-01-01", days: int = 120):
    """Declarations where importers BAD* and HS 999999 are mostly illicit, the rest rarely.

    The planted signal is only visible through history (importer, HS code), so a model that
    finds it must have learned from past labels.
    """
    rng = np.random.default_rng(seed)
    importers = np.array([f"IMP{i}" for i in range(200)] + list(BAD_IMPORTERS), dtype=object)
    weights = np.r_[np.full(200, 1.0), np.full(len(BAD_IMPORTERS), 6.0)]
    importer = rng.choice(importers, size=rows, p=weights / weights.sum())
    hs_pool = np.array(["010121", "847130", "640399", "220421", "851712", BAD_HS], dtype=object)
    hs6 = rng.choice(hs_pool, size=rows, p=[0.2, 0.2, 0.2, 0.15, 0.15, 0.1])
    bad = np.isin(importer, BAD_IMPORTERS) | (hs6 == BAD_HS)
    label = np.where(bad, rng.random(rows) < 0.9, rng.random(rows) < 0.05).astype(float)
    mass = np.round(rng.lognormal(4, 1.5, rows), 1)
    value = np.round(mass * np.round(rng.lognormal(3, 1, rows), 1), 2)
    tax_rate = rng.choice([0.0, 3.0, 8.0, 13.0], size=rows)
    date = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.integers(0, days, rows)), unit="D")
    frame = pd.DataFrame(
        {
            "declaration_id": [f"D{seed}-{i}" for i in range(rows)],
            "date": date.astype("datetime64[ns]"),
            "office": rng.choice(["10", "20", "30"], size=rows),
            "importer": importer,
            "declarant": rng.choice([f"DCL{i}" for i in range(30)], size=rows),
            "seller": rng.choice([f"S{i}" for i in range(100)] + [""], size=rows),
            "courier": "",
            "hs6": hs6,
            "origin": rng.choice(["CN", "US", "VN", "DE"], size=rows),
            "departure": rng.choice(["CN", "US", "VN", "DE"], size=rows),
            "process_type": "B",
            "import_type": rng.choice(["11", "87"], size=rows),
            "import_use": "21",
            "payment_type": rng.choice(["11", "43"], size=rows),
            "transport_mode": rng.choice(["10", "40"], size=rows),
            "tax_type": rng.choice(["A", "C"], size=rows),
            "origin_indicator": rng.choice(["E", "G", "Y"], size=rows),
            "net_mass": mass,
            "value": value,
            "tax_rate": tax_rate,
            "label": label,
        }
    )
    for column in frame.columns:
        if frame[column].dtype != float and column != "date":
            frame[column] = frame[column].astype(object)
    frame["revenue"] = frame["label"] * frame["value"] * frame["tax_rate"] / 100.0
    return frame


def to_kcs(frame: pd.DataFrame) -> pd.DataFrame:
    back = {canon: source for source, canon in KCS_COLUMNS.items()}
    out = frame.rename(columns=back)[list(KCS_COLUMNS)].copy()
    out["Date"] = frame["date"].dt.strftime("%Y-%m-%d")
    out["Fraud"] = frame["label"].astype(int)
    out["Critical Fraud"] = 0
    return out


def write_kcs(frame: pd.DataFrame, path: Path) -> Path:
    to_kcs(frame).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def history() -> pd.DataFrame:
    return make_frame(3000, seed=1, start="2020-01-01", days=120)


@pytest.fixture(scope="session")
def later() -> pd.DataFrame:
    return make_frame(1000, seed=2, start="2020-05-01", days=30)


@pytest.fixture(scope="session")
def trained(history: pd.DataFrame) -> RiskModel:
    return train(history)


@pytest.fixture(scope="session")
def model_dir(trained: RiskModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("model") / "artifact"
    artifact.save(trained, directory)
    return directory


@pytest.fixture(scope="session")
def kcs_files(
    history: pd.DataFrame, later: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("kcs")
    return write_kcs(history, folder / "train.csv"), write_kcs(later, folder / "valid.csv")


@pytest.fixture(scope="session")
def frame_factory():
    return make_frame


@pytest.fixture(scope="session")
def kcs_writer():
    return write_kcs
