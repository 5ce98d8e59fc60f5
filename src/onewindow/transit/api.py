"""REST endpoints of transit: traders registered for ACTS, guarantees, transit declarations
and what each office does with a movement."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Path
from sqlalchemy.orm import Session

from onewindow.kit.api_deps import Caller, NodeDep, TokenDep, principal
from onewindow.kit.auth import Principal
from onewindow.kit.fields import PARTY_ID
from onewindow.kit.node import Node
from onewindow.transit import enquiry, offices, service, traders
from onewindow.transit.context import context
from onewindow.transit.models import Movement
from onewindow.transit.schemas import (
    Discharge,
    EventRead,
    GuaranteeCreate,
    GuaranteeRead,
    MovementCreate,
    MovementRead,
    Office,
    Release,
    TraderRead,
    TraderWrite,
    Unloading,
)
from onewindow.transit.service import Context

router = APIRouter(prefix="/api/v1/transit", tags=["transit"])
PARTY = Path(pattern=PARTY_ID, description="The trader's identification number")


@router.put("/traders/{party_id}", response_model=TraderRead)
def register_trader(
    body: TraderWrite, node: NodeDep, token: TokenDep, party_id: str = PARTY
) -> TraderRead:
    """Register a trader for ACTS, or set its registration and authorisations."""
    with node.transaction() as session:
        actor = principal(session, token)
        trader = traders.register(session, actor, party_id, body, node.clock)
        return TraderRead.model_validate(trader)


@router.get("/traders", response_model=list[TraderRead])
def trader_list(node: NodeDep, token: TokenDep, limit: int = 100) -> list[TraderRead]:
    with node.transaction() as session:
        found = traders.listing(session, principal(session, token), max(1, min(limit, 500)))
        return [TraderRead.model_validate(t) for t in found]


@router.get("/traders/{party_id}", response_model=TraderRead)
def trader(node: NodeDep, token: TokenDep, party_id: str = PARTY) -> TraderRead:
    """A trader's registration: an official sees any, a trader its own."""
    with node.transaction() as session:
        return TraderRead.model_validate(traders.get(session, principal(session, token), party_id))


@router.post("/guarantees", status_code=201, response_model=GuaranteeRead)
def register(body: GuaranteeCreate, node: NodeDep, token: TokenDep) -> GuaranteeRead:
    """The office of guarantee registers a guarantee for a holder of the procedure."""
    with node.transaction() as session:
        actor = principal(session, token)
        g = service.register_guarantee(session, actor, body, context(node))
        return service.read_guarantee(session, g)


@router.get("/guarantees/{grn}", response_model=GuaranteeRead)
def guarantee(grn: str, node: NodeDep, token: TokenDep) -> GuaranteeRead:
    with node.transaction() as session:
        g = service.guarantee(session, principal(session, token), grn)
        return service.read_guarantee(session, g)


Act = Callable[[Session, Principal, Context], Movement]


def _act(node: Node, token: Caller, act: Act) -> MovementRead:
    """One action on a movement, as the token's user, in one transaction; the movement after."""
    with node.transaction() as session:
        actor = principal(session, token)
        return service.read_movement(session, act(session, actor, context(node)), actor)


@router.post("/movements", status_code=201, response_model=MovementRead)
def declare(body: MovementCreate, node: NodeDep, token: TokenDep) -> MovementRead:
    """A transit declaration (IE015): accepted with its MRN, its lane and its guarantee
    reserved; released at once for an authorised consignor at its premises in the green
    lane."""
    return _act(node, token, lambda s, actor, ctx: service.declare(s, actor, body, ctx))


@router.get("/movements", response_model=list[MovementRead])
def movements(
    node: NodeDep, token: TokenDep, status: str | None = None, limit: int = 100
) -> list[MovementRead]:
    with node.transaction() as session:
        actor = principal(session, token)
        found = service.search(session, actor, status=status, limit=max(1, min(limit, 500)))
        return [service.read_movement(session, m, actor) for m in found]


@router.get("/movements/{mrn}", response_model=MovementRead)
def movement(mrn: str, node: NodeDep, token: TokenDep) -> MovementRead:
    return _act(node, token, lambda s, actor, ctx: service.get(s, actor, mrn))


@router.post("/movements/{mrn}/release", response_model=MovementRead)
def release(mrn: str, body: Release, node: NodeDep, token: TokenDep) -> MovementRead:
    """Release for transit (IE029) or no release (IE051), by an officer of departure; in the
    yellow or red lane with what the control found."""
    return _act(node, token, lambda s, a, ctx: service.decide_release(s, a, mrn, body, ctx))


@router.post("/movements/{mrn}/cancellation", response_model=MovementRead)
def cancellation(mrn: str, body: Discharge, node: NodeDep, token: TokenDep) -> MovementRead:
    """The holder cancels its declaration before release (IE014), saying why."""
    return _act(node, token, lambda s, a, ctx: service.cancel(s, a, mrn, body.note, ctx))


@router.post("/movements/{mrn}/crossing", response_model=MovementRead)
def crossing(mrn: str, body: Office, node: NodeDep, token: TokenDep) -> MovementRead:
    """An office of transit here records the frontier crossed (IE118 to departure)."""
    return _act(node, token, lambda s, a, ctx: offices.cross(s, a, mrn, body.office, ctx))


@router.post("/movements/{mrn}/arrival", response_model=MovementRead)
def arrival(mrn: str, body: Office, node: NodeDep, token: TokenDep) -> MovementRead:
    """The goods presented at an office here, or at the authorised consignee's premises
    (IE006 to departure)."""
    return _act(node, token, lambda s, a, ctx: offices.arrive(s, a, mrn, body.office, ctx))


@router.post("/movements/{mrn}/unloading", response_model=MovementRead)
def unloading(mrn: str, body: Unloading, node: NodeDep, token: TokenDep) -> MovementRead:
    """Unloading remarks and control results at destination (IE018 to departure)."""
    return _act(node, token, lambda s, a, ctx: offices.unload(s, a, mrn, body, ctx))


@router.post("/movements/{mrn}/discharge", response_model=MovementRead)
def discharge(mrn: str, body: Discharge, node: NodeDep, token: TokenDep) -> MovementRead:
    """Write off a movement whose control results had remarks (IE045)."""
    return _act(node, token, lambda s, a, ctx: offices.discharge(s, a, mrn, body.note, ctx))


@router.get("/movements/{mrn}/events", response_model=list[EventRead])
def events(mrn: str, node: NodeDep, token: TokenDep) -> list[EventRead]:
    with node.transaction() as session:
        found = service.events(session, service.get(session, principal(session, token), mrn))
        return [EventRead.model_validate(e) for e in found]


@router.post("/movements/{mrn}/recovery", response_model=MovementRead)
def recovery(mrn: str, body: Discharge, node: NodeDep, token: TokenDep) -> MovementRead:
    """Call the guarantee of a movement whose enquiry ran out unresolved (recovery)."""
    return _act(node, token, lambda s, a, ctx: enquiry.recover(s, a, mrn, body.note, ctx))
