"""The ledger's HTTP endpoints: proofs that verify with the pure module, errors as problems."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.kit import keys
from onewindow.kit.node import Node
from onewindow.ledger import api, merkle, service
from onewindow.ledger.encoding import LeafEntry, ledger_origin

KEY = keys.generate_key()


def document(i: int) -> LeafEntry:
    digest = hashlib.sha256(b"%d" % i).hexdigest()
    return LeafEntry(
        "form_d", f"VN-{i}", 1, "VN", digest, datetime(2026, 11, 20, tzinfo=UTC), "issued"
    )


@pytest.fixture
def client(node: Node) -> TestClient:
    app = create_app(node)
    app.include_router(api.router)
    signer = service.HeadSigner(KEY, ledger_origin("VN"), node.clock)
    app.dependency_overrides[api.get_signer] = lambda: signer
    with node.transaction() as session:
        service.append_many(session, [document(i) for i in range(7)])
    return TestClient(app, raise_server_exceptions=False)


def _verify_head(head: dict[str, object]) -> bytes:
    public = keys.load_public_key(base64.b64decode(str(head["public_key"])))
    signature = base64.b64decode(str(head["signature"]))
    assert keys.verify(public, signature, str(head["signed_message"]).encode())
    assert head["key_id"] == KEY.key_id
    return bytes.fromhex(str(head["root_hash"]))


def test_head_and_proof_verify(client: TestClient) -> None:
    head = client.get("/api/v1/ledger/head").json()
    assert head["tree_size"] == 7 and head["origin"] == "onewindow/VN/ledger"
    root = _verify_head(head)

    body = client.get("/api/v1/ledger/proof/VN-3").json()
    assert body["leaf_index"] == 3 and body["entry"]["document_id"] == "VN-3"
    assert body["signed_head"]["root_hash"] == head["root_hash"]
    proof = [bytes.fromhex(p) for p in body["proof"]]
    assert merkle.verify_inclusion(body["leaf_data"].encode(), 3, 7, proof, root)

    older = client.get("/api/v1/ledger/proof/VN-3", params={"tree_size": 5}).json()
    assert older["tree_size"] == 5 and older["signed_head"] is None

    c = client.get("/api/v1/ledger/consistency", params={"old": 5, "new": 7}).json()
    assert c["new_root"] == head["root_hash"]
    assert merkle.verify_consistency(
        5, 7, bytes.fromhex(c["old_root"]), root, [bytes.fromhex(p) for p in c["proof"]]
    )
    assert client.get("/api/v1/ledger/consistency", params={"old": 5}).json()["new_size"] == 7


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/ledger/proof/VN-99", 404),
        ("/api/v1/ledger/proof/" + "x" * 101, 422),
        ("/api/v1/ledger/proof/VN-1?tree_size=8", 422),
        ("/api/v1/ledger/proof/VN-1?tree_size=-1", 422),
        ("/api/v1/ledger/consistency?old=5&new=3", 422),
        ("/api/v1/ledger/consistency?old=1&new=99", 422),
        ("/api/v1/ledger/consistency?old=abc", 422),
        ("/api/v1/ledger/consistency", 422),
    ],
)
def test_bad_requests_are_problems(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
