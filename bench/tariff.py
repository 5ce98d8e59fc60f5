"""A real-sized tariff published from one node to another, in one process on SQLite files:
what it weighs on the wire and how long each step takes.

    .venv/bin/python bench/tariff.py [--lines 11000] [--items 50]

TH loads a schedule of `--lines` national lines (over real HS 2022 subheadings; a real AHTN
schedule has some 11,000) and its rates, and publishes them to VN (`tariff.publish`: the
snapshot, the document built and validated, the ledger entry, the outbox row); the queued
document is sealed with TH's key as the delivery worker does; VN receives it
(`exchange.receive`: verify, validate, read, log in the ledger, store every line, sign the
receipt). Then VN computes the taxes due in Thailand on `--items` items
(`tariff.import_taxes`), the median of 20 runs.

Baseline, same run: the same lines inserted into VN's partner lines table with
`kit.db.insert_many`, nothing else (`receive_ratio` = baseline / receive). Progress goes to
stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from onewindow import domains
from onewindow.exchange import envelope, service
from onewindow.exchange.envelope import Signer
from onewindow.exchange.models import OutgoingMessage
from onewindow.exchange.trust import TrustStore
from onewindow.kit import keys
from onewindow.kit.auth import Principal, Role
from onewindow.kit.authority import create_authority, issue_node_certificate
from onewindow.kit.config import PartnerConfig, settings_class
from onewindow.kit.db import insert_many
from onewindow.kit.node import Node
from onewindow.tariff import Goods, Home, import_rates, import_schedule, import_taxes, publish
from onewindow.tariff.models import PartnerLine, PartnerSchedule
from onewindow.tariff.nomenclature import subheadings

NOW = datetime.now(UTC)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def schedule_csv(count: int) -> tuple[str, list[str]]:
    splits = ("10", "20", "30", "90", "91", "99")
    codes = sorted(s + split for split in splits for s in subheadings())[:count]
    rows = [f"{c},Line {c},KGM,{n % 40},0,7,2022-01-01," for n, c in enumerate(codes)]
    header = "code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to\n"
    return header + "\n".join(rows) + "\n", codes


def node(directory: Path, country: str, currency: str, partner: str) -> Node:
    settings = settings_class()(
        country=country,
        currency=currency,
        database_url=f"sqlite:///{directory / country.lower()}.db",
        partners={partner: PartnerConfig(endpoint=f"http://127.0.0.1/{partner}")},
    )
    opened = Node.open(settings)
    with opened.transaction() as s:
        service.sync_partners(s, settings.partners, now=NOW)
    return opened


def signers() -> tuple[TrustStore, Signer, Signer]:
    start = NOW - timedelta(days=1)
    authority = create_authority(now=start)
    made = []
    for country in ("TH", "VN"):
        key = keys.generate_private_key()
        made.append(
            Signer(key, issue_node_certificate(authority, country, key.public_key(), now=start))
        )
    trust = TrustStore(authority.certificate, [s.certificate for s in made])
    return trust, made[0], made[1]


def timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def run(lines: int, items: int) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="ow-tariff-"))
    th, vn = node(directory, "TH", "THB", "VN"), node(directory, "VN", "VND", "TH")
    trust, th_key, vn_key = signers()
    text, codes = schedule_csv(lines)
    with th.transaction() as s:
        import_schedule(s, text)
        import_rates(s, "currency,rate,valid_from\nUSD,35.5,2026-01-01\n")
    say(f"publishing {len(codes)} lines")
    actor = Principal("bench", Role.SUPERVISOR)

    def publishing() -> Any:
        with th.transaction() as s:
            return publish(s, actor, home=Home("TH", "THB"), now=NOW)

    publication, publish_s = timed(publishing)
    with th.transaction() as s:
        queued = s.scalars(select(OutgoingMessage)).one()
        header = envelope.new_header("TH", "VN", queued.document_type, queued.document_id,
                                     queued.version, NOW)  # fmt: skip
        document = queued.document
    sealed, seal_s = timed(lambda: envelope.seal(header, document, th_key))
    say(f"receiving {len(sealed):,} bytes")

    def receiving() -> bytes:
        with vn.transaction() as s:
            return service.receive(s, sealed, trust=trust, node_key=vn_key, country="VN",
                                   now=NOW)  # fmt: skip

    _, receive_s = timed(receiving)
    goods = [Goods(codes[n * (len(codes) // items)], Decimal(1000), "USD") for n in range(items)]
    runs = []
    for _ in range(20):
        with vn.transaction() as s:
            due, took = timed(lambda s=s: import_taxes(s, "TH", goods, NOW.date(),
                                                       home=Home("VN", "VND")))  # fmt: skip
        runs.append(took)
    with vn.transaction() as s:  # rolled back: only the inserts are timed
        kept = s.scalars(select(PartnerSchedule)).one()
        empty = PartnerSchedule(country="TH", version=kept.version + 1, effective_date=NOW.date(),
                                issued_at=NOW, received_at=NOW, currency="THB", line_count=0,
                                rate_count=0, message_id="baseline")  # fmt: skip
        s.add(empty)
        s.flush()
        rows = [
            {"schedule_id": empty.id, "code": c, "unit": "KGM",
             "mfn_rate": Decimal(n % 40), "atiga_rate": Decimal(0), "vat_rate": Decimal(7)}
            for n, c in enumerate(codes)
        ]  # fmt: skip
        _, baseline_s = timed(lambda: insert_many(s, PartnerLine, rows))
        s.rollback()
    th.engine.dispose()
    vn.engine.dispose()
    return {
        "lines": len(codes),
        "document_bytes": publication.size,
        "envelope_bytes": len(sealed),
        "bytes_per_line": round(publication.size / len(codes), 1),
        "limit_bytes": 2 * 1024 * 1024,
        "publish_s": round(publish_s, 3),
        "seal_s": round(seal_s, 3),
        "receive_s": round(receive_s, 3),
        "baseline_insert_s": round(baseline_s, 3),
        "receive_ratio": round(baseline_s / receive_s, 3),
        "taxes_items": items,
        "taxes_ms": round(statistics.median(runs) * 1000, 2),
        "taxes_due": [due.currency, str(due.amount)],
        "machine": f"{platform.machine()} python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=11_000)
    parser.add_argument("--items", type=int, default=50)
    args = parser.parse_args()
    domains.install()
    print(json.dumps(run(args.lines, args.items)))


if __name__ == "__main__":
    main()
