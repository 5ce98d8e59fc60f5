"""REST endpoints for certificates of origin: issue, transmit, cancel, read."""

from __future__ import annotations

from fastapi import APIRouter

from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.origin import issuing
from onewindow.origin.schemas import CertificateCancellation, CertificateDetail, FormDApplication
from onewindow.origin.service import read_certificate

router = APIRouter(prefix="/api/v1/origin", tags=["origin"])


@router.post("/certificates", status_code=201, response_model=CertificateDetail)
def issue(application: FormDApplication, node: NodeDep, token: TokenDep) -> CertificateDetail:
    """The issuing authority issues a Form D from an exporter's application."""
    with node.transaction() as session:
        cert = issuing.issue(
            session,
            principal(session, token),
            application.root,
            issuer=issuing.Issuer.of(node.settings),
            now=node.clock.now(),
        )
        return CertificateDetail.model_validate(cert)


@router.post("/certificates/{reference}/transmission", response_model=CertificateDetail)
def transmit(reference: str, node: NodeDep, token: TokenDep) -> CertificateDetail:
    """The exporter authorises transmission to the importing country's node."""
    with node.transaction() as session:
        actor = principal(session, token)
        cert = issuing.transmit(session, actor, reference, now=node.clock.now())
        return CertificateDetail.model_validate(cert)


@router.post("/certificates/{reference}/cancellation", response_model=CertificateDetail)
def cancel(
    reference: str, body: CertificateCancellation, node: NodeDep, token: TokenDep
) -> CertificateDetail:
    with node.transaction() as session:
        actor = principal(session, token)
        cert = issuing.cancel(session, actor, reference, body.reason, now=node.clock.now())
        return CertificateDetail.model_validate(cert)


@router.get("/certificates/{reference}", response_model=CertificateDetail)
def read(reference: str, node: NodeDep, token: TokenDep) -> CertificateDetail:
    with node.transaction() as session:
        return CertificateDetail.model_validate(
            read_certificate(session, principal(session, token), reference)
        )
