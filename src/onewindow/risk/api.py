"""REST endpoints for risk: the registered models (officials only)."""

from __future__ import annotations

from fastapi import APIRouter

from onewindow.kit import auth
from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.risk import registry
from onewindow.risk.lanes import lanes
from onewindow.risk.schemas import ModelRead

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])


@router.get("/models", response_model=list[ModelRead])
def models(node: NodeDep, token: TokenDep) -> list[ModelRead]:
    """The registered risk models, newest first, with their data range, internal validation
    metrics and which one is active."""
    with node.transaction() as session:
        principal(session, token)  # the route's rule (onewindow.kit.access) says who
        return [ModelRead.of(m) for m in registry.list_models(session)]


@router.post("/models/{version}/activation", response_model=ModelRead)
def activate(version: str, node: NodeDep, token: TokenDep) -> ModelRead:
    """Make a registered model the one that scores declarations, in this running node at once
    (`onewindow risk activate` changes the registry; a running node follows only this way or
    on restart)."""
    with node.transaction() as session:
        actor = principal(session, token)
        actor.require(auth.Role.SUPERVISOR, auth.Role.ADMINISTRATOR)
        model = ModelRead.of(
            registry.activate(session, version, by=actor.name, now=node.clock.now())
        )
    lanes(node).reload()
    return model
