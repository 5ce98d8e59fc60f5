"""The portals' pages against the JSON API's answer for the same data, in the same run, on a
node holding many declarations (100,000 by default, lodged over 60 days at three offices,
with controls, payments and releases), served by `onewindow serve` (one uvicorn process) and
asked one request at a time from this process over loopback.

    .venv/bin/python bench/portal.py [--count 100000] [--requests 100] [--keep DIR]

Pairs (page / API): the officer's queue / the API's list of the same status; a declaration's
page / its JSON; the analysts' dashboard (8 charts) / the API's clearance report, once on a
quiet node and once with a payment recorded on a declaration of a past day before each
request (so that the dashboard computes that day's figures again); one chart's CSV / the
same report. Also the weight of the CSS and JS a page loads, compressed. Prints
progress to stderr and one JSON object last. `--keep DIR` keeps the database in DIR and
uses it again on the next run (building 100,000 declarations takes minutes).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import httpx
from api import free_port, start  # bench/api.py: start a server, wait for it
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow import domains
from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.generator import declaration
from onewindow.declarations.lodging import Context
from onewindow.declarations.models import Declaration
from onewindow.declarations.schemas import DocumentCheck, InspectionFindings, Opening, Payment
from onewindow.kit import auth
from onewindow.kit.clock import FixedClock
from onewindow.kit.config import settings_class
from onewindow.kit.node import Node
from onewindow.kit.runtime import tune_collector
from onewindow.risk import Selectivity, Targets
from onewindow.risk.lanes import lanes
from onewindow.tariff import import_rates, import_schedule

BIN = Path(sys.executable).parent
DATA = resources.files("onewindow") / "data"
STATIC = resources.files("onewindow") / "kit" / "static"
START = datetime(2026, 9, 22, 8, tzinfo=UTC)  # 60 days before the bench's "today"
DAYS = 60
OFFICER = auth.Principal("bench-officer", auth.Role.OFFICER)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(database: Path, count: int, batch: int = 1000) -> None:
    """`count` declarations lodged over DAYS days; 1 in 10 controlled yellow or red ones
    decided (1 in 4 of the inspections irregular), 1 in 20 green ones paid and released."""
    clock = FixedClock(START)
    node = Node.open(settings_class()(database_url=f"sqlite:///{database}"), clock)
    lanes(node).selectivity = Selectivity(
        Targets(red=0.05, yellow=0.15, random_share=0.01), rng=random.Random(1)
    )
    with node.transaction() as s:
        import_schedule(s, (DATA / "sample_tariff.csv").read_text())
        import_rates(s, (DATA / "sample_rates.csv").read_text())
    rng = random.Random(42)
    lodged = 0
    step = DAYS * 86400 / count * batch
    while lodged < count:
        docs = [declaration(rng, clock.now().date()) for _ in range(min(batch, count - lodged))]
        ctx = context(node)
        with node.transaction() as s:
            numbers = service.lodge(s, auth.SYSTEM, docs, ctx)
            for number in numbers[::10]:
                _work(s, number, rng, ctx)
        lodged += len(docs)
        clock.advance(seconds=step)
        if lodged % (batch * 10) == 0:
            say(f"built {lodged:,} declarations")
    node.engine.dispose()


def _work(s: Session, number: str, rng: random.Random, ctx: Context) -> None:
    """An officer's decisions on a declaration, and its payment and release."""
    decl = service.get(s, auth.SYSTEM, number)
    if decl.status == "document_check":
        service.open_control(s, OFFICER, number, Opening(), ctx)
        decision = "inspect" if rng.random() < 0.3 else "accept"
        service.document_check(s, OFFICER, number, DocumentCheck(decision=decision), ctx)
    if decl.status == "inspection":
        result = "irregularity" if rng.random() < 0.25 else "compliant"
        service.record_inspection(s, OFFICER, number, InspectionFindings(result=result), ctx)
    if decl.status == "awaiting_payment" and (decl.channel != "green" or rng.random() < 0.5):
        paid = Payment(method="paid", reference="BENCH", amount=decl.total_due)
        service.pay(s, auth.SYSTEM, number, paid, ctx)
        if decl.channel != "green":
            service.release(s, OFFICER, number, ctx)


def timed(client: httpx.Client, path: str, token: str, cookie: bool) -> float:
    headers = {"Cookie": f"ow_session={token}"} if cookie else {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    r = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - start) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
    return elapsed


def pair(
    client: httpx.Client,
    page: str | list[str],
    api: str | list[str],
    token: str,
    n: int,
    before: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """p50 and p95 of the page and of the API, asked alternately, and the ratio of the p95s;
    `before(i)`, if given, runs (untimed) before the i-th pair."""
    pages, apis = [], []
    for i in range(n + 5):
        if before:
            before(i)
        p = page[i % len(page)] if isinstance(page, list) else page
        a = api[i % len(api)] if isinstance(api, list) else api
        took = timed(client, p, token, True), timed(client, a, token, False)
        if i >= 5:  # warm-up
            pages.append(took[0])
            apis.append(took[1])

    def q(values: list[float], at: float) -> float:
        return round(statistics.quantiles(values, n=100)[int(at * 100) - 1], 2)

    return {
        "page_p50_ms": q(pages, 0.5),
        "page_p95_ms": q(pages, 0.95),
        "api_p50_ms": q(apis, 0.5),
        "api_p95_ms": q(apis, 0.95),
        "p95_ratio": round(q(pages, 0.95) / q(apis, 0.95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="keep the database here, and use it again")
    args = parser.parse_args()
    domains.install()
    tune_collector()
    work = args.keep or Path(tempfile.mkdtemp(prefix="ow-portal-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    database = work / f"node-{args.count}.db"
    if not database.exists():
        partial = work / "building.db"
        partial.unlink(missing_ok=True)
        build(partial, args.count)
        partial.rename(database)
    else:
        say(f"using {database}")
    node = Node.open(settings_class()(database_url=f"sqlite:///{database}"))
    with node.transaction() as s:
        tokens = {
            role: auth.create_user(s, f"bench-{role}-{time.time_ns()}", auth.Role(role), party)
            for role, party in (("officer", None), ("analyst", None))
        }
        numbers = [d.number for d in service.search(s, auth.SYSTEM, limit=200)]
        unpaid = (
            select(Declaration.number, Declaration.total_due)
            .where(Declaration.status == "awaiting_payment")
            .order_by(Declaration.id.desc())  # lodged within the dashboard's 30 days
            .limit(args.requests + 5)
        )
        waiting = [(number, str(due)) for number, due in s.execute(unpaid)]
    node.engine.dispose()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {"ONEWINDOW_DATABASE_URL": f"sqlite:///{database}"}
    server = start(
        [str(BIN / "onewindow"), "serve", "--port", str(port)], env, f"{base}/api/v1/health"
    )
    try:
        results: dict[str, object] = {"declarations": args.count, "requests": args.requests}
        with httpx.Client(base_url=base, timeout=60) as client:
            officer, analyst = tokens["officer"], tokens["analyst"]
            n = args.requests
            say("queue")
            results["queue"] = pair(
                client, "/queue", "/api/v1/declarations?status=document_check", officer, n
            )
            say("declaration page")
            results["declaration"] = pair(
                client,
                [f"/declarations/{x}" for x in numbers],
                [f"/api/v1/declarations/{x}" for x in numbers],
                officer,
                n,
            )
            say("dashboard")
            results["dashboard"] = pair(
                client, "/analytics", "/api/v1/reports/clearance?days=30", analyst, n
            )
            say("dashboard while declarations of days that are over are paid")

            def pay_one(i: int) -> None:
                # A payment on a declaration of a past day: that day's kept figures are out
                # of date, and the next dashboard computes the day again.
                number, due = waiting[i]
                r = client.post(
                    f"/api/v1/declarations/{number}/payment",
                    json={"method": "paid", "reference": "BENCH", "amount": due},
                    headers={"Authorization": f"Bearer {officer}"},
                )
                if r.status_code != 200:
                    raise RuntimeError(f"paying {number}: {r.status_code} {r.text[:300]}")

            results["dashboard_changing"] = pair(
                client, "/analytics", "/api/v1/reports/clearance?days=30", analyst, n, pay_one
            )
            say("one chart's CSV")
            results["csv"] = pair(
                client, "/analytics/clearance.csv", "/api/v1/reports/clearance?days=30", analyst, n
            )
    finally:
        server.terminate()
        server.wait(30)
    weight = sum(
        len(gzip.compress((STATIC / name).read_bytes(), 9))
        for name in ("onewindow.css", "onewindow.js")
    )
    results["css_js_gzip_bytes"] = weight
    print(json.dumps(results))


if __name__ == "__main__":
    main()
