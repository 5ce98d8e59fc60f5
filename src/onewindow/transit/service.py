"""Transit at the office of departure: guarantees, the transit declaration (NCTS IE015), its
acceptance with an MRN (IE028) and its lane, the guarantee's reservation, and release for
transit (IE029) or no release (IE051).

Only a trader registered here for ACTS (transit.traders) holds a guarantee or a movement. Its
declaration gets a lane from the risk domain's rule profiles and random picks (the learned
model knows import declarations, not transit): green, released by an officer without a
control, or at once when an authorised consignor declares it at its premises; yellow or red,
released only with what the officer's control found.

The amount reserved is ACTS's: for each country of the itinerary, the import duties and taxes
that would be due there on the goods, at that country's rates in force on the day (the
partner's published tariff; this node's own), converted to the guarantee's currency at this
node's official rates; the highest of them. A movement whose amount exceeds what is left of
its guarantee is refused at lodging, and nothing of it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from onewindow import reference, seals
from onewindow.exchange import partner_active
from onewindow.kit import audit
from onewindow.kit.auth import Principal, Role
from onewindow.kit.clock import Clock
from onewindow.kit.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Text
from onewindow.kit.money import round_money
from onewindow.risk import Selectivity, Subject, SubjectItem, active_profiles, weighs_value
from onewindow.seals.schemas import TripCreate
from onewindow.tariff import Due, Goods, Home, convert, import_taxes_in
from onewindow.transit import itinerary, mrn, repository, traders
from onewindow.transit.models import (
    Guarantee,
    Movement,
    MovementEvent,
    Reservation,
    SealInUse,
)
from onewindow.transit.records import note_event, send_record
from onewindow.transit.schemas import (
    GuaranteeCreate,
    GuaranteeRead,
    MovementCreate,
    MovementRead,
    Release,
)

OFFICIALS = (Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR)
DECLARANTS = (Role.TRADER, *OFFICIALS)
ENTITY = "transit_movement"
# Statuses of a movement at its office of departure.
ACCEPTED, RELEASED, NOT_RELEASED = "accepted", "released", "not_released"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Context:
    """What transit needs of the node: its country and currency, its clock, the days a
    movement is given by default to reach its destination, the days an enquiry runs, and the
    node's lane selection (None: every declaration green)."""

    country: str
    currency: str
    clock: Clock
    transit_days: int = 8
    enquiry_days: int = 28
    selectivity: Selectivity | None = None


# -- guarantees ------------------------------------------------------------------------------


def register_guarantee(
    session: Session, actor: Principal, data: GuaranteeCreate, ctx: Context
) -> Guarantee:
    actor.require(*OFFICIALS)
    now = ctx.clock.now()
    traders.registered(session, data.holder_id, "holder_id")
    if data.valid_until < now.date():
        raise InvalidInput([FieldError("valid_until", "expired", Text("is in the past"))])
    guarantee = Guarantee(
        grn=_allocate(session, "guarantee", now.year, ctx.country, "G"),
        kind=data.kind, holder_id=data.holder_id, holder_name=data.holder_name,
        currency=data.currency, amount=round_money(data.amount, data.currency),
        valid_until=data.valid_until, status="valid", registered_at=now,
        registered_by=actor.name,
    )  # fmt: skip
    session.add(guarantee)
    session.flush()
    _audit(session, actor, now, "transit.guarantee_registered", "transit_guarantee", guarantee.grn)
    return guarantee


def guarantee(session: Session, actor: Principal, grn: str, lock: bool = False) -> Guarantee:
    found = session.scalar(
        repository.GUARANTEE_LOCKED if lock else repository.GUARANTEE, {"grn": grn}
    )
    if found is None or (actor.role is Role.TRADER and actor.party_id != found.holder_id):
        raise NotFound(Text("guarantee {grn} not found", grn=grn))
    return found


def balance(session: Session, g: Guarantee) -> Decimal:
    """What is left of the reference amount once the held reservations are taken off."""
    held = session.scalar(repository.HELD, {"guarantee_id": g.id})
    return round_money(g.amount - Decimal(held or 0), g.currency)


def read_guarantee(session: Session, g: Guarantee) -> GuaranteeRead:
    columns = {name: getattr(g, name) for name in GuaranteeRead.model_fields if name != "balance"}
    return GuaranteeRead(**columns, balance=balance(session, g))


# -- the transit declaration -----------------------------------------------------------------


def declare(session: Session, actor: Principal, data: MovementCreate, ctx: Context) -> Movement:
    """Accept a transit declaration at this node's office of departure: its MRN allocated, its
    lane chosen and its guarantee's reservation held, or an error and nothing stored. An
    authorised consignor's declaration at its premises in the green lane is released too."""
    actor.require(*DECLARANTS)
    if actor.role is Role.TRADER and actor.party_id != data.holder_id:
        raise Forbidden(Text("{name} may declare transit only as its holder", name=actor.name))
    now = ctx.clock.now()
    countries = _route(data, ctx.country)
    _check_holder(session, data)
    _check_office(session, data.departure_office, now.date())
    _check_partners(session, countries[1:])
    g = guarantee(session, actor, data.grn, lock=True)
    _check_guarantee(session, g, data, now.date())
    _check_seals(session, data.seals)
    home = Home(ctx.country, ctx.currency)
    exposure = _exposure(session, countries, data, g.currency, now.date(), home)
    amount = max(exposure.values())
    left = balance(session, g)
    if amount > left:
        raise Conflict(
            Text(
                "guarantee {grn} has {left} {currency} left; this movement needs {amount}",
                grn=g.grn, left=left, currency=g.currency, amount=amount,
            )
        )  # fmt: skip
    reference = _allocate(session, "movement", now.year, ctx.country, data.departure_office[2:])
    lane, reasons = _lane(session, data, ctx, home)
    movement = Movement(
        mrn=reference, role="departure", status=ACCEPTED, holder_id=data.holder_id,
        holder_name=data.holder_name, lane=lane, lane_reasons=reasons,
        consignee_id=data.consignee.id if data.consignee else None,
        departure_office=data.departure_office,
        destination_office=data.destination_office, transit_offices=data.transit_offices,
        countries=countries, grn=g.grn, seals=data.seals,
        document=data.model_dump(mode="json"), declared_at=now,
    )  # fmt: skip
    session.add(movement)
    session.add_all(SealInUse(seal=seal, mrn=reference) for seal in data.seals)
    session.add(
        Reservation(
            guarantee_id=g.id,
            mrn=reference,
            amount=amount,
            status="held",
            reserved_at=now,
            exposure={c: str(v) for c, v in exposure.items()},
        )
    )
    session.flush()
    _audit(session, actor, now, "transit.declared", ENTITY, reference, to_status=ACCEPTED)
    if data.departure_premises and lane == "green":
        _release(session, movement, actor, now, ctx.transit_days, {
            "at_premises": data.departure_premises,
            "by": "authorised consignor: no control selected",
        })  # fmt: skip
        _audit(session, actor, now, f"transit.{RELEASED}", ENTITY, reference, ACCEPTED, RELEASED)
    return movement


def decide_release(
    session: Session, actor: Principal, reference: str, data: Release, ctx: Context
) -> Movement:
    """Release for transit (the time limit set) or no release (the reservation given back)."""
    actor.require(*OFFICIALS)
    movement = get(session, actor, reference, lock=True)
    if movement.role != "departure" or movement.status != ACCEPTED:
        raise Conflict(
            Text(
                "movement {mrn} is {status}: only an accepted movement is released here",
                mrn=movement.mrn, status=movement.status,
            )
        )  # fmt: skip
    now = ctx.clock.now()
    before = movement.status
    if data.decision == "release":
        if movement.lane in ("yellow", "red") and not data.control:
            raise InvalidInput([FieldError(
                "control", "required",
                Text("the movement is in the {lane} lane: say what the control found",
                     lane=movement.lane),
            )])  # fmt: skip
        detail = {"control": data.control} if data.control else None
        _release(session, movement, actor, now, data.days or ctx.transit_days, detail)
    else:
        movement.status, movement.note = NOT_RELEASED, data.reason
        note_event(
            session, movement, "IE051", movement.departure_office, now, {"reason": data.reason}
        )
        close(session, movement.mrn, now)
    _audit(
        session, actor, now, f"transit.{movement.status}", ENTITY, movement.mrn,
        from_status=before, to_status=movement.status,
    )  # fmt: skip
    return movement


def cancel(
    session: Session, actor: Principal, reference: str, reason: str, ctx: Context
) -> Movement:
    """The holder (or an officer) cancels a declaration not yet released (IE014): its
    reservation given back, its seals free. Once an officer has released it, or refused to,
    it stands."""
    actor.require(*DECLARANTS)
    movement = get(session, actor, reference, lock=True)
    if actor.role is Role.TRADER and actor.party_id != movement.holder_id:
        raise Forbidden(Text("only the holder cancels movement {mrn}", mrn=movement.mrn))
    if movement.role != "departure" or movement.status != ACCEPTED:
        raise Conflict(
            Text("movement {mrn} is {status}: only a declaration not yet released is cancelled",
                 mrn=movement.mrn, status=movement.status)
        )  # fmt: skip
    now = ctx.clock.now()
    movement.status, movement.note = CANCELLED, reason
    note_event(session, movement, "IE014", movement.departure_office, now, {"reason": reason})
    close(session, movement.mrn, now)
    _audit(session, actor, now, "transit.cancelled", ENTITY, movement.mrn, ACCEPTED, CANCELLED)
    return movement


def _release(
    session: Session, movement: Movement, actor: Principal, now: datetime, days: int,
    detail: dict[str, str] | None,
) -> None:  # fmt: skip
    """Released for transit (IE029) with `days` to reach the destination: its record to the
    offices on its itinerary (IE050 / IE001), its seals watched."""
    movement.status, movement.released_at = RELEASED, now
    movement.time_limit = now.date() + timedelta(days=days)
    note_event(session, movement, "IE029", movement.departure_office, now, detail)
    send_record(session, movement, "released", now)
    _watch(session, movement, actor, now)


def get(session: Session, actor: Principal, reference: str, lock: bool = False) -> Movement:
    """A movement this node knows: a trader sees those it holds or is the consignee of."""
    found = session.scalar(
        repository.MOVEMENT_LOCKED if lock else repository.MOVEMENT, {"mrn": reference}
    )
    if found is None or (
        actor.role is Role.TRADER and actor.party_id not in (found.holder_id, found.consignee_id)
    ):
        raise NotFound(Text("movement {mrn} not found", mrn=reference))
    return found


def search(
    session: Session, actor: Principal, status: str | None = None, limit: int = 100,
    *, role: str | None = None, offset: int = 0,
) -> list[Movement]:  # fmt: skip
    """The movements `actor` may see, newest first: a trader only those it holds or receives;
    with `role`, those this node is the office of departure, transit or destination of."""
    stmt = select(Movement).order_by(Movement.id.desc()).limit(limit).offset(offset)
    if actor.role is Role.TRADER:
        mine = (Movement.holder_id == actor.party_id) | (Movement.consignee_id == actor.party_id)
        stmt = stmt.where(mine)
    if status:
        stmt = stmt.where(Movement.status == status)
    if role:
        stmt = stmt.where(Movement.role == role)
    return list(session.scalars(stmt))


def events(session: Session, movement: Movement) -> list[MovementEvent]:
    stmt = select(MovementEvent).where(MovementEvent.movement_id == movement.id)
    return list(session.scalars(stmt.order_by(MovementEvent.at, MovementEvent.id)))


def reservation(session: Session, reference: str) -> Reservation | None:
    return session.scalar(select(Reservation).where(Reservation.mrn == reference))


def reservations(session: Session, g: Guarantee) -> list[Reservation]:
    """What movements hold or held on a guarantee, newest first."""
    stmt = select(Reservation).where(Reservation.guarantee_id == g.id)
    return list(session.scalars(stmt.order_by(Reservation.id.desc())))


def read_movement(session: Session, movement: Movement, actor: Principal) -> MovementRead:
    """The movement with the amount its guarantee holds for it and why (per country); why it
    got its lane for officials only (the reasons name the risk profiles)."""
    out = MovementRead.model_validate(movement)
    if actor.role not in OFFICIALS:
        out.lane_reasons = None
    held = reservation(session, movement.mrn)
    if held is not None:
        out = out.model_copy(
            update={"reserved": held.amount, "reservation": held.status, "exposure": held.exposure}
        )
    if movement.role == "departure" and movement.document.get("monitoring"):
        out = out.model_copy(update={"monitored": True})
    return out


# -- rules -----------------------------------------------------------------------------------


def _route(data: MovementCreate, country: str) -> list[str]:
    """The countries of the itinerary in order, checked: departure here, destination abroad,
    each next country reachable by road from the one before."""
    errors = []
    if itinerary.office_country(data.departure_office) != country:
        errors.append(FieldError(
            "departure_office", "not_here",
            Text("must be an office of {country}, where this node is", country=country),
        ))  # fmt: skip
    offices = [data.departure_office, *data.transit_offices, data.destination_office]
    countries = list(dict.fromkeys(itinerary.office_country(o) for o in offices))
    if itinerary.office_country(data.destination_office) == country:
        errors.append(FieldError(
            "destination_office", "national",
            Text("must be abroad: ACTS carries goods from one member state to another"),
        ))  # fmt: skip
    for a, b in itinerary.gaps([itinerary.office_country(o) for o in offices]):
        errors.append(FieldError(
            "transit_offices", "no_road",
            Text("there is no road from {a} to {b}: add the offices of transit between them",
                 a=a, b=b),
        ))  # fmt: skip
    if errors:
        raise InvalidInput(errors)
    return countries


def _check_holder(session: Session, data: MovementCreate) -> None:
    """The holder is registered for ACTS here and, for a start at its premises, authorised
    there as a consignor."""
    holder = traders.registered(session, data.holder_id, "holder_id")
    premises = data.departure_premises
    if premises and not traders.at_premises(holder, premises, "consignor"):
        raise InvalidInput([FieldError(
            "departure_premises", "not_authorised",
            Text("{party} is not an authorised consignor at {premises}: present the goods at "
                 "the office of departure", party=data.holder_id, premises=premises),
        )])  # fmt: skip


def _lane(
    session: Session, data: MovementCreate, ctx: Context, home: Home
) -> tuple[str, list[str]]:
    """The declaration's lane and why, from the node's rule profiles and random picks."""
    if ctx.selectivity is None:
        return "green", []
    on = ctx.clock.now().date()
    profiles = active_profiles(session)
    # The conversion (a rate read per item) only for a profile that reads the value; the
    # guarantee's computation converts the values anyway, so a missing rate is still refused.
    valued = weighs_value(profiles)
    items = tuple(
        SubjectItem(
            hs_code=i.hs_code, origin="", net_mass_kg=i.gross_mass_kg,
            value_national=convert(session, Due(i.currency, i.customs_value), home.currency,
                                   on, home=home).amount if valued else Decimal(0),
        )
        for i in data.items
    )  # fmt: skip
    subject = Subject(
        type="transit", office=data.departure_office, importer_id=data.holder_id,
        declarant_id=data.holder_id, exporter_name=data.holder_name,
        country_of_export=ctx.country, goods_date=on, items=items, lodged=on,
    )  # fmt: skip
    chosen = ctx.selectivity.by_rules(session, subject, profiles)
    return chosen.lane, list(chosen.reasons)


def _check_office(session: Session, office: str, on: date) -> None:
    """Departure is one of this node's customs offices, when it keeps their list (reference
    "offices"); partners' offices are checked by their nodes, on the record."""
    if reference.holds(session, "offices", "locode", office, on) is False:
        raise InvalidInput([FieldError(
            "departure_office", "unknown_office",
            Text("{office} is not in this node's list of customs offices", office=office),
        )])  # fmt: skip


def _check_partners(session: Session, countries: list[str]) -> None:
    """Each country after departure gets the movement's record: its node must be a partner."""
    strangers = [c for c in countries if not partner_active(session, c)]
    if strangers:
        raise InvalidInput([FieldError(
            "transit_offices", "not_a_partner",
            Text("{countries}: not a partner of this node; a movement crosses only member "
                 "states whose nodes exchange with it", countries=", ".join(strangers)),
        )])  # fmt: skip


def _check_guarantee(session: Session, g: Guarantee, data: MovementCreate, today: date) -> None:
    problem = None
    if g.holder_id != data.holder_id:
        problem = Text("guarantee {grn} is not the holder's", grn=g.grn)
    elif g.status != "valid":
        problem = Text("guarantee {grn} is {status}", grn=g.grn, status=g.status)
    elif g.valid_until < today:
        problem = Text("guarantee {grn} expired on {day}", grn=g.grn, day=g.valid_until.isoformat())
    elif g.kind == "individual" and session.scalar(
        select(Reservation.mrn).where(Reservation.guarantee_id == g.id).limit(1)
    ):
        problem = Text("individual guarantee {grn} has covered a movement already", grn=g.grn)
    if problem:
        raise InvalidInput([FieldError("grn", "guarantee_not_valid", problem)])


def _check_seals(session: Session, seals: list[str]) -> None:
    """A seal is on one movement at a time, until that movement has ended."""
    taken = session.execute(repository.SEALS_TAKEN, {"seals": seals})
    errors = [
        FieldError(
            f"seals.{seals.index(seal)}", "seal_in_use",
            Text("seal {seal} is in use on movement {mrn}", seal=seal, mrn=reference),
        )
        for seal, reference in sorted(taken, key=lambda row: seals.index(row[0]))
    ]  # fmt: skip
    if errors:
        raise InvalidInput(errors)


def _exposure(
    session: Session, countries: list[str], data: MovementCreate, to: str, on: date, home: Home
) -> dict[str, Decimal]:
    """Per country of the itinerary, the import duties and taxes the goods would owe there on
    `on` (MFN: no preference is assumed), in the guarantee's currency `to`. A Conflict when
    one cannot be computed (a partner without a tariff in force, a line or a rate missing)."""
    goods = [Goods(i.hs_code, i.customs_value, i.currency) for i in data.items]
    try:
        return import_taxes_in(session, countries, goods, on, home=home, currency=to)
    except (InvalidInput, NotFound) as exc:
        why = exc.errors[0].message if isinstance(exc, InvalidInput) else exc.detail
        raise Conflict(Text("the guarantee cannot be computed: {why}", why=why)) from None


def _watch(session: Session, movement: Movement, actor: Principal, now: datetime) -> None:
    """The movement's e-seals watched from release, on the route declared (if it was)."""
    watch = movement.document.get("monitoring")
    if watch:
        trip = TripCreate.model_validate({**watch, "reference": movement.mrn,
                                          "seals": movement.seals})  # fmt: skip
        seals.register_trip(session, trip, now=now, actor=actor.name)


def close(session: Session, reference: str, now: datetime) -> None:
    """A movement declared here has ended (not released, written off): its guarantee's
    reservation given back, its seals free for another movement."""
    session.execute(
        update(Reservation)
        .where(Reservation.mrn == reference, Reservation.status == "held")
        .values(status="released", released_at=now)
    )
    session.execute(delete(SealInUse).where(SealInUse.mrn == reference))


def _allocate(session: Session, kind: str, year: int, country: str, prefix: str) -> str:
    """The next MRN (or GRN) of the year: year, country, `prefix` (the office), a sequence
    number filling the 13 characters of the unique part, the check character."""
    dialect = session.get_bind().dialect.name
    params = {"the_kind": kind, "the_year": year}
    session.execute(repository.NEW_SEQUENCE[dialect == "postgresql"], params)
    last = session.execute(repository.NEXT_IN_SEQUENCE, params).scalar_one()
    return mrn.make(year, country, f"{prefix}{last:0{13 - len(prefix)}d}")


def _audit(
    session: Session, actor: Principal, at: datetime, action: str, entity: str, key: str,
    from_status: str | None = None, to_status: str | None = None,
) -> None:  # fmt: skip
    audit.record(
        session, at=at, actor=actor.name, action=action, entity_type=entity, entity_id=key,
        from_status=from_status, to_status=to_status,
    )  # fmt: skip
