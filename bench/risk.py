"""Risk engine benchmark: training time, batch scoring rate, single-declaration latency.

    .venv/bin/python bench/risk.py [--data-dir ../shared/data] [--single 2000]

The baseline, measured in the same run on the same rows, is a bare LightGBM `predict` of the
trained classifier on an already built feature matrix: what is left is the cost of the engine
itself (validating the frame, building features, the revenue model). The last line printed is
one JSON object.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from onewindow.risk.frame import record_columns
from onewindow.risk.kcs import read_kcs
from onewindow.risk.learning import train

FILES = ("df_syn_train_eng.csv", "df_syn_valid_eng.csv")
BATCH_ROWS = 200_000


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data-dir", type=Path, default=default)
    parser.add_argument("--single", type=int, default=2000, help="single declarations to time")
    args = parser.parse_args()

    started = time.perf_counter()
    frames = [read_kcs(args.data_dir / name) for name in FILES]
    frame = pd.concat(frames, ignore_index=True)
    model = train(frame)
    train_seconds = time.perf_counter() - started
    print(
        f"training on {len(frame)} rows (read + search + fit): {train_seconds:.1f} s",
        file=sys.stderr,
    )

    reps = -(-BATCH_ROWS // len(frame))
    batch = pd.concat([frame] * reps, ignore_index=True).iloc[:BATCH_ROWS].reset_index(drop=True)
    matrix = model.matrix(batch)
    engine_s = _best(lambda: model.score(batch))
    bare_s = _best(lambda: model.classifier.predict(matrix))
    engine_rate = len(batch) / engine_s
    bare_rate = len(batch) / bare_s
    print(
        f"batch: engine {engine_rate:,.0f} rows/s, bare predict {bare_rate:,.0f} rows/s",
        file=sys.stderr,
    )

    records = []
    for row in frame.sample(args.single, random_state=0).to_dict("records"):
        row["date"] = row["date"].strftime("%Y-%m-%d")  # as a live message carries it
        records.append(row)
    engine_ms = []
    bare_ms = []
    for record in records[:50]:  # warm-up: first calls allocate LightGBM's buffers
        model.score(record_columns(record))
    for record in records:
        t0 = time.perf_counter()
        model.score(record_columns(record))
        engine_ms.append((time.perf_counter() - t0) * 1000)
        one = model.matrix(record_columns(record))
        t0 = time.perf_counter()
        model.classifier.predict(one, num_threads=1)
        bare_ms.append((time.perf_counter() - t0) * 1000)
    p99 = float(np.percentile(engine_ms, 99))
    bare_p99 = float(np.percentile(bare_ms, 99))
    print(f"single: engine p99 {p99:.2f} ms, bare predict p99 {bare_p99:.2f} ms", file=sys.stderr)

    result = {
        "bench": "risk",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "train_rows": len(frame),
        "train_seconds": round(train_seconds, 2),
        "settings": model.settings.__dict__,
        "batch_rows": len(batch),
        "batch_rows_per_s": round(engine_rate),
        "baseline_batch_rows_per_s": round(bare_rate),
        "batch_ratio": round(engine_rate / bare_rate, 3),
        "single_declarations": len(records),
        "single_p50_ms": round(float(np.percentile(engine_ms, 50)), 3),
        "single_p99_ms": round(p99, 3),
        "baseline_single_p99_ms": round(bare_p99, 3),
        "single_ratio": round(p99 / bare_p99, 2),
    }
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
