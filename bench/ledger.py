"""Ledger benchmark: batched appends to a SQLite-backed log, and inclusion proof latency.

    .venv/bin/python bench/ledger.py [--count 1000000] [--batch 10000] [--proofs 2000]

Appends are timed per batch (validate, encode, hash, store, commit). The baseline, measured in
the same run on the same entries, is hashlib alone: SHA-256 over each entry's leaf data, already
encoded. Proofs are timed one transaction each, for random documents of the full log. Progress
goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from onewindow import domains
from onewindow.kit import db, migrate
from onewindow.ledger import merkle, service
from onewindow.ledger.encoding import LeafEntry, leaf_data

COUNTRIES = ("VN", "TH", "MY", "SG", "ID", "PH")
KINDS = ("issued", "received", "issued", "received", "status_change", "revoked")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_entries(start: int, count: int, now: datetime) -> list[LeafEntry]:
    return [
        LeafEntry(
            document_type="form_d",
            document_id=f"{COUNTRIES[i % 6]}-2026-{i:09d}",
            version=1 + i % 3,
            issuer_country=COUNTRIES[i % 6],
            document_sha256=hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
            logged_at=now,
            kind=KINDS[i % 6],
        )
        for i in range(start, start + count)
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def noise_control_ms(samples: int) -> list[float]:
    """A fixed CPU task about as long as a proof, timed the same way: if its p99 is high too,
    a high proof p99 is the machine (other processes), not the ledger."""
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(1000):
            hashlib.sha256(b"x" * 64).digest()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="entries in the log")
    parser.add_argument("--batch", type=int, default=10_000, help="entries per append")
    parser.add_argument("--proofs", type=int, default=2_000, help="proofs to time")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)

    with tempfile.TemporaryDirectory(prefix="ow-bench-ledger-") as tmp:
        path = Path(tmp) / "ledger.db"
        engine = db.make_engine(f"sqlite:///{path}")
        domains.install()  # migrations run every installed domain's branch
        migrate.upgrade(engine)
        sessions = db.session_factory(engine)

        append_seconds = append_cpu_seconds = baseline_seconds = 0.0
        for start in range(0, args.count, args.batch):
            entries = make_entries(start, min(args.batch, args.count - start), now)
            encoded = [b"\x00" + leaf_data(e) for e in entries]
            t0 = time.perf_counter()
            for data in encoded:
                hashlib.sha256(data).digest()
            baseline_seconds += time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            with db.transaction(sessions) as session:
                service.append_many(session, entries)
            append_seconds += time.perf_counter() - t0
            append_cpu_seconds += time.process_time() - c0
            done = start + len(entries)
            if done % (args.batch * 20) == 0 or done == args.count:
                progress(f"appended {done:,} entries, {done / append_seconds:,.0f}/s")

        progress("checking the stored root against one computed from every leaf hash")
        with engine.connect() as conn:
            hashes = conn.execute(text("SELECT leaf_hash FROM ledger_entries ORDER BY leaf_index"))
            expected_root = merkle.root_from_hashes([h for (h,) in hashes])
        with db.transaction(sessions) as session:
            current = service.head(session)

        progress(f"timing {args.proofs:,} inclusion proofs")
        proof_ms: list[float] = []
        verified = True
        for _ in range(args.proofs):
            i = rng.randrange(args.count)
            document_id = f"{COUNTRIES[i % 6]}-2026-{i:09d}"
            t0 = time.perf_counter()
            with db.transaction(sessions) as session:
                found = service.prove(session, document_id)
            proof_ms.append((time.perf_counter() - t0) * 1000)
            verified &= merkle.verify_inclusion(
                found.leaf_data,
                found.entry.leaf_index,
                found.tree_size,
                found.proof,
                current.root_hash,
            )

        consistency_ms: list[float] = []
        for _ in range(200):
            old = rng.randrange(1, args.count + 1)
            t0 = time.perf_counter()
            with db.transaction(sessions) as session:
                c = service.consistency(session, old)
            consistency_ms.append((time.perf_counter() - t0) * 1000)
            verified &= merkle.verify_consistency(old, c.new_size, c.old_root, c.new_root, c.proof)
        control_ms = noise_control_ms(args.proofs)
        engine.dispose()
        db_bytes = path.stat().st_size + sum(
            p.stat().st_size for p in Path(tmp).glob("ledger.db-*") if p.exists()
        )

    appends_per_s = args.count / append_seconds
    baseline_per_s = args.count / baseline_seconds
    result = {
        "benchmark": "ledger",
        "entries": args.count,
        "batch": args.batch,
        "appends_per_s": round(appends_per_s),
        "baseline": "hashlib.sha256 over the same encoded leaf data",
        "baseline_per_s": round(baseline_per_s),
        "ratio": round(appends_per_s / baseline_per_s, 4),
        "append_seconds": round(append_seconds, 2),
        # CPU time of this process only: what the figure would be on an otherwise idle machine
        # (commits do not wait for fsync with WAL and synchronous=NORMAL).
        "appends_per_cpu_s": round(args.count / append_cpu_seconds),
        "proofs": args.proofs,
        "proof_ms_p50": round(statistics.median(proof_ms), 3),
        "proof_ms_p99": round(percentile(proof_ms, 0.99), 3),
        "consistency_ms_p99": round(percentile(consistency_ms, 0.99), 3),
        "noise_control_ms_p50": round(statistics.median(control_ms), 3),
        "noise_control_ms_p99": round(percentile(control_ms, 0.99), 3),
        "root_matches_full_recompute": current.root_hash == expected_root,
        "proofs_verified": verified,
        "db_mb": round(db_bytes / 1e6, 1),
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
