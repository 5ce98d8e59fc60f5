"""REST endpoints of transit at the office of departure: guarantees, transit declarations,
release for transit."""

from __future__ import annotations

from fastapi import APIRouter

from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.transit import enquiry, offices, service
from onewindow.transit.context import context
from onewindow.transit.schemas import (
    Discharge,
    EventRead,
    GuaranteeCreate,
    GuaranteeRead,
    MovementCreate,
    MovementRead,
    Office,
    Release,
    Unloading,
)

router = APIRouter(prefix="/api/v1/transit", tags=["transit"])


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


@router.post("/movements", status_code=201, response_model=MovementRead)
def declare(body: MovementCreate, node: NodeDep, token: TokenDep) -> MovementRead:
    """A transit declaration (IE015): accepted with its MRN and its guarantee reserved."""
    with node.transaction() as session:
        movement = service.declare(session, principal(session, token), body, context(node))
        return service.read_movement(session, movement)


@router.get("/movements", response_model=list[MovementRead])
def movements(
    node: NodeDep, token: TokenDep, status: str | None = None, limit: int = 100
) -> list[MovementRead]:
    with node.transaction() as session:
        actor = principal(session, token)
        found = service.search(session, actor, status=status, limit=max(1, min(limit, 500)))
        return [service.read_movement(session, m) for m in found]


@router.get("/movements/{mrn}", response_model=MovementRead)
def movement(mrn: str, node: NodeDep, token: TokenDep) -> MovementRead:
    with node.transaction() as session:
        return service.read_movement(session, service.get(session, principal(session, token), mrn))


@router.post("/movements/{mrn}/release", response_model=MovementRead)
def release(mrn: str, body: Release, node: NodeDep, token: TokenDep) -> MovementRead:
    """Release for transit (IE029) or no release (IE051), by an officer of departure."""
    with node.transaction() as session:
        actor = principal(session, token)
        return service.read_movement(
            session, service.decide_release(session, actor, mrn, body, context(node))
        )


@router.post("/movements/{mrn}/crossing", response_model=MovementRead)
def crossing(mrn: str, body: Office, node: NodeDep, token: TokenDep) -> MovementRead:
    """An office of transit here records the frontier crossed (IE118 to departure)."""
    with node.transaction() as session:
        actor = principal(session, token)
        moved = offices.cross(session, actor, mrn, body.office, context(node))
        return service.read_movement(session, moved)


@router.post("/movements/{mrn}/arrival", response_model=MovementRead)
def arrival(mrn: str, body: Office, node: NodeDep, token: TokenDep) -> MovementRead:
    """The goods presented at an office here (IE006 to departure)."""
    with node.transaction() as session:
        actor = principal(session, token)
        moved = offices.arrive(session, actor, mrn, body.office, context(node))
        return service.read_movement(session, moved)


@router.post("/movements/{mrn}/unloading", response_model=MovementRead)
def unloading(mrn: str, body: Unloading, node: NodeDep, token: TokenDep) -> MovementRead:
    """Unloading remarks and control results at destination (IE018 to departure)."""
    with node.transaction() as session:
        actor = principal(session, token)
        return service.read_movement(
            session, offices.unload(session, actor, mrn, body, context(node))
        )


@router.post("/movements/{mrn}/discharge", response_model=MovementRead)
def discharge(mrn: str, body: Discharge, node: NodeDep, token: TokenDep) -> MovementRead:
    """Write off a movement whose control results had remarks (IE045)."""
    with node.transaction() as session:
        actor = principal(session, token)
        moved = offices.discharge(session, actor, mrn, body.note, context(node))
        return service.read_movement(session, moved)


@router.get("/movements/{mrn}/events", response_model=list[EventRead])
def events(mrn: str, node: NodeDep, token: TokenDep) -> list[EventRead]:
    with node.transaction() as session:
        found = service.events(session, service.get(session, principal(session, token), mrn))
        return [EventRead.model_validate(e) for e in found]


@router.post("/movements/{mrn}/recovery", response_model=MovementRead)
def recovery(mrn: str, body: Discharge, node: NodeDep, token: TokenDep) -> MovementRead:
    """Call the guarantee of a movement whose enquiry ran out unresolved (recovery)."""
    with node.transaction() as session:
        actor = principal(session, token)
        moved = enquiry.recover(session, actor, mrn, body.note, context(node))
        return service.read_movement(session, moved)
