"""`onewindow demo`: a federation of four nodes (TH, VN, SG, MY) on SQLite, each a process of
its own, and a scenario across them: a Form D issued in Thailand is used by a Vietnamese
import declaration at the ATIGA rate and reported back as utilised; a Vietnamese export sends
its ACDD to Singapore; a day of declarations is cleared at the VN node; ACTS transit from
Thailand through Malaysia to Singapore (cli/demo_transit.py). Each node has a demo
user of every role, and the demo prints their portal sign-ins (one fixed demo password). Then
the nodes keep serving until Ctrl-C."""

from __future__ import annotations

import json
import random
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.table import Table
from sqlalchemy import func, select

from onewindow.cli.demo_transit import transit_flow
from onewindow.declarations import service, to_read
from onewindow.declarations.context import context
from onewindow.declarations.generator import declaration
from onewindow.declarations.models import PreArrival
from onewindow.declarations.schemas import DocumentCheck, InspectionFindings, Payment
from onewindow.exchange import federation
from onewindow.exchange.models import IncomingMessage, OutgoingMessage
from onewindow.kit import auth
from onewindow.kit.auth import Principal, Role
from onewindow.kit.cli import console, fail
from onewindow.kit.config import load
from onewindow.kit.node import Node
from onewindow.ledger import head
from onewindow.origin import get_certificate, issuing
from onewindow.portal import set_password
from onewindow.risk import create_profile, list_profiles
from onewindow.tariff import import_rates, import_schedule

DATA = resources.files("onewindow") / "data"
COUNTRIES = ("TH", "VN", "SG", "MY")
OFFICER = Principal("demo-officer", Role.OFFICER)
AUTHORITY = Principal("demo-moc", Role.ISSUING_AUTHORITY)
EXPORTER = Principal("siam-devices", Role.TRADER, "0105551234567")
# The portals' sign-in of every demo user. Fixed, printed, and for these demo nodes only.
DEMO_PASSWORD = "onewindow-demo"
_STAFF: list[tuple[str, Role, str | None]] = [
    ("officer", Role.OFFICER, None),
    ("supervisor", Role.SUPERVISOR, None),
    ("admin", Role.ADMINISTRATOR, None),
    ("analyst", Role.ANALYST, None),
]
# A user of every role on each node: (username, role, party id of a trader).
USERS: dict[str, list[tuple[str, Role, str | None]]] = {
    "TH": [("siam", Role.TRADER, "0105551234567"), ("moc", Role.ISSUING_AUTHORITY, None), *_STAFF],
    "VN": [("trader", Role.TRADER, "0101234567"), ("moit", Role.ISSUING_AUTHORITY, None), *_STAFF],
    "SG": [("lioncity", Role.TRADER, "201912345K"), ("mti", Role.ISSUING_AUTHORITY, None), *_STAFF],
    "MY": [
        ("klfreight", Role.TRADER, "201901000123"),
        ("miti", Role.ISSUING_AUTHORITY, None),
        *_STAFF,
    ],
}


def _setup(nodes: dict[str, Node]) -> dict[str, str]:
    """Sample data (SAMPLE FIGURES, not a real schedule) and the demo users with their portal
    password; API tokens for the users made now."""
    tokens: dict[str, str] = {}
    for country, node in nodes.items():
        with node.transaction() as s:
            existing = {u.username for u in auth.list_users(s)}
            now = node.clock.now()
            for name, role, party in USERS[country]:
                if name not in existing:
                    tokens[f"{country} {name}"] = auth.create_user(s, name, role, party)
                set_password(s, name, DEMO_PASSWORD, now, actor="demo")
    with nodes["VN"].transaction() as s:
        import_schedule(s, (DATA / "sample_tariff.csv").read_text())
        import_rates(s, (DATA / "sample_rates.csv").read_text())
        if not list_profiles(s):
            create_profile(
                s,
                name="tyres-undervalued",
                lane="red",
                hs_prefix="4011",
                max_value_per_kg=Decimal(100000),
                reason="tyres declared below 100,000 VND/kg",
            )
            create_profile(
                s,
                name="beer-sg",
                lane="yellow",
                hs_prefix="2203",
                origin="SG",
                reason="excise goods: check the papers",
            )
    return tokens


def _start(directory: Path) -> dict[str, subprocess.Popen[bytes]]:
    onewindow = Path(sys.executable).parent / "onewindow"
    processes = {}
    for country in COUNTRIES:
        log = (directory / country / "serve.log").open("ab")
        config = directory / country / "node.json"
        processes[country] = subprocess.Popen(
            [str(onewindow), "serve", "--config", str(config)], stdout=log, stderr=log
        )
    return processes


def _wait(what: str, ready: Callable[[], bool], seconds: float = 180) -> None:
    # Generous: on a loaded machine a node takes a minute to start, and that is not a failure.
    with console.status(what):
        deadline = time.monotonic() + seconds
        while not ready():
            if time.monotonic() > deadline:
                fail(f"timed out: {what}", code=1)
            time.sleep(0.2)
    console.print(f"[green]✓[/] {what}")


def _up(url: str, verify: ssl.SSLContext | bool) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=1, verify=verify).status_code == 200
    except httpx.TransportError:
        return False


def _up_check(url: str, verify: ssl.SSLContext | bool) -> Callable[[], bool]:
    return lambda: _up(url, verify)


def _form_d_flow(nodes: dict[str, Node]) -> str:
    th, vn = nodes["TH"], nodes["VN"]
    today = th.clock.now().date()
    application = json.loads((DATA / "sample_form_d_application.json").read_text())
    application["transport"]["departure_date"] = str(today - timedelta(days=1))
    application["items"][0]["invoice"]["date"] = str(today - timedelta(days=3))
    application["declaration"]["date"] = str(today - timedelta(days=2))
    s_ = th.settings
    with th.transaction() as s:
        cert = issuing.issue(
            s,
            AUTHORITY,
            application,
            issuer=issuing.Issuer.of(s_),
            now=th.clock.now(),
        )
        reference = cert.reference
    console.print(
        f"TH  issuing authority issued Form D [bold]{reference}[/] (logged in TH's ledger)"
    )
    with th.transaction() as s:
        issuing.transmit(s, EXPORTER, reference, now=th.clock.now())
    console.print(f"TH  exporter authorised transmission of {reference} to VN")

    def received() -> bool:
        with vn.transaction() as s:
            return get_certificate(s, reference) is not None

    _wait(f"VN received {reference} (signed envelope, signed receipt)", received)
    document = json.loads((DATA / "sample_declaration.json").read_text())
    document["items"][0]["preference"]["certificate"] = reference
    document["transport"]["arrival_date"] = str(today)
    document["invoice"]["date"] = str(today - timedelta(days=3))
    with vn.transaction() as s:
        number = service.lodge(s, auth.SYSTEM, [document], context(vn))[0]
        d = to_read(service.get(s, auth.SYSTEM, number), auth.SYSTEM)
    item = d.items[0]
    console.print(
        f"VN  import {number} claims {reference}: preference "
        f"{'granted' if item.preference_granted else 'refused'} ({item.preference_reason});"
        f" duty {item.taxes[0].rate_kind} {item.taxes[0].rate} % = "
        f"{d.totals['import_duty']:,} VND, VAT {d.totals['vat']:,} VND"
    )

    def utilised() -> bool:
        with th.transaction() as s:
            return issuing.issued(s, reference).status == "utilised"

    _wait(f"TH shows {reference} as utilised (status notice from VN)", utilised)
    return number


def _acdd_flow(nodes: dict[str, Node]) -> str:
    vn, sg = nodes["VN"], nodes["SG"]
    document = json.loads((DATA / "sample_declaration.json").read_text())
    del document["items"][0]["preference"]
    document |= {
        "type": "EX",
        "country_of_export": "VN",
        "country_of_destination": "SG",
        "exporter": {"id": "0101234567", "name": "Saigon Logistics JSC", "country": "VN"},
        "importer": {
            "name": "Lion City Trading Pte",
            "address": "1 Raffles Place",
            "country": "SG",
        },
        "transport": {
            "mode": "1",
            "departure_date": str(vn.clock.now().date()),
            "port_of_loading": "VNHPH",
            "port_of_discharge": "SGSIN",
        },
    }
    document["items"][0]["origin"] = "VN"
    with vn.transaction() as s:
        number = service.lodge(s, auth.SYSTEM, [document], context(vn))[0]
        status = service.get(s, auth.SYSTEM, number).status
    console.print(f"VN  export {number} to SG: {status}; its ACDD is queued for SG")

    def arrived() -> bool:
        with sg.transaction() as s:
            found = select(func.count()).select_from(PreArrival)
            return bool(s.scalar(found.where(PreArrival.export_declaration == number)))

    _wait(f"SG holds the ACDD of {number} as pre-arrival information", arrived)
    return number


def _clear_a_day(node: Node, count: int, seed: int) -> None:
    rng = random.Random(seed)
    today = node.clock.now().date()
    docs = [declaration(rng, today) for _ in range(count)]
    with node.transaction() as s:
        numbers = service.lodge(s, auth.SYSTEM, docs, context(node))
    for number in numbers:
        with node.transaction() as s:
            decl = service.get(s, auth.SYSTEM, number, lock=True)
            ctx = context(node)
            if decl.status == "document_check":
                service.document_check(s, OFFICER, number, DocumentCheck(decision="accept"), ctx)
            elif decl.status == "inspection":
                result = "irregularity" if rng.random() < 0.3 else "compliant"
                service.record_inspection(
                    s, OFFICER, number, InspectionFindings(result=result), ctx
                )
            if decl.status == "awaiting_payment":
                pay = Payment(method="paid", reference=f"BANK-{number}", amount=decl.total_due)
                service.pay(s, auth.SYSTEM, number, pay, ctx)
            if decl.status == "paid":
                service.release(s, OFFICER, number, ctx)
    with node.transaction() as s:
        decls = [service.get(s, auth.SYSTEM, n) for n in numbers]
    lanes = Counter(d.channel for d in decls)
    released = sum(d.status == "released" for d in decls)
    console.print(
        f"VN  cleared a day: {len(decls)} declarations lodged (green {lanes['green']}, "
        f"yellow {lanes['yellow']}, red {lanes['red']}), {released} released"
    )


def _report(nodes: dict[str, Node]) -> None:
    table = Table(
        "node", "direction", "document", "partner", "status", "count", title="Messages at each node"
    )
    for country, node in nodes.items():
        with node.transaction() as s:
            rows: list[Any] = [
                ("out", *r)
                for r in s.execute(
                    select(
                        OutgoingMessage.document_type,
                        OutgoingMessage.receiver,
                        OutgoingMessage.status,
                        func.count(),
                    ).group_by(
                        OutgoingMessage.document_type,
                        OutgoingMessage.receiver,
                        OutgoingMessage.status,
                    )
                )
            ]
            rows += [
                ("in", *r)
                for r in s.execute(
                    select(
                        IncomingMessage.document_type,
                        IncomingMessage.sender,
                        IncomingMessage.status,
                        func.count(),
                    ).group_by(
                        IncomingMessage.document_type,
                        IncomingMessage.sender,
                        IncomingMessage.status,
                    )
                )
            ]
            size = head(s).tree_size
        for direction, kind, partner, status, n in sorted(rows):
            table.add_row(country, direction, kind, partner, status, str(n))
        table.add_row(country, "ledger", f"{size} entries", "", "", "", end_section=True)
    console.print(table)


def _sign_ins(urls: dict[str, str], ca: Path | None) -> None:
    console.rule("Portals")
    console.print(
        f"Every demo user signs in with the password [bold]{DEMO_PASSWORD}[/]: a demo "
        "password, for these demo nodes only.",
        highlight=False,
    )
    if ca is not None:
        console.print(
            f"The portals use the nodes' TLS certificates: a browser trusts them once {ca} "
            "is added to its certificate authorities (else it warns).",
            highlight=False,
        )
    roles = list(Role)
    for country, url in urls.items():
        table = Table("username", "password", "role", "party", title=f"{country}: {url}/sign-in",
                      title_justify="left", highlight=False)  # fmt: skip
        for name, role, party in sorted(USERS[country], key=lambda u: roles.index(u[1])):
            table.add_row(name, DEMO_PASSWORD, role.value, party or "")
        console.print(table)


def demo(
    directory: Path = typer.Option(Path("var/federation"), "--dir", help="Federation folder"),
    count: int = typer.Option(200, help="Declarations in the day cleared at VN"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Keep the nodes serving"),
    base_port: int = typer.Option(8101, help="Port of the first node; the others follow"),
    seed: int = 2026,
) -> None:
    """Start a four-node federation (TH, VN, SG, MY) on SQLite and run a scenario across it."""
    if not (directory / "ca.pem").exists():
        federation.init(directory, COUNTRIES, base_port=base_port)
        console.print(
            f"created federation {', '.join(COUNTRIES)} in {directory}: a root CA, "
            "a signing key and certificate, a TLS key and certificate and a node.json per node"
        )
    elif "MY" not in {m.country for m in federation.members(directory)}:
        federation.add_node(directory, "MY", port=base_port + 3)  # a folder made before MY
        console.print(f"added MY to the federation in {directory}")
    settings = {c: load(directory / c / "node.json") for c in COUNTRIES}
    secure = all(s.tls_cert_file is not None for s in settings.values())
    if not secure:
        console.print(
            f"[yellow]warning:[/] {directory} has no TLS certificates (made before nodes "
            "talked mutual TLS): the nodes use plain HTTP on loopback. Remove it to start afresh."
        )
    nodes = {c: Node.open(settings[c]) for c in COUNTRIES}
    tokens = _setup(nodes)
    processes = _start(directory)
    scheme = "https" if secure else "http"
    urls = {c: f"{scheme}://{s.host}:{s.port}" for c, s in settings.items()}
    # The nodes' certificates are the federation's: trust its CA (a client certificate is
    # not needed for the API, only for the partner routes).
    verify = ssl.create_default_context(cafile=str(directory / "ca.pem")) if secure else True
    try:
        for country, url in urls.items():
            _wait(f"{country} node serving on {url} (mutual TLS: {secure})", _up_check(url, verify))
        console.rule("Scenario")
        _form_d_flow(nodes)
        _acdd_flow(nodes)
        _clear_a_day(nodes["VN"], count, seed)
        transit_flow(nodes, _wait)
        _report(nodes)
        _sign_ins(urls, directory / "ca.pem" if secure else None)
        if not serve_after:
            return
        console.rule("Serving")
        for country, url in urls.items():
            console.print(f"{country}: {url}/docs   (log: {directory / country / 'serve.log'})")
        if secure:
            console.print(
                f"The nodes' TLS certificates are issued by {directory / 'ca.pem'}: "
                f"e.g. curl --cacert {directory / 'ca.pem'} {urls['VN']}/api/v1/health"
            )
        for who, token in tokens.items():
            console.print(f"API token, {who}: {token}", highlight=False)
        console.print("Ctrl-C stops the four nodes.")
        for process in processes.values():
            process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:  # a loaded machine can take a while to stop four nodes: never leave one
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
