"""REST endpoints for risk: the registered models (officials only)."""

from __future__ import annotations

from fastapi import APIRouter

from onewindow import auth
from onewindow.api_deps import NodeDep, TokenDep, principal
from onewindow.risk import registry
from onewindow.risk.schemas import ModelRead

router = APIRouter(prefix="/api/v1/risk", tags=["risk"])


@router.get("/models", response_model=list[ModelRead])
def models(node: NodeDep, token: TokenDep) -> list[ModelRead]:
    """The registered risk models, newest first, with their data range, internal validation
    metrics and which one is active."""
    with node.transaction() as session:
        principal(session, token).require(*auth.OFFICIALS)
        return [ModelRead.of(m) for m in registry.list_models(session)]
