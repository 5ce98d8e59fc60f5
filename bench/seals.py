"""E-seals benchmark: events ingested with every rule evaluated, against plain inserts of the
same events, and memory as the events grow.

    .venv/bin/python bench/seals.py [--events 1000000] [--batch 5000] [--trips 1000]

`--trips` trips of two seals each along a 1,300 km route of 40 vertices (Bangkok to the
Malaysian border), with two authorised stops. Each batch holds a position from every seal in
turn, about 1 in 100 off the corridor, some stops, and a door event now and then: the rules,
the geometry, the duplicate check and the packed chunks all do their work. Timed: the
service's `intake.ingest` on validated events, one transaction per batch (SQLite, one file).
The baseline, in the same run on the same events: one executemany of one row per event into
a plain table in a database of its own, one transaction per batch. Validation of the events
by their schema (what the HTTPS endpoint adds) is timed apart. Memory: the process's resident
set and its peak so far at each tenth of the run. Progress goes to stderr; the last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table

from onewindow import domains
from onewindow.kit import db, migrate, runtime
from onewindow.seals import add_device, add_platform, register_trip
from onewindow.seals.intake import Source, ingest
from onewindow.seals.schemas import EventIn, TripCreate

START = datetime(2026, 12, 1, tzinfo=UTC)
EVENTS = TypeAdapter(list[EventIn])
PLAIN = Table(
    "plain_events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("device", String(40)),
    Column("seq", BigInteger),
    Column("kind", String(20)),
    Column("at", db.UTCDateTime),
    Column("lat", Float),
    Column("lon", Float),
    Column("speed", Float),
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """The process's peak resident set so far (Linux gives it in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def route() -> list[list[float]]:
    """40 vertices from Bangkok (100.50, 13.75) to Sadao (100.42, 6.63), wiggling a little."""
    rng = random.Random(1)
    return [[100.50 - 0.6 * (i / 39) * (1 - i / 39) * 4 + rng.uniform(-0.02, 0.02),
             13.75 - (13.75 - 6.63) * i / 39] for i in range(40)]  # fmt: skip


def setup(url: str, trips: int) -> Any:
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    line = route()
    with db.transaction(sessions) as s:
        add_platform(s, "BENCH", now=START, actor="bench")
        for t in range(trips):
            seals = [f"S{t:05d}A", f"S{t:05d}B"]
            for seal in seals:
                add_device(s, seal, platform="BENCH", now=START, actor="bench")
            body = {
                "reference": f"26TH{t:014d}", "seals": seals,
                "route": {"type": "LineString", "coordinates": line}, "corridor_m": 2000,
                "stops": [{"lat": line[10][1], "lon": line[10][0], "radius_m": 800},
                          {"lat": line[25][1], "lon": line[25][0], "radius_m": 800}],
                "max_stop_minutes": 45, "max_silence_minutes": 30,
                "destination": {"office": "TH9601", "lat": 6.63, "lon": 100.42,
                                "radius_m": 1500},
            }  # fmt: skip
            register_trip(s, TripCreate.model_validate(body), now=START, actor="bench")
    return engine, sessions, line


def batches(total: int, size: int, trips: int, line: list[list[float]]) -> Any:
    """Batches of event dicts: every seal reports in turn, a minute apart per round."""
    rng = random.Random(7)
    seq: dict[str, int] = {}
    made = 0
    round_no = 0
    seals = [f"S{t:05d}{x}" for t in range(trips) for x in "AB"]
    while made < total:
        batch: list[dict[str, Any]] = []
        while len(batch) < size and made < total:
            at = (START + timedelta(minutes=round_no)).isoformat()
            where = (round_no / 2000) % 1.0 * (len(line) - 1)  # along the route
            i = min(int(where), len(line) - 2)
            f = where - i
            lon = line[i][0] + (line[i + 1][0] - line[i][0]) * f
            lat = line[i][1] + (line[i + 1][1] - line[i][1]) * f
            for seal in seals[len(batch) % len(seals) :]:
                if len(batch) >= size or made >= total:
                    break
                n = seq[seal] = seq.get(seal, 0) + 1
                roll = rng.random()
                if roll < 0.001:
                    batch.append({"device": seal, "id": n, "kind": "door_open", "at": at})
                else:
                    off = 0.05 if roll < 0.01 else 0.0  # ~5 km east: off the corridor
                    speed = 0.0 if roll > 0.97 else 60.0 + rng.uniform(-10, 10)
                    batch.append({"device": seal, "id": n, "kind": "position", "at": at,
                                  "lat": lat + rng.uniform(-1e-4, 1e-4),
                                  "lon": lon + off + rng.uniform(-1e-4, 1e-4),
                                  "speed": speed})  # fmt: skip
                made += 1
            if len(batch) % len(seals) == 0 or len(batch) >= size:
                round_no += 1
        yield batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--trips", type=int, default=1000)
    args = parser.parse_args()
    domains.install()
    runtime.tune_collector()
    folder = Path(tempfile.mkdtemp(prefix="seals-bench-"))
    engine, sessions, line = setup(f"sqlite:///{folder / 'seals.db'}", args.trips)
    plain = sqlite3.connect(folder / "plain.db")
    plain_engine = db.make_engine(f"sqlite:///{folder / 'plain.db'}")
    PLAIN.create(plain_engine)
    plain_sessions = db.session_factory(plain_engine)
    validate_s = ingest_s = plain_s = 0.0
    taken = alerts = 0
    memory: list[dict[str, float]] = []
    checkpoint = max(args.events // 10, 1)
    done = 0
    now = START + timedelta(days=30)
    for batch in batches(args.events, args.batch, args.trips, line):
        t0 = time.perf_counter()
        events = EVENTS.validate_python(batch)
        t1 = time.perf_counter()
        with db.transaction(sessions) as s:
            result = ingest(s, events, source=Source(platform="BENCH"), now=now)
        t2 = time.perf_counter()
        rows = [(e.device, e.id, e.kind, e.at.isoformat(), e.lat, e.lon, e.speed)
                for e in events]  # fmt: skip
        t3 = time.perf_counter()
        with db.transaction(plain_sessions) as s:
            db.insert_values(s, PLAIN, ("device", "seq", "kind", "at", "lat", "lon", "speed"),
                             rows)  # fmt: skip
        t4 = time.perf_counter()
        validate_s += t1 - t0
        ingest_s += t2 - t1
        plain_s += t4 - t3
        taken += result.accepted
        alerts += len(result.alerts)
        before, done = done, done + len(batch)
        if done // checkpoint != before // checkpoint:
            memory.append(
                {"events": done, "rss_mb": round(rss_mb(), 1), "peak_mb": round(peak_rss_mb(), 1)}
            )
            progress(f"{done} events: {done / ingest_s:,.0f}/s with rules, "
                     f"{done / plain_s:,.0f}/s plain, rss {memory[-1]['rss_mb']} MB, "
                     f"peak {memory[-1]['peak_mb']} MB")  # fmt: skip
    plain.close()
    size = (folder / "seals.db").stat().st_size
    plain_size = (folder / "plain.db").stat().st_size
    engine.dispose()
    plain_engine.dispose()
    rate, plain_rate = taken / ingest_s, taken / plain_s
    later = [m["rss_mb"] for m in memory[len(memory) // 5 :]]
    print(json.dumps({
        "benchmark": "seals",
        "events": taken,
        "batch": args.batch,
        "trips": args.trips,
        "seals": args.trips * 2,
        "alerts": alerts,
        "ingest_events_per_s": round(rate),
        "plain_inserts_per_s": round(plain_rate),
        "ratio": round(rate / plain_rate, 3),
        "goal": {"events_per_s": 20_000, "ratio": 0.25},
        "validation_events_per_s": round(taken / validate_s),
        "with_validation_events_per_s": round(taken / (validate_s + ingest_s)),
        "database_bytes_per_event": round(size / taken, 1),
        "plain_database_bytes_per_event": round(plain_size / taken, 1),
        "rss_mb": memory,
        "rss_growth_after_first_fifth_mb": round(max(later) - min(later), 1) if later else None,
        "peak_mb_first_tenth_and_end": (
            [memory[0]["peak_mb"], memory[-1]["peak_mb"]] if memory else None
        ),
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpus": os.cpu_count(), "system": platform.platform()},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
