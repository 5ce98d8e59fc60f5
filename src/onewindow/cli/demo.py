"""`onewindow demo`: a node on SQLite with sample data, a day of declarations, then the API."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date
from decimal import Decimal
from importlib import resources

import typer
from rich.table import Table

from onewindow import auth
from onewindow.auth import Principal, Role
from onewindow.cli.output import console
from onewindow.cli.serve import serve
from onewindow.declarations import service, to_read
from onewindow.declarations.generator import declaration
from onewindow.declarations.schemas import DocumentCheck, InspectionFindings, Payment
from onewindow.node import Node
from onewindow.origin import CertificateCreate, get_certificate, record_certificate
from onewindow.risk import create_profile, list_profiles
from onewindow.tariff import import_rates, import_schedule

DATA = resources.files("onewindow") / "data"
OFFICER = Principal("demo-officer", Role.OFFICER)


def _setup(node: Node) -> dict[str, str]:
    tokens = {}
    with node.transaction() as s:
        import_schedule(s, (DATA / "sample_tariff.csv").read_text())
        import_rates(s, (DATA / "sample_rates.csv").read_text())
        cert = CertificateCreate.model_validate_json((DATA / "sample_certificate.json").read_text())
        if get_certificate(s, cert.reference) is None:
            record_certificate(s, cert, node.clock.now())
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
        existing = {u.username for u in auth.list_users(s)}
        for name, role, party in (
            ("trader", Role.TRADER, "0101234567"),
            ("officer", Role.OFFICER, None),
        ):
            if name not in existing:
                tokens[name] = auth.create_user(s, name, role, party)
    return tokens


def demo(
    count: int = typer.Option(200, help="Declarations to lodge in the scenario"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Keep serving the API"),
    seed: int = 2026,
) -> None:
    """Set up this node (sample tariff, rates, a certificate, risk profiles, users), lodge a
    batch of declarations, clear them through the officer workflow, and serve the API."""
    node = Node.open()
    console.rule(f"OneWindow demo: node {node.settings.country}, {node.engine.url}")
    tokens = _setup(node)
    console.print(
        "sample tariff (SAMPLE FIGURES, not a real schedule), rates, certificate "
        "TH-2026-000123 and two risk profiles loaded"
    )

    rng = random.Random(seed)
    arrival = date(2026, 11, 20)
    docs = [declaration(rng, arrival) for _ in range(count)]
    readme = json.loads((DATA / "sample_declaration.json").read_text())
    with node.transaction() as s:
        numbers = service.lodge(s, auth.SYSTEM, [readme, *docs], node.context)
    first = numbers[0]
    with node.transaction() as s:
        d = to_read(service.get(s, auth.SYSTEM, first))
    item = d.items[0]
    verdict = "granted" if item.preference_granted else "refused"
    console.print(
        f"\nThe README declaration {first}: channel {d.channel}; preference {verdict} "
        f"({item.preference_reason}); import duty {d.totals['import_duty']:,} VND "
        f"at {item.taxes[0].rate_kind} {item.taxes[0].rate} %, "
        f"VAT {d.totals['vat']:,} VND"
    )

    with console.status("officers check, inspect; traders pay; goods released"):
        for number in numbers:
            with node.transaction() as s:
                decl = service.get(s, auth.SYSTEM, number, lock=True)
                ctx = node.context
                if decl.status == "document_check":
                    service.document_check(
                        s, OFFICER, number, DocumentCheck(decision="accept"), ctx
                    )
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
        channels = Counter(d.channel for d in decls)
        statuses = Counter(d.status for d in decls)
        duty = sum((d.total_duty for d in decls), Decimal(0))
        vat = sum((d.total_vat for d in decls), Decimal(0))
    table = Table(
        "lodged",
        "green",
        "yellow",
        "red",
        "released",
        "import duty VND",
        "VAT VND",
        title="What happened",
    )
    table.add_row(
        str(len(numbers)),
        str(channels["green"]),
        str(channels["yellow"]),
        str(channels["red"]),
        str(statuses["released"]),
        f"{duty:,.0f}",
        f"{vat:,.0f}",
    )
    console.print(table)
    console.print("see any of them:  .venv/bin/onewindow declaration show " + first)
    console.print("clearance times:  .venv/bin/onewindow declaration clearance")
    for name, token in tokens.items():
        console.print(f"API token for demo user [bold]{name}[/]: {token}", highlight=False)
    if serve_after:
        serve(host=None, port=None, workers=1)
