"""Traders registered at this node for ACTS, and what they are authorised to do.

A trader uses ACTS once its customs administration has registered it: only a registered
trader holds a guarantee or a movement here. The node may authorise it further, at premises
it lists:

- as an **authorised consignor**, its movements start at its premises: a declaration that
  names them and gets the green lane is released at once, without the goods presented at the
  office; any other lane waits for an officer's control there;
- as an **authorised consignee**, movements addressed to it at its premises end there: it
  notifies their arrival and gives the unloading remarks itself, where otherwise an officer of
  the office of destination does.

An officer registers a trader, changes its authorisations, or suspends it; every change is in
the audit trail. A suspended trader declares nothing new; its movements on the road go on.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from onewindow.kit import audit
from onewindow.kit.auth import Principal, Role
from onewindow.kit.clock import Clock
from onewindow.kit.errors import FieldError, InvalidInput, NotFound, Text
from onewindow.transit.models import Trader
from onewindow.transit.schemas import TraderWrite

OFFICIALS = (Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR)
ENTITY = "transit_trader"
REGISTERED = "registered"
# Built once: asked by every declaration, where building the statement cost more than running it.
_BY_PARTY = select(Trader).where(Trader.party_id == bindparam("party_id"))


def find(session: Session, party_id: str | None, lock: bool = False) -> Trader | None:
    """The registration of `party_id` here, whatever its status; None if it has none."""
    stmt = _BY_PARTY.with_for_update() if lock else _BY_PARTY
    return session.scalar(stmt, {"party_id": party_id})


def register(
    session: Session, actor: Principal, party_id: str, data: TraderWrite, clock: Clock
) -> Trader:
    """Register `party_id` for ACTS, or set its registration to `data`."""
    actor.require(*OFFICIALS)
    now = clock.now()
    trader = find(session, party_id, lock=True)
    before = None
    if trader is None:
        trader = Trader(party_id=party_id, registered_at=now)
        session.add(trader)
    else:
        before = trader.status
    trader.name, trader.status, trader.note = data.name, data.status, data.note
    trader.consignor, trader.consignee = data.consignor, data.consignee
    trader.premises = [p.model_dump() for p in data.premises]
    trader.updated_at, trader.updated_by = now, actor.name
    session.flush()
    audit.record(
        session, at=now, actor=actor.name,
        action="transit.trader_registered" if before is None else "transit.trader_changed",
        entity_type=ENTITY, entity_id=party_id, from_status=before, to_status=data.status,
        detail={"consignor": data.consignor, "consignee": data.consignee,
                "premises": [p.code for p in data.premises]},
    )  # fmt: skip
    return trader


def get(session: Session, actor: Principal, party_id: str) -> Trader:
    """A trader's registration: officials see any, a trader its own."""
    found = find(session, party_id)
    if found is None or (actor.role is Role.TRADER and actor.party_id != party_id):
        raise NotFound(Text("trader {party} is not registered for ACTS here", party=party_id))
    return found


def listing(session: Session, actor: Principal, limit: int = 100, offset: int = 0) -> list[Trader]:
    actor.require(*OFFICIALS)
    stmt = select(Trader).order_by(Trader.party_id).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def registered(session: Session, party_id: str, field: str) -> Trader:
    """The trader `party_id`, registered and not suspended, or an error on `field`."""
    trader = find(session, party_id)
    if trader is None:
        why = Text("{party} is not registered for ACTS at this node: an officer registers it "
                   "first (onewindow transit trader register)", party=party_id)  # fmt: skip
        raise InvalidInput([FieldError(field, "not_registered", why)])
    if trader.status != REGISTERED:
        why = Text("{party}'s ACTS registration is {status}", party=party_id, status=trader.status)
        raise InvalidInput([FieldError(field, "not_registered", why)])
    return trader


def at_premises(trader: Trader | None, code: str, as_: str) -> bool:
    """Whether `trader` is authorised `as_` (consignor or consignee) at the premises `code`."""
    if trader is None:
        return False
    authorised = trader.consignor if as_ == "consignor" else trader.consignee
    return (
        trader.status == REGISTERED
        and authorised
        and any(p["code"] == code for p in trader.premises)
    )
