"""The certificates' REST endpoints: what each answers, field by field, and who may read
which certificate (a trader: those naming its party as importer or exporter)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.node import Node
from onewindow.origin import CertificateCreate, record_certificate

DATA = resources.files("onewindow") / "data"
APPLICATION: dict[str, Any] = json.loads((DATA / "sample_form_d_application.json").read_text())
CERT: dict[str, Any] = json.loads((DATA / "sample_certificate.json").read_text())
CERTIFICATES = "/api/v1/origin/certificates"
FIELDS = {
    "reference",
    "status",
    "source",
    "exporting_country",
    "importing_country",
    "importer_id",
    "issue_date",
    "valid_until",
    "reason",
    "replaced_by",
    "document",
    "items",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def valued(body: dict[str, Any]) -> dict[str, Any]:
    """The answer with its quantities as numbers: decimals are strings in JSON, written with
    the scale the value happens to have ("300" when issued, "300.000" once read back)."""
    items = [
        i | {k: Decimal(i[k]) for k in ("quantity", "used_quantity") if isinstance(i[k], str)}
        for i in body["items"]
    ]
    return body | {"items": items}


@pytest.fixture
def th(nodes: dict[str, Node]) -> tuple[TestClient, dict[str, str]]:
    node = nodes["TH"]
    with node.transaction() as s:
        tokens = {
            "authority": auth.create_user(s, "moc", auth.Role.ISSUING_AUTHORITY, None),
            "exporter": auth.create_user(s, "siam", auth.Role.TRADER, "0105551234567"),
            "importer": auth.create_user(s, "saigon", auth.Role.TRADER, "0101234567"),
            "other": auth.create_user(s, "hanoi", auth.Role.TRADER, "0309999999"),
            "officer": auth.create_user(s, "officer1", auth.Role.OFFICER, None),
        }
    return TestClient(create_app(node)), tokens


def test_issue_read_transmit_cancel(th: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = th
    r = client.post(CERTIFICATES, json=APPLICATION, headers=bearer(tokens["authority"]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == FIELDS
    reference = body["reference"]
    assert reference == "TH-2026-000001"
    assert [type(i["quantity"]) for i in body["items"]] == [str]  # a decimal, exact
    body = valued(body)
    assert {k: v for k, v in body.items() if k != "document"} == {
        "reference": reference,
        "status": "issued",
        "source": "issued",
        "exporting_country": "TH",
        "importing_country": "VN",
        "importer_id": "0101234567",
        "issue_date": "2026-11-12",
        "valid_until": "2027-11-12",
        "reason": None,
        "replaced_by": None,
        "items": [{"item_number": 1, "hs_code": "851713", "quantity": 300, "used_quantity": 0}],
    }
    assert body["document"]["reference"] == reference
    assert body["document"]["exporter"]["id"] == "0105551234567"
    assert body["document"]["items"][0]["quantity"] == "300"

    r = client.get(f"{CERTIFICATES}/{reference}", headers=bearer(tokens["officer"]))
    assert r.status_code == 200 and valued(r.json()) == body

    r = client.post(f"{CERTIFICATES}/{reference}/transmission", headers=bearer(tokens["exporter"]))
    assert r.status_code == 200, r.text
    assert valued(r.json()) == body | {"status": "transmitted"}

    r = client.post(
        f"{CERTIFICATES}/{reference}/cancellation",
        json={"reason": "issued in error"},
        headers=bearer(tokens["authority"]),
    )
    assert r.status_code == 200, r.text
    assert valued(r.json()) == body | {"status": "cancelled", "reason": "issued in error"}


def test_a_trader_reads_only_certificates_naming_its_party(
    th: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = th
    r = client.post(CERTIFICATES, json=APPLICATION, headers=bearer(tokens["authority"]))
    reference = r.json()["reference"]
    for who, status in (("exporter", 200), ("importer", 200), ("officer", 200), ("other", 404)):
        r = client.get(f"{CERTIFICATES}/{reference}", headers=bearer(tokens[who]))
        assert r.status_code == status, who
    assert r.headers["content-type"] == "application/problem+json"
    # Not found and not visible answer alike: a trader cannot probe for references.
    missing = client.get(f"{CERTIFICATES}/TH-2026-999999", headers=bearer(tokens["other"]))
    assert missing.status_code == 404 and missing.json()["detail"] == r.json()["detail"].replace(
        reference, "TH-2026-999999"
    )


def test_a_certificate_recorded_by_hand_is_read_by_its_importer_only(
    nodes: dict[str, Node], th: tuple[TestClient, dict[str, str]]
) -> None:
    client, tokens = th
    with nodes["TH"].transaction() as s:  # no document: no exporter party to match
        data = copy.deepcopy(CERT) | {"importing_country": "TH"}
        record_certificate(s, CertificateCreate.model_validate(data), nodes["TH"].clock.now())
    url = f"{CERTIFICATES}/{CERT['reference']}"
    r = client.get(url, headers=bearer(tokens["importer"]))
    assert r.status_code == 200, r.text
    assert r.json()["document"] is None and r.json()["source"] == "recorded"
    assert r.json()["items"] == [
        {"item_number": 1, "hs_code": "851713", "quantity": "300.000", "used_quantity": "0.000"}
    ]
    for who in ("exporter", "other"):
        assert client.get(url, headers=bearer(tokens[who])).status_code == 404, who


def test_bad_bodies_are_refused_with_every_field(th: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = th
    authority = bearer(tokens["authority"])
    r = client.post(CERTIFICATES, json=[1, 2], headers=authority)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = client.post(f"{CERTIFICATES}/X1/cancellation", json={}, headers=authority)
    assert r.status_code == 422
    assert [e["path"] for e in r.json()["errors"]] == ["reason"]
    r = client.post(
        f"{CERTIFICATES}/X1/cancellation", json={"reason": "x" * 301}, headers=authority
    )
    assert r.status_code == 422
    r = client.post(f"{CERTIFICATES}/X1/cancellation", json={"reason": "ok"}, headers=authority)
    assert r.status_code == 404
    # The API answers in English whatever language the client prefers (pages translate).
    vietnamese = authority | {"Accept-Language": "vi"}
    r = client.post(f"{CERTIFICATES}/X1/cancellation", json={"reason": "ok"}, headers=vietnamese)
    assert r.json()["detail"] == "no certificate X1 was issued here"
