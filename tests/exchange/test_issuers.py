"""A message about a document comes from that document's issuer: at VN, with the origin and
declarations handlers of a real node, SG's Form D cannot be rewritten or withdrawn by TH, nor
can any document type name an issuer other than its signer. Each refusal is a signed,
coded rejection receipt (`not_issuer`) naming what was refused, and nothing changes.

Through `receive_many` (the gateway's batch path, the one `receive` and the HTTP endpoint
take too)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.samples import acdd, form_d

from onewindow.exchange import documents, envelope, issuers, service
from onewindow.exchange.envelope import ReceiptStatus, Signer
from onewindow.exchange.inbox import Outcome
from onewindow.exchange.models import DocumentIssuer
from onewindow.kit.auth import SYSTEM
from onewindow.kit.config import PartnerConfig
from onewindow.kit.node import Node
from onewindow.ledger import LedgerEntry
from onewindow.origin import get_certificate, receiving
from onewindow.origin.models import VerificationRequest

from .conftest import NOW, Federation

REFERENCE = "SG-2026-000001"
Message = tuple[Signer, str, dict[str, Any], str]  # signer, document type, payload, document id


class VN:
    """The VN node of the `node` fixture receiving from SG and TH, both members."""

    def __init__(self, node: Node, federation: Federation) -> None:
        self.node, self.federation = node, federation
        self.sg, self.th = federation.signer("SG"), federation.th
        self.trust = federation.trust()
        self.trust.add(self.sg.certificate)
        with node.transaction() as s:
            partners = {c: PartnerConfig(endpoint=f"http://{c.lower()}") for c in ("SG", "TH")}
            service.sync_partners(s, partners, now=NOW)

    def receive(self, messages: Sequence[Message], version: int = 1) -> list[Outcome]:
        bodies = []
        for signer, kind, payload, document_id in messages:
            header = envelope.new_header(signer.country, "VN", kind, document_id, version, NOW)
            bodies.append(envelope.seal(header, documents.build(kind, payload), signer))
        with self.node.transaction() as s:
            outcomes = service.receive_many(
                s, bodies, trust=self.trust, node_key=self.federation.vn, country="VN", now=NOW
            )
        for body, outcome in zip(bodies, outcomes, strict=True):
            assert outcome.receipt is not None  # every one verified: each gets a signed receipt
            signed = envelope.open_receipt(outcome.receipt, self.trust, now=NOW, receiver="VN")
            assert signed.receipt.message_digest == envelope.digest_of(body)
            if outcome.status == "rejected":
                assert signed.receipt.status is ReceiptStatus.REJECTED
        return outcomes

    def certificate(self) -> dict[str, Any]:
        with self.node.transaction() as s:
            cert = get_certificate(s, REFERENCE)
            assert cert is not None
            return {
                "exporting_country": cert.exporting_country,
                "importer_id": cert.importer_id,
                "importer_name": cert.importer_name,
                "status": cert.status,
                "version": cert.version,
                "exporter_name": cert.exporter_name,
            }

    def ledger_entries(self, prefix: str) -> int:
        with self.node.transaction() as s:
            found = select(func.count()).where(LedgerEntry.document_id.startswith(prefix))
            return int(s.scalar(found) or 0)


@pytest.fixture
def vn(node: Node, federation: Federation) -> VN:
    return VN(node, federation)


def sg_form_d(**changes: Any) -> dict[str, Any]:
    data = form_d()
    data["reference"] = REFERENCE
    data["exporter"] = data["exporter"] | {"name": "Lion City Devices", "country": "SG"}
    data["declaration"]["producing_country"] = "SG"
    return data | changes


def th_rewrite() -> dict[str, Any]:
    """SG's reference, with TH as the exporting country and another importer."""
    data = form_d()
    data["reference"] = REFERENCE
    data["consignee"] = data["consignee"] | {"id": "0309999999", "name": "Hanoi Impostor Co"}
    return data


def notice(status: str, issuer: str, **extra: Any) -> dict[str, Any]:
    reasons = [{"code": status, "text": "withdrawn"}]
    return {"reference": REFERENCE, "status": status, "issuer_country": issuer,
            "issued_at": NOW, "reasons": reasons} | extra  # fmt: skip


def codes(outcome: Outcome) -> list[tuple[str, str | None]]:
    return [(r.code, r.pointer) for r in outcome.reasons]


def test_a_partner_cannot_rewrite_or_cancel_another_partners_form_d(vn: VN) -> None:
    (first,) = vn.receive([(vn.sg, "FORM_D", sg_form_d(), REFERENCE)])
    assert first.status == "processed"
    before = vn.certificate()
    assert before["exporting_country"] == "SG"

    # TH reuses the reference: a new exporting country and importer, as version 1 and 2.
    for version in (1, 2):
        (rewrite,) = vn.receive([(vn.th, "FORM_D", th_rewrite(), REFERENCE)], version)
        assert rewrite.status == "rejected" and rewrite.http_status == 422
        assert codes(rewrite) == [("not_issuer", "reference")]
    # TH withdraws it, as itself, in SG's name, and in VN's.
    for issuer, pointer in (("TH", "reference"), ("SG", "issuer_country"), ("VN", "reference")):
        message = (vn.th, "FORM_D_STATUS", notice("cancelled", issuer), f"{REFERENCE}/cancelled")
        (cancel,) = vn.receive([message])
        assert cancel.status == "rejected" and codes(cancel) == [("not_issuer", pointer)]

    assert vn.certificate() == before  # nothing changed
    assert vn.ledger_entries(REFERENCE) == 1  # only SG's Form D was logged as received

    # The issuer itself still can: a new version, then its cancellation.
    (v2,) = vn.receive([(vn.sg, "FORM_D", sg_form_d(), REFERENCE)], version=2)
    (cancel,) = vn.receive(
        [(vn.sg, "FORM_D_STATUS", notice("cancelled", "SG"), f"{REFERENCE}/cancelled")]
    )
    assert (v2.status, cancel.status) == ("processed", "processed")
    assert vn.certificate() | {"status": "x"} == before | {"version": 2, "status": "x"}
    assert vn.certificate()["status"] == "cancelled"


def test_in_one_batch_the_first_issuer_keeps_the_reference(vn: VN) -> None:
    outcomes = vn.receive(
        [
            (vn.sg, "FORM_D", sg_form_d(), REFERENCE),
            (vn.th, "FORM_D", th_rewrite(), REFERENCE),
            (vn.th, "FORM_D_STATUS", notice("cancelled", "TH"), f"{REFERENCE}/cancelled"),
        ]
    )
    assert [o.status for o in outcomes] == ["processed", "rejected", "rejected"]
    assert vn.certificate()["exporting_country"] == "SG"
    assert vn.certificate()["status"] == "received"
    with vn.node.transaction() as s:
        bound = s.scalars(select(DocumentIssuer)).one()
        assert (bound.document_type, bound.reference, bound.issuer) == ("FORM_D", REFERENCE, "SG")


def _request(reference: str, country: str) -> dict[str, Any]:
    return {"request_id": str(uuid.uuid4()), "reference": reference, "country": country,
            "authority": "Customs", "issued_at": NOW,
            "reasons": [{"code": "verification"}]}  # fmt: skip


def _answer(request_id: str, reference: str, country: str) -> dict[str, Any]:
    return {"request_id": request_id, "reference": reference, "country": country,
            "authority": "Customs", "issued_at": NOW, "result": "not_confirmed",
            "reasons": [{"code": "not_confirmed", "text": "never issued"}]}  # fmt: skip


# Each document type, sent by TH, naming SG where its issuer goes: refused, for every type
# the exchange carries (a new type must say where its issuer is, see the last test).
IMPERSONATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "FORM_D": (sg_form_d(), "exporter.country"),
    "FORM_D_STATUS": (notice("cancelled", "SG"), "issuer_country"),
    "FORM_D_VERIFICATION_REQUEST": (_request(REFERENCE, "SG"), "country"),
    "FORM_D_VERIFICATION_RESPONSE": (_answer(str(uuid.uuid4()), REFERENCE, "SG"), "country"),
    "ACDD": (acdd() | {"export_country": "SG", "destination_country": "VN"}, "export_country"),
    "ACDD_RESPONSE": (
        {"declaration_id": "SG-EX-1", "country": "SG", "issued_at": NOW, "status": "matched"},
        "country",
    ),
    "ACDD_CANCELLATION": (
        {
            "declaration_id": "SG-EX-1",
            "export_country": "SG",
            "issued_at": NOW,
            "reasons": [{"code": "cancelled"}],
        },
        "export_country",
    ),
    "TARIFF_SCHEDULE": (
        {
            "country": "SG",
            "version": 1,
            "effective_date": date(2026, 12, 1),
            "issued_at": NOW,
            "currency": "SGD",
            "lines": [{"code": "85171300", "unit": "PCE", "mfn": Decimal(0), "vat": Decimal(9)}],
        },
        "country",
    ),
    "TRANSIT_RECORD": (
        {
            "mrn": "26SGSIN00000000010",
            "departure_country": "SG",
            "status": "released",
            "holder_id": "SG-1",
            "holder_name": "Lion Freight",
            "departure_office": "SGSIN",
            "transit_offices": ["MYPGU"],
            "destination_office": "THLCH",
            "released_at": NOW,
            "time_limit": date(2026, 12, 9),
            "seals": ["SGSEAL-1"],
            "items": [
                {
                    "hs_code": "85171300",
                    "description": "Phones",
                    "quantity": Decimal(1),
                    "unit": "PCE",
                    "gross_mass_kg": Decimal(1),
                }
            ],
        },
        "departure_country",
    ),
    "TRANSIT_ALERT": (
        {
            "mrn": "26SGSIN00000000010",
            "departure_country": "SG",
            "alert_id": 1,
            "kind": "door_open",
            "office": "VNHAN",
            "at": NOW,
            "detail": "door opened",
        },
        "departure_country",
    ),
    "TRANSIT_EVENT": (
        {
            "mrn": "26VNHAN00000000017",
            "country": "SG",
            "kind": "IE006",
            "office": "SGSIN",
            "at": NOW,
        },
        "country",
    ),
}


@pytest.mark.parametrize("kind", list(IMPERSONATIONS))
def test_no_document_type_names_an_issuer_other_than_its_signer(vn: VN, kind: str) -> None:
    vn.receive([(vn.sg, "FORM_D", sg_form_d(), REFERENCE)])
    payload, field = IMPERSONATIONS[kind]
    (outcome,) = vn.receive([(vn.th, kind, payload, "DOC-1")])
    assert outcome.status == "rejected" and codes(outcome) == [("not_issuer", field)]
    assert vn.certificate()["status"] == "received"


def test_every_exchanged_type_declares_its_issuer() -> None:
    types = documents.document_types()
    issuance = {name: t.issuance for name, t in types.items() if t.issuance}
    mapped = {name for name, t in types.items() if t.mapping}
    assert set(issuance) == mapped == set(IMPERSONATIONS)
    for name, spec in issuance.items():
        example, _ = IMPERSONATIONS[name]
        assert spec.about in mapped
        assert issuers._field(example, spec.reference), name  # the paths name real fields
        for path in (spec.author, spec.issuer):
            assert path is None or issuers._field(example, path) == "SG", (name, path)


def test_only_the_issuer_asked_answers_a_verification_request(vn: VN) -> None:
    vn.receive([(vn.sg, "FORM_D", sg_form_d(), REFERENCE)])
    own = th_rewrite() | {"reference": "TH-2026-000777"}  # a certificate TH did issue
    assert vn.receive([(vn.th, "FORM_D", own, "TH-2026-000777")])[0].status == "processed"
    with vn.node.transaction() as s:
        request = receiving.request_verification(
            s, SYSTEM, REFERENCE, "origin doubtful", country="VN", authority="VN Customs", now=NOW
        )
        request_id = request.request_id
    about_sg = _answer(request_id, REFERENCE, "TH")
    about_own = _answer(request_id, "TH-2026-000777", "TH")
    refused = vn.receive([(vn.th, "FORM_D_VERIFICATION_RESPONSE", p, request_id)
                          for p in (about_sg, about_own)])  # fmt: skip
    assert [codes(o) for o in refused] == [
        [("not_issuer", "reference")],  # SG's certificate: TH is not its issuer
        [("not_issuer", "request_id")],  # TH's own: but the request went to SG
    ]
    with vn.node.transaction() as s:
        kept = s.scalar(
            select(VerificationRequest).where(VerificationRequest.request_id == request_id)
        )
        assert kept is not None and (kept.status, kept.answer) == ("open", None)
    answer = _answer(request_id, REFERENCE, "SG") | {"result": "confirmed"}
    assert vn.receive([(vn.sg, "FORM_D_VERIFICATION_RESPONSE", answer, request_id)])[0].status == (
        "processed"
    )
