"""Lodge and assess generated declarations through the service layer on SQLite, in batches.

Baseline, same run: raw sqlite3 inserts of the same rows (declarations, items, tax lines,
audit events) into the same schema. Prints progress to stderr and one JSON object last.

    .venv/bin/python bench/declarations.py [--count 100000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

from onewindow import domains
from onewindow.declarations.context import context
from onewindow.declarations.generator import declaration
from onewindow.declarations.service import lodge
from onewindow.kit import auth
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import settings_class
from onewindow.kit.node import Node
from onewindow.kit.runtime import tune_collector
from onewindow.risk import Selectivity, Targets
from onewindow.risk.lanes import lanes
from onewindow.tariff import import_rates, import_schedule

DATA = resources.files("onewindow") / "data"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    domains.install()  # as every composition root does first
    workdir = Path(tempfile.mkdtemp(prefix="ow-bench-"))
    settings = settings_class()(database_url=f"sqlite:///{workdir / 'node.db'}")
    node = Node.open(settings, FixedClock(datetime(2026, 11, 20, tzinfo=UTC)))
    lanes(node).selectivity = Selectivity(Targets(), rng=random.Random(1))
    tune_collector()  # as the `onewindow` command does
    with node.transaction() as s:
        import_schedule(s, (DATA / "sample_tariff.csv").read_text())
        import_rates(s, (DATA / "sample_rates.csv").read_text())

    rng = random.Random(42)
    arrival = date(2026, 11, 20)
    lodged, elapsed = 0, 0.0
    while lodged < args.count:
        docs = [declaration(rng, arrival) for _ in range(min(args.batch, args.count - lodged))]
        start = time.perf_counter()
        with node.transaction() as s:
            lodge(s, auth.SYSTEM, docs, context(node))
        elapsed += time.perf_counter() - start
        lodged += len(docs)
        if lodged % (args.batch * 10) == 0:
            print(f"lodged {lodged:,} ({lodged / elapsed:,.0f}/s)", file=sys.stderr)
    per_s = lodged / elapsed

    peak = peak_rss_mb()  # before the baseline loads rows of its own

    # Baseline: the very rows the service wrote, inserted raw into an empty copy of the schema.
    names = ["declarations", "declaration_items", "declaration_taxes", "audit_events"]
    source = sqlite3.connect(workdir / "node.db")
    schema = [
        source.execute("SELECT sql FROM sqlite_master WHERE name=?", (n,)).fetchone()[0]
        for n in names
    ]
    dumps = {n: source.execute(f"SELECT * FROM {n} ORDER BY id").fetchall() for n in names}
    raw = sqlite3.connect(workdir / "baseline.db")
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    for sql in schema:
        raw.execute(sql)
    start = time.perf_counter()
    for offset in range(0, lodged, args.batch):
        for name in names:
            rows = dumps[name]
            per = len(rows) / lodged
            chunk = rows[int(offset * per) : int((offset + args.batch) * per)]
            if chunk:
                marks = ",".join("?" * len(chunk[0]))
                raw.executemany(f"INSERT INTO {name} VALUES ({marks})", chunk)
        raw.commit()
    baseline = lodged / (time.perf_counter() - start)
    rows_written = sum(len(v) for v in dumps.values())
    print(
        json.dumps(
            {
                "declarations": lodged,
                "batch": args.batch,
                "rows_written": rows_written,
                "declarations_per_s": round(per_s),
                "baseline_per_s": round(baseline),
                "ratio": round(per_s / baseline, 3),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
