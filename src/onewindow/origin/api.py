"""REST endpoints for certificates of origin: issue, transmit, cancel, read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.kit.errors import NotFound
from onewindow.kit.fields import TEXT
from onewindow.origin import get_certificate, issuing

router = APIRouter(prefix="/api/v1/origin", tags=["origin"])


def _read(cert: Any) -> dict[str, Any]:
    return {
        "reference": cert.reference,
        "status": cert.status,
        "source": cert.source,
        "exporting_country": cert.exporting_country,
        "importing_country": cert.importing_country,
        "importer_id": cert.importer_id,
        "issue_date": cert.issue_date,
        "valid_until": cert.valid_until,
        "reason": cert.status_reason,
        "replaced_by": cert.replaced_by,
        "document": cert.document,
        "items": [
            {
                "item_number": i.item_number,
                "hs_code": i.hs_code,
                "quantity": i.quantity,
                "used_quantity": i.used_quantity,
            }
            for i in cert.items
        ],
    }


@router.post("/certificates", status_code=201)
def issue(node: NodeDep, token: TokenDep, application: dict[str, Any] = Body(...)) -> Any:
    """The issuing authority issues a Form D from an exporter's application."""
    with node.transaction() as session:
        cert = issuing.issue(
            session,
            principal(session, token),
            application,
            issuer=issuing.Issuer.of(node.settings),
            now=node.clock.now(),
        )
        return _read(cert)


@router.post("/certificates/{reference}/transmission")
def transmit(reference: str, node: NodeDep, token: TokenDep) -> Any:
    """The exporter authorises transmission to the importing country's node."""
    with node.transaction() as session:
        return _read(
            issuing.transmit(session, principal(session, token), reference, now=node.clock.now())
        )


@router.post("/certificates/{reference}/cancellation")
def cancel(
    reference: str,
    node: NodeDep,
    token: TokenDep,
    reason: str = Body(..., embed=True, max_length=300, pattern=TEXT),
) -> Any:
    with node.transaction() as session:
        actor = principal(session, token)
        return _read(issuing.cancel(session, actor, reference, reason, now=node.clock.now()))


@router.get("/certificates/{reference}")
def read(reference: str, node: NodeDep, token: TokenDep) -> Any:
    with node.transaction() as session:
        actor = principal(session, token)
        cert = get_certificate(session, reference)
        if cert is None or (
            actor.role.value == "trader"
            and actor.party_id != cert.importer_id
            and actor.party_id != (cert.document or {}).get("exporter", {}).get("id")
        ):
            raise NotFound(f"certificate {reference} not found")
        return _read(cert)
