"""The demo's ACTS transit scenario, on the federation's TH, MY and SG nodes: MY and SG publish
their tariffs to TH; a truck under two e-seals goes from an authorised consignor's warehouse
at Laem Chabang through Bukit Kayu Hitam to an authorised consignee's depot in Singapore and
is written off, its guarantee reserved and given back; a second one
takes a detour, opens a door and arrives short, and its alerts are shown; a third, released
nine days ago (the demo dates it back), never arrives and goes to enquiry. Rates and tariffs
are SAMPLE FIGURES."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

from rich.table import Table

from onewindow import seals
from onewindow.kit.auth import Principal, Role
from onewindow.kit.cli import console
from onewindow.kit.clock import FixedClock
from onewindow.kit.errors import InvalidInput, NotFound
from onewindow.kit.node import Node
from onewindow.seals.intake import Source
from onewindow.seals.schemas import EventIn
from onewindow.tariff import Home, import_rates, import_schedule, publish, schedule_in_force
from onewindow.transit import alerts, enquiry, offices, service, traders
from onewindow.transit.context import context
from onewindow.transit.schemas import (
    GuaranteeCreate,
    MovementCreate,
    Premises,
    Release,
    TraderWrite,
    Unloading,
)

DATA = resources.files("onewindow") / "data"
OFFICER = Principal("demo-officer", Role.OFFICER)
ADMIN = Principal("demo-admin", Role.ADMINISTRATOR)
HOLDER = ("0105551234567", "Siam Devices Co., Ltd.")
WAREHOUSE = Premises(code="TH-LCB-WH01", address="99 Moo 3, Laem Chabang, Chonburi")
CONSIGNEE = Principal("lion-city", Role.TRADER, "201912345K")
DEPOT = Premises(code="SG-JUR-D7", address="7 Pioneer Road, Jurong")
# Official rates of each node, per unit of each currency (SAMPLE FIGURES).
RATES = {
    "TH": {"USD": "35.5", "MYR": "7.9", "SGD": "26.4"},
    "MY": {"USD": "4.45", "THB": "0.125", "SGD": "3.35"},
    "SG": {"USD": "1.34", "THB": "0.038", "MYR": "0.30"},
}
# Laem Chabang, Bangkok, Hat Yai, Bukit Kayu Hitam, Kuala Lumpur, Johor, Singapore [lon, lat].
ROUTE = [[100.88, 13.08], [100.50, 13.75], [99.95, 11.80], [99.20, 9.10], [100.47, 7.00],
         [100.42, 6.50], [101.70, 3.10], [103.76, 1.46], [103.85, 1.29]]  # fmt: skip
MONITORING: dict[str, Any] = {
    "route": {"type": "LineString", "coordinates": ROUTE},
    "corridor_m": 8000, "max_stop_minutes": 180, "max_silence_minutes": 60,
    "stops": [{"name": "Bukit Kayu Hitam", "lat": 6.50, "lon": 100.42, "radius_m": 2000}],
    "destination": {"office": "SGSIN", "lat": 1.29, "lon": 103.85, "radius_m": 5000},
}  # fmt: skip


def _movement(grn: str, seals_: list[str], monitored: bool, premises: bool) -> MovementCreate:
    body: dict[str, Any] = {
        "holder_id": HOLDER[0], "holder_name": HOLDER[1], "departure_office": "THLCH",
        "transit_offices": ["MYBKH"], "destination_office": "SGSIN", "grn": grn,
        "seals": seals_,
        "items": [{"hs_code": "85171300", "description": "Smartphones", "quantity": "800",
                   "unit": "PCE", "gross_mass_kg": "320", "customs_value": "120000",
                   "currency": "USD"}],
    }  # fmt: skip
    if monitored:
        body["monitoring"] = MONITORING
    if premises:  # from the consignor's warehouse to the consignee's depot
        body["departure_premises"] = WAREHOUSE.code
        body["consignee"] = {"id": CONSIGNEE.party_id, "name": "Lion City Distribution Pte Ltd",
                             "premises": DEPOT.code}  # fmt: skip
    return MovementCreate.model_validate(body)


def tariffs(nodes: dict[str, Node], wait: Callable[[str, Callable[[], bool]], None]) -> None:
    """Each node's schedule and rates; MY and SG publish theirs to TH."""
    for country in ("TH", "MY", "SG"):
        node = nodes[country]
        rates = "".join(f"{c},{r},2026-01-01\n" for c, r in RATES[country].items())
        with node.transaction() as s:
            import_schedule(s, (DATA / "sample_tariff.csv").read_text())
            import_rates(s, "currency,rate,valid_from\n" + rates)
    for country in ("MY", "SG"):
        node = nodes[country]
        with node.transaction() as s:
            version = publish(s, ADMIN, home=Home.of(node.settings), to=["TH"],
                              now=node.clock.now()).version  # fmt: skip
        console.print(f"{country}  published its tariff (version {version}) to TH")
    th = nodes["TH"]

    def published(country: str) -> Callable[[], bool]:
        def check() -> bool:
            with th.transaction() as s:
                try:
                    schedule_in_force(s, country, th.clock.now().date())
                except InvalidInput:
                    return False
                return True

        return check

    for country in ("MY", "SG"):
        wait(f"TH holds {country}'s published tariff", published(country))


def transit_flow(nodes: dict[str, Node], wait: Callable[[str, Callable[[], bool]], None]) -> None:
    th, my, sg = nodes["TH"], nodes["MY"], nodes["SG"]
    tariffs(nodes, wait)
    now = th.clock.now()
    guarantee = GuaranteeCreate(
        kind="comprehensive", holder_id=HOLDER[0], holder_name=HOLDER[1], currency="THB",
        amount=Decimal("3000000"), valid_until=(now + timedelta(days=365)).date(),
    )  # fmt: skip
    # Seal numbers of this run (a demo run again on the same folder registers new ones).
    tag = f"{now:%H%M%S}"
    seal = [f"TH{tag}-{n}" for n in range(1, 6)]
    with th.transaction() as s:
        holder = TraderWrite(name=HOLDER[1], consignor=True, premises=[WAREHOUSE])
        traders.register(s, OFFICER, HOLDER[0], holder, th.clock)
        grn = service.register_guarantee(s, OFFICER, guarantee, context(th)).grn
        for each in seal:
            seals.add_device(s, each, platform=None, now=now, actor="demo")
    with sg.transaction() as s:
        receiver = TraderWrite(name="Lion City Distribution Pte Ltd", consignee=True,
                               premises=[DEPOT])  # fmt: skip
        traders.register(s, OFFICER, CONSIGNEE.party_id or "", receiver, sg.clock)
    console.print(f"TH  {HOLDER[1]} registered for ACTS, authorised consignor at {WAREHOUSE.code}; "
                  f"guarantee {grn} of 3,000,000 THB")  # fmt: skip
    console.print(f"SG  Lion City Distribution authorised consignee at {DEPOT.code}")

    # 1. From the consignor's warehouse to the consignee's depot, written off.
    first = _declare_and_release(th, grn, seal[0:2], True, "first", premises=True)
    wait(f"MY and SG hold the record of {first}", _known(first, my, sg))
    with my.transaction() as s:
        offices.cross(s, OFFICER, first, "MYBKH", context(my))
    console.print(f"MY  {first} crossed the frontier at Bukit Kayu Hitam (IE118 to TH)")
    with sg.transaction() as s:
        offices.arrive(s, CONSIGNEE, first, "SGSIN", context(sg))
        offices.unload(s, CONSIGNEE, first, Unloading(seals_intact=True), context(sg))
    console.print(f"SG  {first} arrived at the consignee's depot, which unloaded it, seals "
                  "intact (IE006, IE018 to TH)")  # fmt: skip
    wait(f"TH wrote off {first} and gave its guarantee back", _status(th, first, "discharged"))

    # 2. A detour and an opened door.
    second = _declare_and_release(th, grn, seal[2:4], True, "second")
    at = th.clock.now()
    events = [
        {"device": seal[2], "id": 1, "kind": "position", "lat": 13.75, "lon": 100.50,
         "at": at - timedelta(minutes=50)},
        {"device": seal[2], "id": 2, "kind": "position", "lat": 14.97, "lon": 102.10,
         "at": at - timedelta(minutes=20)},
        {"device": seal[2], "id": 3, "kind": "door_open", "lat": 14.97, "lon": 102.10,
         "at": at - timedelta(minutes=15)},
    ]  # fmt: skip
    with th.transaction() as s:
        batch = [EventIn.model_validate(e) for e in events]
        seals.ingest(s, batch, source=Source(device=seal[2]), now=at)
        found = seals.alerts(s, reference=second)
    table = Table("alert", "at", "where", "detail", title=f"TH  e-seal alerts on {second}")
    for a in found:
        table.add_row(a.kind, a.at.strftime("%H:%M"), f"{a.lat}, {a.lon}", a.detail)
    console.print(table)
    with th.transaction() as s:  # as `onewindow serve` does every few seconds
        alerts.forward(s, context(th))
    wait(f"MY holds the alerts on {second}, for its office at Bukit Kayu Hitam",
         _alerted(my, second, len(found)))  # fmt: skip
    wait(f"SG holds the record of {second}", _known(second, sg))
    broken = Unloading(seals_intact=False, discrepancies="door seal broken, 40 cartons missing")
    with sg.transaction() as s:
        offices.arrive(s, OFFICER, second, "SGSIN", context(sg))
        offices.unload(s, OFFICER, second, broken, context(sg))
    console.print(f"SG  {second} arrived: door seal broken, 40 cartons missing (IE018 to TH)")
    wait(f"TH holds {second} for an officer: control results with remarks, guarantee kept",
         _status(th, second, "discrepancies"))  # fmt: skip

    # 3. Released nine days ago (the demo dates its release back), never arrived: enquiry.
    ctx = context(th)
    back = replace(ctx, clock=FixedClock(now - timedelta(days=9)))
    third = _declare_and_release(th, grn, seal[4:5], False, "third", back)
    with th.transaction() as s:
        started = enquiry.overdue(s, ctx)
    for mrn in started:
        console.print(f"TH  {mrn} has not arrived by its time limit: under enquiry (the "
                      "holder and SG are asked)")  # fmt: skip
    wait(f"SG knows {third} is under enquiry", _status(sg, third, "enquiry"))
    with th.transaction() as s:
        g = service.read_guarantee(s, service.guarantee(s, OFFICER, grn))
    console.print(f"TH  guarantee {grn}: {g.balance:,} of {g.amount:,} THB left "
                  "(the second and third movements hold their share)")  # fmt: skip


def _declare_and_release(
    th: Node, grn: str, seals_: list[str], monitored: bool, which: str,
    released: service.Context | None = None, premises: bool = False,
) -> str:  # fmt: skip
    """Declared today; released today, or on `released`'s clock: by an officer, or at once
    from the authorised consignor's `premises` when no control is selected."""
    ctx = context(th)
    with th.transaction() as s:
        data = _movement(grn, seals_, monitored, premises)
        movement = service.declare(s, OFFICER, data, ctx)
        mrn, lane, status = movement.mrn, movement.lane, movement.status
        held = service.reservation(s, mrn)
    if status != service.RELEASED:  # the random picks of the lanes may select it
        control = None if lane == "green" else "seals and documents checked, in order"
        with th.transaction() as s:
            decision = Release(decision="release", control=control)
            service.decide_release(s, OFFICER, mrn, decision, released or ctx)
    amount = f"{held.amount:,} THB" if held else "-"
    watched = " (e-seals watched)" if monitored else ""
    by = " at the consignor's warehouse" if status == service.RELEASED else ""
    console.print(f"TH  {which} movement [bold]{mrn}[/] ({lane} lane) released{by}, THLCH → "
                  f"MYBKH → SGSIN, guarantee holds {amount}{watched}")  # fmt: skip
    return mrn


def _found(node: Node, mrn: str) -> str | None:
    """The movement's status at `node`, None while it knows nothing of it."""
    with node.transaction() as s:
        try:
            return service.get(s, OFFICER, mrn).status
        except NotFound:
            return None


def _known(mrn: str, *nodes: Node) -> Callable[[], bool]:
    return lambda: all(_found(node, mrn) is not None for node in nodes)


def _alerted(node: Node, mrn: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        with node.transaction() as s:
            return len(alerts.received(s, mrn, node.settings.country)) >= count

    return check


def _status(node: Node, mrn: str, status: str) -> Callable[[], bool]:
    return lambda: _found(node, mrn) == status
