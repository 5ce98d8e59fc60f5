"""The gateway end to end: two nodes (TH sends, VN receives) as `onewindow serve --config`
processes on loopback, N e-Form D queued at TH and delivered with signed receipts.

    .venv/bin/python bench/exchange.py [--n 5000] [--kill-n 5000] [--handler real]

1. Throughput and latency: N documents queued at TH (the domain's `send`: build, validate,
   outbox row), sealed and sent by TH's worker, verified, stored and acknowledged by VN with a
   signed receipt, each receipt verified and stored back at TH. documents_per_s runs from the
   first queued document to the last receipt stored; latency is per document, queued to
   receipt stored, under that burst.
2. Baseline, same run, same two processes: TH posts the same signed bytes to a bare endpoint
   of VN that only reads the body: no verification, storage, receipts or outbox. One envelope
   per POST (`baseline_per_s`, what the ratio uses) and, for reference, in the gateway's batches
   (`baseline_batched_per_s`). Same connections and concurrency as the gateway.
3. Restart: another batch, VN killed (SIGKILL) when about a third has been applied and started
   again; `lost` and `duplicates` count documents never applied and applied twice.

By default the nodes apply Form D with a stand-in handler that records each application, so
that the figure is the gateway's. `--handler real` keeps the origin domain's own handler
(the certificate stored, the document logged in VN's ledger); each document then carries its
own certificate reference, and applications are counted from VN's ledger. Progress goes to
stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from onewindow import domains
from onewindow.cli import main as cli_main
from onewindow.cli import serve as serve_module
from onewindow.exchange import federation, register_handler, service, transport
from onewindow.exchange.handlers import Incoming
from onewindow.kit import db
from onewindow.kit.config import get_settings, load
from onewindow.kit.node import Node

SETTLED = ("processed", "delivered", "rejected", "failed")
ENV = {  # quick retries so that the restart run does not wait on long backoffs
    "ONEWINDOW_EXCHANGE_RETRY_BASE": "0.2",
    "ONEWINDOW_EXCHANGE_RETRY_CAP": "2",
    "ONEWINDOW_EXCHANGE_TIMEOUT": "10",
    "ONEWINDOW_EXCHANGE_LEASE": "15",
}
FORM_D = {
    "reference": "TH-2026-000123",
    "transport": {"departure_date": "2026-11-06", "mode": "1", "vessel": "MV Mekong Star",
                  "loading_port": "THLCH", "discharge_port": "VNSGN"},
    "exporter": {"id": "0105551234567", "name": "Siam Devices Co.",
                 "address": "99 Rama IV Road, Bangkok 10500", "country": "TH"},
    "consignee": {"id": "0101234567", "name": "Saigon Logistics JSC",
                  "address": "12 Nguyen Hue, District 1, Ho Chi Minh City", "country": "VN"},
    "items": [{"item_number": n, "packages": {"count": 30, "kind": "CT"},
               "description": f"Smartphones, model {n}", "hs_code": "851713",
               "origin_criterion": "40%", "quantity": "300", "unit": "PCE",
               "gross_weight": "450.5", "gross_weight_unit": "KGM", "fob_value": "45000.00",
               "fob_currency": "USD", "invoice": {"number": "INV-7781", "date": "2026-11-02"}}
              for n in (1, 2, 3)],
    "declaration": {"producing_country": "TH", "importing_country": "VN", "place": "Bangkok",
                    "date": "2026-11-05"},
    "certification": {"authority": "Department of Foreign Trade, Ministry of Commerce",
                      "issue_date": "2026-11-08", "place": "Bangkok"},
    "flags": {},
}  # fmt: skip


ORIGINAL_CREATE_APP = serve_module.create_app


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- inside a node process ----


_RECORD = text("INSERT INTO bench_applied VALUES (:m, :d)")


def record(session: Session, message: Incoming) -> None:
    session.execute(_RECORD, {"m": message.message_id, "d": message.document_id})


def bench_handlers() -> None:
    engine = db.make_engine(get_settings().database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_applied (message_id TEXT, doc TEXT)"))
    engine.dispose()
    register_handler("FORM_D", record)


def post_all(url: str, bodies: list[tuple[bytes, str]], concurrency: int) -> float:
    """POST every body with `concurrency` threads sharing one client; return seconds taken."""
    client = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency))

    def post(body: tuple[bytes, str]) -> None:
        client.post(url, content=body[0], headers={"Content-Type": body[1]}).raise_for_status()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, bodies))  # list(): an error in any POST is raised here
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def bench_app(node: Node) -> FastAPI:
    """The node's app plus a bare sink (the baseline's receiver) and the baseline's sender."""
    app = ORIGINAL_CREATE_APP(node)

    @app.post("/bench/sink")
    async def sink(request: Request) -> Response:
        await request.body()
        return Response(b"", 200)

    @app.post("/bench/baseline")
    def baseline(spec: dict[str, Any]) -> dict[str, float]:
        with node.transaction() as s:
            rows = s.execute(
                text(
                    "SELECT sealed FROM exchange_outgoing WHERE sealed IS NOT NULL "
                    "AND document_id LIKE :p"
                ),
                {"p": spec["prefix"] + "%"},
            )
            sealed = [r[0] for r in rows]
        single = [(b, transport.XML) for b in sealed]
        size = spec["batch"]
        batched = [
            transport.encode([(transport.XML, b) for b in sealed[i : i + size]])
            for i in range(0, len(sealed), size)
        ]
        c = spec["concurrency"]
        return {
            "count": len(sealed),
            "single_s": post_all(spec["sink"], single, c),
            "batched_s": post_all(spec["sink"], batched, c),
        }

    return app


def run_node(config: str, handler: str) -> None:
    if handler == "stand-in":  # every FORM_D applied by bench_handlers' stand-in instead
        domains.DOMAINS = tuple(
            replace(d, handlers=f"{__name__}:bench_handlers" if d.name == "exchange" else None)
            for d in domains.DOMAINS
        )
    serve_module.create_app = bench_app  # type: ignore[assignment]
    sys.argv = ["onewindow", "serve", "--config", config]
    cli_main.main()


# ---- the driver ----


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports: held open together, so none is handed out twice."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ports


class Member:
    def __init__(self, config: Path, handler: str) -> None:
        self.config = config
        self.handler = handler
        settings = load(config)
        self.country = settings.country
        self.url = f"http://127.0.0.1:{settings.port}"
        self.sessions: sessionmaker[Session] = db.session_factory(
            db.make_engine(settings.database_url)
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.config.parent / "serve.log", "ab")  # noqa: SIM115  (the child owns it)
        args = [sys.executable, __file__, "node", str(self.config), self.handler]
        self.process = subprocess.Popen(args, env=os.environ | ENV, stdout=log, stderr=log)
        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.config} exited; see serve.log")
            try:  # the country too: another process may answer on a reused port
                health = httpx.get(self.url + "/api/v1/health", timeout=1)
                if health.status_code == 200 and health.json()["country"] == self.country:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.config} did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(30)

    def scalar(self, sql: str, **params: Any) -> Any:
        with db.transaction(self.sessions) as s:
            return s.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with db.transaction(self.sessions) as s:
            return list(s.execute(text(sql), params).all())


def queue(th: Member, prefix: str, n: int, chunk: int = 20, rate: float | None = None) -> None:
    """Queue documents at TH through the domains' `send`, as another process of the node
    would (a CLI command, a second API process), `chunk` per transaction, at `rate`/s."""
    began = time.perf_counter()
    for start in range(0, n, chunk):
        if rate:
            time.sleep(max(0.0, began + start / rate - time.perf_counter()))
        with db.transaction(th.sessions) as s:
            for i in range(start, min(n, start + chunk)):
                reference = f"{prefix}-{i:06d}"
                service.send(s, sender="TH", receiver="VN", document_type="FORM_D",
                             document_id=reference, version=1,
                             payload=FORM_D | {"reference": reference},
                             now=datetime.now(UTC))  # fmt: skip


def settled(th: Member, prefix: str) -> int:
    return int(
        th.scalar(
            "SELECT count(*) FROM exchange_outgoing WHERE document_id LIKE :p "
            "AND status IN ('processed', 'delivered', 'rejected', 'failed')",
            p=prefix + "%",
        )
    )


def wait_settled(th: Member, prefix: str, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while settled(th, prefix) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{prefix}: only {settled(th, prefix)} of {n} settled")
        time.sleep(0.05)


def applied(vn: Member, prefix: str) -> tuple[int, int]:
    """Applications of the prefix's documents at VN, and how many distinct documents."""
    if vn.handler == "real":  # each application logs a `received` entry
        sql = ("SELECT count(*), count(DISTINCT document_id) FROM ledger_entries "
               "WHERE kind = 'received' AND document_id LIKE :p")  # fmt: skip
    else:
        sql = "SELECT count(*), count(DISTINCT message_id) FROM bench_applied WHERE doc LIKE :p"
    (row,) = vn.rows(sql, p=prefix + "%")
    return int(row[0]), int(row[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def throughput(
    th: Member, vn: Member, n: int, prefix: str = "BENCH", rate: float | None = None
) -> dict[str, Any]:
    queue(th, prefix, n, chunk=max(1, int(rate / 10)) if rate else 100, rate=rate)
    wait_settled(th, prefix, n)
    rows = th.rows(
        "SELECT created_at, completed_at, status FROM exchange_outgoing WHERE document_id LIKE :p",
        p=prefix + "%",
    )
    times = [(_utc(c), _utc(d)) for c, d, _ in rows]
    elapsed = (max(d for _, d in times) - min(c for c, _ in times)).total_seconds()
    latencies = [(d - c).total_seconds() * 1000 for c, d in times]
    statuses: dict[str, int] = {}
    for *_, status in rows:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "documents": n,
        "seconds": round(elapsed, 3),
        "documents_per_s": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "statuses": statuses,
        "applied": applied(vn, prefix),
    }


def _utc(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def restart_run(th: Member, vn: Member, n: int) -> dict[str, Any]:
    queue(th, "KILL", n)
    while applied(vn, "KILL")[1] < n // 3:
        time.sleep(0.02)
    vn.stop(kill=True)
    at = applied(vn, "KILL")[1]
    say(f"VN killed after {at} of {n} applied; restarting")
    vn.start()
    wait_settled(th, "KILL", n)
    total, distinct = applied(vn, "KILL")
    processed = th.scalar(
        "SELECT count(*) FROM exchange_outgoing WHERE document_id LIKE "
        "'KILL%' AND status = 'processed'"
    )
    return {
        "documents": n,
        "killed_after": at,
        "processed": int(processed),
        "lost": n - distinct,
        "duplicates": total - distinct,
    }


def main() -> None:
    domains.install()  # as every composition root does first: the driver sends Form D itself
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--kill-n", type=int, default=5000)
    parser.add_argument("--paced-rate", type=float, default=250, help="documents/s, paced run")
    parser.add_argument("--paced-seconds", type=float, default=8)
    parser.add_argument(
        "--handler", choices=["stand-in", "real"], default="stand-in", help="how VN applies Form D"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ow-bench-exchange-") as tmp:
        directory = Path(tmp) / "fed"
        created = federation.init(directory, ["TH", "VN"])
        ports = dict(zip([m.country for m in created], free_ports(len(created)), strict=True))
        for m in created:
            m.config["port"] = ports[m.country]
            # Plain HTTP on loopback, as the recorded figures were measured (no TLS files).
            for name in ("tls_cert_file", "tls_key_file"):
                m.config.pop(name)
            for country, partner in m.config["partners"].items():
                partner["endpoint"] = f"http://127.0.0.1:{ports[country]}"
            federation._write_json(m.config_file, m.config)
        th = Member(directory / "TH" / "node.json", args.handler)
        vn = Member(directory / "VN" / "node.json", args.handler)
        try:
            th.start()
            vn.start()
            say("warming up")
            queue(th, "WARM", 300)
            wait_settled(th, "WARM", 300)
            say(f"sending {args.n} e-Form D from TH to VN")
            run = throughput(th, vn, args.n)
            say(json.dumps(run))
            spec = {"sink": vn.url + "/bench/sink", "prefix": "BENCH", "batch": 100,
                    "concurrency": 4}  # fmt: skip
            say("baseline: the same signed bytes, plain POSTs to a bare endpoint")
            base = httpx.post(th.url + "/bench/baseline", json=spec, timeout=600).json()
            baseline = base["count"] / base["single_s"]
            batched = base["count"] / base["batched_s"]
            say(f"baseline {baseline:.0f}/s one per POST, {batched:.0f}/s in batches")
            paced_n = int(args.paced_rate * args.paced_seconds)
            say(f"latency at a steady {args.paced_rate:.0f}/s: {paced_n} documents")
            paced = throughput(th, vn, paced_n, "PACED", args.paced_rate)
            say(json.dumps(paced))
            say(f"restart run: {args.kill_n} documents, VN killed mid-run")
            restart = restart_run(th, vn, args.kill_n)
            say(json.dumps(restart))
        finally:
            th.stop()
            vn.stop()
    result = {
        "benchmark": "exchange",
        "handler": args.handler,
        "documents": args.n,
        "documents_per_s": run["documents_per_s"],
        "baseline_per_s": round(baseline, 1),
        "ratio": round(run["documents_per_s"] / baseline, 3),
        "baseline_batched_per_s": round(batched, 1),
        "ratio_to_batched": round(run["documents_per_s"] / batched, 3),
        "p50_ms": run["p50_ms"],
        "p99_ms": run["p99_ms"],
        "statuses": run["statuses"],
        "paced_rate_per_s": args.paced_rate,
        "paced_p50_ms": paced["p50_ms"],
        "paced_p99_ms": paced["p99_ms"],
        "lost": restart["lost"],
        "duplicates": restart["duplicates"],
        "restart": restart,
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.python_version()}",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "node":
        run_node(sys.argv[2], sys.argv[3])
    else:
        main()
