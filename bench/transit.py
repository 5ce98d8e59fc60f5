"""ACTS transit at speed: movements declared and released at departure, and a movement's whole
message sequence across three nodes (TH -> MY -> SG).

    .venv/bin/python bench/transit.py [--movements 2000] [--sequences 30] [--served 10]

1. Departure, in one process on SQLite: `--movements` movements declared and released at TH
   (`transit.declare`, then `transit.decide_release`: one transaction each, as two requests
   are), each reserving its guarantee at MY's and SG's published rates and queuing its
   TRANSIT_RECORD for MY and SG (built, validated, logged in the ledger). Figure: movements/s
   over the run, and over its last tenth (where a cost growing with the traffic would show).
   Baseline, same run: the rows those two transactions stored (the movement, its reservation,
   its event, its two outbox messages, its ledger entry, its two audit entries) inserted
   again into an empty database of the same schema with `kit.db.insert_many`, in the same two
   transactions per movement (`ratio` = movements/s / baseline/s). The same per second of
   this process's CPU time (`cpu_per_s`, `cpu_ratio`): everything runs in this process, so
   these move less than wall time when other programs load the machine.
2. A movement's sequence, in one process: TH, MY and SG on SQLite files; release at TH ->
   its record to MY and SG -> the crossing at MY -> the arrival and the unloading at SG -> the
   write-off at TH -> its record to MY and SG: seven documents, each sealed with its sender's
   key, verified, validated, applied and answered with a signed receipt by the receiver
   (`exchange.receive`), the receipt verified and stored back at the sender
   (`exchange.settle`), as the gateway does; no network. Wall time per movement.
3. The same over three `onewindow serve --config` processes on loopback with mutual TLS
   (`--served` movements, 0 to skip): the officers' steps through the API, each next step
   taken as soon as this process sees (in the node's database, polled every 5 ms) that the
   message before it was applied. Wall time from the release request to the last record
   applied at MY and SG. The delivery workers poll at the node's default interval (or
   ONEWINDOW_EXCHANGE_POLL_INTERVAL if set here); the CPU the three processes use while
   idle, over two seconds before the first movement, is reported beside it.

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Table, select, text, update

from onewindow import domains
from onewindow.exchange import envelope, federation, service
from onewindow.exchange.envelope import Signer
from onewindow.exchange.models import OutgoingMessage
from onewindow.exchange.trust import TrustStore
from onewindow.kit import auth, keys
from onewindow.kit.audit import AuditEvent
from onewindow.kit.auth import Principal, Role
from onewindow.kit.authority import create_authority, issue_node_certificate
from onewindow.kit.config import PartnerConfig, load, settings_class
from onewindow.kit.db import insert_many
from onewindow.kit.node import Node
from onewindow.ledger.models import LedgerEntry
from onewindow.tariff import import_rates, import_schedule, publish
from onewindow.tariff.publishing import Home
from onewindow.transit import offices, traders
from onewindow.transit import service as transit
from onewindow.transit.context import context
from onewindow.transit.models import Guarantee, Movement, MovementEvent, Reservation
from onewindow.transit.schemas import (
    GuaranteeCreate,
    MovementCreate,
    Release,
    TraderWrite,
    Unloading,
)

BIN = Path(sys.executable).parent
ROAD = ("TH", "MY", "SG")
CURRENCIES = {"TH": "THB", "MY": "MYR", "SG": "SGD"}
HEADER = "code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to\n"
TARIFFS = {  # each node's schedule for smartphones, and its rates
    "TH": ("85171300,Smartphones,PCE,10,0,10", "USD,36\nMYR,7.7\nSGD,26.5"),
    "MY": ("85171300,Smartphones,PCE,20,0,10", "USD,4.4"),
    "SG": ("85171300,Smartphones,PCE,0,0,9", "USD,1.35"),
}
OFFICER = Principal("bench-officer", Role.OFFICER)
PUBLISHER = Principal("bench-supervisor", Role.SUPERVISOR)
HOLDER = {"holder_id": "0105551234567", "holder_name": "Siam Logistics"}
# An officer's release, with what the control found: the lanes' random picks send some
# movements to the yellow or red lane, where it is required.
RELEASE = Release(decision="release", control="seals and documents checked")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def body(grn: str, n: int) -> dict[str, Any]:
    return HOLDER | {
        "grn": grn, "departure_office": "THLCH", "transit_offices": ["MYBKH"],
        "destination_office": "SGSIN", "seals": [f"THSEAL-{n:07d}", f"THSEAL-{n:07d}-B"],
        "items": [{"hs_code": "85171300", "description": "Smartphones", "quantity": "500",
                   "unit": "PCE", "gross_mass_kg": "200", "customs_value": "100000",
                   "currency": "USD"}],
    }  # fmt: skip


def load_tariff(node: Node) -> None:
    schedule, rates = TARIFFS[node.settings.country]
    with node.transaction() as s:
        import_schedule(s, f"{HEADER}{schedule},2022-01-01,\n")
        lines = [f"{r},2020-01-01" for r in rates.split("\n")]
        import_rates(s, "currency,rate,valid_from\n" + "\n".join(lines) + "\n")


def open_node(directory: Path, country: str) -> Node:
    others = {c: PartnerConfig(endpoint=f"http://127.0.0.1/{c}") for c in ROAD if c != country}
    settings = settings_class()(
        country=country, currency=CURRENCIES[country], partners=others,
        database_url=f"sqlite:///{directory / country.lower()}.db",
    )  # fmt: skip
    node = Node.open(settings)
    with node.transaction() as s:
        service.sync_partners(s, others, now=node.clock.now())
    load_tariff(node)
    return node


class Gateway:
    """The three nodes' keys, and delivery from one node to another as the worker does it:
    sealed with the sender's key, received (verified, applied, answered) by the receiver, the
    receipt settled at the sender."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        start = datetime.now(UTC) - timedelta(days=1)
        authority = create_authority(now=start)
        self.nodes, self.signers = nodes, {}
        for country in nodes:
            key = keys.generate_private_key()
            certificate = issue_node_certificate(authority, country, key.public_key(), now=start)
            self.signers[country] = Signer(key, certificate)
        self.trust = TrustStore(
            authority.certificate, [s.certificate for s in self.signers.values()]
        )
        self.messages = 0

    def deliver(self, source: str, target: str) -> int:
        o = OutgoingMessage
        with self.nodes[source].transaction() as s:
            queued = list(s.execute(
                select(o.message_id, o.document_type, o.document_id, o.version, o.document)
                .where(o.status == "queued", o.receiver == target).order_by(o.created_at)
            ))  # fmt: skip
        for message_id, kind, document_id, version, document in queued:
            now = datetime.now(UTC)
            header = envelope.Header(message_id, source, target, kind, document_id, version, now)
            sealed, digest = envelope.seal_with_digest(header, document, self.signers[source])
            with self.nodes[target].transaction() as s:
                receipt = service.receive(s, sealed, trust=self.trust, country=target, now=now,
                                          node_key=self.signers[target])  # fmt: skip
            change = service.settle(message_id, receipt, digest=digest, trust=self.trust,
                                    partner=target, now=datetime.now(UTC))  # fmt: skip
            assert change["status"] == "processed", change
            with self.nodes[source].transaction() as s:
                s.execute(update(o).where(o.message_id == message_id),
                          change | {"sealed": sealed, "sealed_at": now})  # fmt: skip
            self.messages += 1
        return len(queued)


def publish_tariffs(gateway: Gateway) -> None:
    for country in ("MY", "SG"):
        node = gateway.nodes[country]
        with node.transaction() as s:
            publish(s, PUBLISHER, home=Home.of(node.settings), to=["TH"], now=node.clock.now())
        assert gateway.deliver(country, "TH") == 1


def guarantee(th: Node, amount: str) -> str:
    data = GuaranteeCreate.model_validate(
        HOLDER | {"kind": "comprehensive", "currency": "THB", "amount": amount,
                  "valid_until": "2030-06-30"}
    )  # fmt: skip
    with th.transaction() as s:
        holder = TraderWrite(name=HOLDER["holder_name"])  # registered for ACTS
        traders.register(s, OFFICER, HOLDER["holder_id"], holder, th.clock)
        return transit.register_guarantee(s, OFFICER, data, context(th)).grn


def departure(directory: Path, count: int) -> dict[str, Any]:
    nodes = {c: open_node(directory, c) for c in ROAD}
    gateway = Gateway(nodes)
    publish_tariffs(gateway)
    th = nodes["TH"]
    grn = guarantee(th, "1e12")
    ctx, release = context(th), RELEASE
    say(f"departure: {count} movements declared and released")
    times = []
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        data = MovementCreate.model_validate(body(grn, n))
        with th.transaction() as s:
            mrn = transit.declare(s, OFFICER, data, ctx).mrn
        with th.transaction() as s:
            transit.decide_release(s, OFFICER, mrn, release, ctx)
        times.append(time.perf_counter())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    tenth = max(1, count // 10)
    last = tenth / (times[-1] - times[-tenth - 1]) if count > tenth else count / elapsed
    baseline, baseline_cpu = plain_inserts(th, open_node(directory / "baseline", "TH"))
    for node in nodes.values():
        node.close()
    return {
        "movements": count,
        "per_s": round(count / elapsed, 1),
        "last_tenth_per_s": round(last, 1),
        "baseline_per_s": round(count / baseline, 1),
        "ratio": round(baseline / elapsed, 3),
        "cpu_per_s": round(count / cpu, 1),
        "cpu_ratio": round(baseline_cpu / cpu, 3),
        "goal_per_s": 100,
    }


def plain_inserts(th: Node, empty: Node) -> tuple[float, float]:
    """The rows TH stored for each movement, inserted again into `empty` in the same two
    transactions per movement; seconds taken, and seconds of this process's CPU."""

    def rows(model: Any, order: Any) -> list[dict[str, Any]]:
        table: Table = model.__table__
        with th.transaction() as s:
            return [dict(r) for r in s.execute(select(table).order_by(order)).mappings()]

    movements = rows(Movement, Movement.id)
    by_mrn: dict[str, dict[str, list[dict[str, Any]]]] = {m["mrn"]: {} for m in movements}
    ids = {m["id"]: m["mrn"] for m in movements}

    def group(name: str, found: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> None:
        for row in found:
            if key(row) in by_mrn:
                by_mrn[key(row)].setdefault(name, []).append(row)

    group("movement", movements, lambda r: r["mrn"])
    group("reservation", rows(Reservation, Reservation.id), lambda r: r["mrn"])
    group("event", rows(MovementEvent, MovementEvent.id), lambda r: ids[r["movement_id"]])
    group("outgoing", rows(OutgoingMessage, OutgoingMessage.created_at), lambda r: r["document_id"])
    group("ledger", rows(LedgerEntry, LedgerEntry.leaf_index), lambda r: r["document_id"])
    group("audit", rows(AuditEvent, AuditEvent.id), lambda r: r["entity_id"])
    steps = (
        ((Movement, "movement"), (Reservation, "reservation")),
        ((MovementEvent, "event"), (OutgoingMessage, "outgoing"), (LedgerEntry, "ledger")),
    )
    with empty.transaction() as s:  # the guarantee they draw on, before the clock runs
        insert_many(s, Guarantee, rows(Guarantee, Guarantee.id))
    say(f"baseline: the same rows of {len(movements)} movements, plain inserts")
    started, cpu = time.perf_counter(), time.process_time()
    for stored in by_mrn.values():
        audit = stored.get("audit", [])
        for n, step in enumerate(steps):
            with empty.transaction() as s:
                for model, name in step:
                    insert_many(s, model, stored.get(name, []))
                insert_many(s, AuditEvent, audit[n : n + 1])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    empty.close()
    return elapsed, cpu


def sequences(directory: Path, count: int) -> dict[str, Any]:
    nodes = {c: open_node(directory, c) for c in ROAD}
    gateway = Gateway(nodes)
    publish_tariffs(gateway)
    th, my, sg = nodes["TH"], nodes["MY"], nodes["SG"]
    grn = guarantee(th, "1e12")
    say(f"sequence: {count} movements TH -> MY -> SG, seven signed documents each")
    walls, before = [], gateway.messages
    for n in range(count):
        with th.transaction() as s:
            mrn = transit.declare(s, OFFICER, MovementCreate.model_validate(body(grn, n)),
                                  context(th)).mrn  # fmt: skip
        started = time.perf_counter()
        with th.transaction() as s:
            transit.decide_release(s, OFFICER, mrn, RELEASE, context(th))
        for country in ("MY", "SG"):
            gateway.deliver("TH", country)
        with my.transaction() as s:
            offices.cross(s, OFFICER, mrn, "MYBKH", context(my))
        gateway.deliver("MY", "TH")
        with sg.transaction() as s:
            offices.arrive(s, OFFICER, mrn, "SGSIN", context(sg))
        gateway.deliver("SG", "TH")
        with sg.transaction() as s:
            offices.unload(s, OFFICER, mrn, Unloading(seals_intact=True), context(sg))
        gateway.deliver("SG", "TH")
        for country in ("MY", "SG"):
            gateway.deliver("TH", country)
        walls.append(time.perf_counter() - started)
        with th.transaction() as s:
            assert transit.get(s, OFFICER, mrn).status == "discharged"
        with sg.transaction() as s:
            assert transit.get(s, OFFICER, mrn).status == "discharged"
    for node in nodes.values():
        node.close()
    return summary(walls) | {"documents_per_movement": (gateway.messages - before) / count}


def summary(walls: list[float]) -> dict[str, Any]:
    ordered = sorted(walls)
    return {
        "runs": len(walls),
        "median_ms": round(statistics.median(walls) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


# ---- three served processes ----


def served(directory: Path, count: int) -> dict[str, Any]:
    created = federation.init(directory, list(ROAD), base_port=free_port())
    ca = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    stations: dict[str, Station] = {}
    for m in created:  # init's consecutive ports may be taken
        m.config["port"] = free_port()
    for m in created:
        for country, partner in m.config["partners"].items():
            port = next(x.config["port"] for x in created if x.country == country)
            partner["endpoint"] = f"https://127.0.0.1:{port}"
        federation._write_json(m.config_file, m.config)
        node = Node.open(load(m.config_file))
        load_tariff(node)
        with node.transaction() as s:
            token = auth.create_user(s, "officer1", Role.OFFICER, None)
            service.sync_partners(s, node.settings.partners, now=node.clock.now())
            if m.country != "TH":  # sent by its worker once it serves
                publish(s, PUBLISHER, home=Home.of(node.settings), to=["TH"], now=node.clock.now())
        url = f"https://127.0.0.1:{m.config['port']}"
        process = subprocess.Popen(
            [str(BIN / "onewindow"), "serve", "--config", str(m.config_file)],
            env=os.environ | FAST, stdout=subprocess.DEVNULL,
            stderr=(m.directory / "serve.log").open("ab"),
        )  # fmt: skip
        client = httpx.Client(base_url=url + "/api/v1/transit", verify=ca, timeout=60,
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        stations[m.country] = Station(node, process, client)
    try:
        for station in stations.values():
            station.wait_up()
        th = stations["TH"]
        wait(lambda: th.count("SELECT count(*) FROM tariff_partner_versions") == 2)
        answer = th.client.put(f"/traders/{HOLDER['holder_id']}",
                               json={"name": HOLDER["holder_name"]})  # fmt: skip
        assert answer.status_code == 200, answer.text
        grn = th.post("/guarantees", HOLDER | {"kind": "comprehensive", "currency": "THB",
                      "amount": "1e12", "valid_until": "2030-06-30"})["grn"]  # fmt: skip
        idle = idle_cpu(list(stations.values()))
        say(f"served: {count} movements TH -> MY -> SG over three processes")
        walls = [route(stations, grn, 10_000_000 + n) for n in range(count)]
        return summary(walls) | {"idle_cpu_percent": idle}
    finally:
        for station in stations.values():
            station.close()
        for station in stations.values():
            station.process.wait(60)


def route(stations: dict[str, Station], grn: str, n: int) -> float:
    """One movement's sequence over the served nodes: seconds from release to the last
    record applied."""
    th, my, sg = stations["TH"], stations["MY"], stations["SG"]
    mrn = th.post("/movements", body(grn, n))["mrn"]
    started = time.perf_counter()
    th.post(f"/movements/{mrn}/release", RELEASE.model_dump(exclude_none=True))
    wait(lambda: my.has(mrn) and sg.has(mrn))
    my.post(f"/movements/{mrn}/crossing", {"office": "MYBKH"})
    wait(lambda: th.has(mrn, "IE118"))
    sg.post(f"/movements/{mrn}/arrival", {"office": "SGSIN"})
    wait(lambda: th.has(mrn, "IE006"))
    sg.post(f"/movements/{mrn}/unloading", {"seals_intact": True})
    wait(lambda: my.has(mrn, "IE045") and sg.has(mrn, "IE045"))
    return time.perf_counter() - started


# Retries soon, should a node be slow to come up; the poll interval is the node's own.
FAST = {"ONEWINDOW_EXCHANGE_RETRY_BASE": "0.1", "ONEWINDOW_EXCHANGE_RETRY_CAP": "0.5"}


class Station:
    def __init__(self, node: Node, process: subprocess.Popen[bytes], client: httpx.Client) -> None:
        self.node, self.process, self.client = node, process, client

    def wait_up(self) -> None:
        def up() -> bool:
            assert self.process.poll() is None, "a node exited: see its serve.log"
            try:
                health = self.client.get(self.client.base_url.join("/api/v1/health"))
                return health.status_code == 200
            except httpx.TransportError:
                return False

        wait(up, every=0.1)

    def post(self, path: str, data: dict[str, Any]) -> Any:
        answer = self.client.post(path, json=data)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def count(self, sql: str, **params: Any) -> int:
        with self.node.transaction() as s:
            return int(s.execute(text(sql), params).scalar_one())

    def has(self, mrn: str, kind: str | None = None) -> bool:
        """This node holds the movement (with an event of `kind`), read in its database."""
        sql = "SELECT count(*) FROM transit_movements m WHERE m.mrn = :mrn"
        if kind:
            sql = ("SELECT count(*) FROM transit_events e JOIN transit_movements m "
                   "ON e.movement_id = m.id WHERE m.mrn = :mrn AND e.kind = :kind")  # fmt: skip
        return self.count(sql, mrn=mrn, kind=kind) > 0

    def close(self) -> None:
        self.client.close()
        self.node.close()
        self.process.terminate()


def idle_cpu(stations: list[Station], seconds: float = 2.0) -> float | None:
    """The CPU the served processes used together while nothing was asked of them, in % of
    one core (Linux /proc; None elsewhere)."""

    def used() -> float:
        total = 0
        for station in stations:
            fields = Path(f"/proc/{station.process.pid}/stat").read_text().rsplit(")", 1)[1]
            utime, stime = fields.split()[11:13]
            total += int(utime) + int(stime)
        return total / os.sysconf("SC_CLK_TCK")

    try:
        before = used()
        time.sleep(seconds)
        return round(100 * (used() - before) / seconds, 1)
    except (OSError, ValueError):
        return None


def wait(check: Callable[[], bool], every: float = 0.005, bound: float = 120) -> None:
    deadline = time.monotonic() + bound
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out: see the nodes' serve.log")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=2000)
    parser.add_argument("--sequences", type=int, default=30)
    parser.add_argument("--served", type=int, default=10)
    args = parser.parse_args()
    domains.install()
    root = Path(tempfile.mkdtemp(prefix="ow-transit-"))
    (root / "baseline").mkdir()
    (root / "sequence").mkdir()
    result: dict[str, Any] = {"departure": departure(root, args.movements)}
    result["sequence_in_process"] = sequences(root / "sequence", args.sequences)
    if args.served:
        result["sequence_served"] = served(root / "served", args.served)
    result["machine"] = f"{platform.machine()} python {platform.python_version()}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
