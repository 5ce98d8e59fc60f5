"""`verify`: a document checked with only the federation root and the issuer's endpoint.
Every way a document, a certificate or the issuer's answers can be wrong is a failed check."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onewindow.kit import keys
from onewindow.kit.authority import create_authority, issue_node_certificate
from onewindow.kit.certificates import certificate_pem
from onewindow.kit.clock import FixedClock
from onewindow.kit.errors import PartnerUnreachable
from onewindow.ledger.encoding import LeafEntry
from onewindow.ledger.fakes import FakeFetcher, MemoryLog
from onewindow.ledger.schemas import VerifiableDocument
from onewindow.ledger.verify import Check, make_verifiable, passed, verify

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
URL = "http://th.test"
TH_KEY = keys.generate_key()
AUTHORITY = create_authority(now=NOW - timedelta(days=30))
CA = AUTHORITY.certificate
TH_CERT = certificate_pem(
    issue_node_certificate(AUTHORITY, "TH", TH_KEY.public_key, now=NOW - timedelta(days=1))
)
BODY = b"<FormD><Reference>TH-2026-000123</Reference><Exporter>Siam Devices</Exporter></FormD>"
NAMES = ["format", "certificate", "signature", "hash", "log_head", "inclusion", "not_revoked"]


def issued(body: bytes = BODY, **fields: Any) -> dict[str, Any]:
    doc = make_verifiable(
        body,
        document_type=fields.get("document_type", "FORM_D"),
        document_id=fields.get("document_id", "TH-2026-000123"),
        version=fields.get("version", 1),
        issuer_country="TH",
        issuer_endpoint=URL,
        key=TH_KEY,
        certificate_pem=TH_CERT,
        media_type="application/xml",
    )
    return doc.model_dump(mode="json")


def entry(doc: dict[str, Any], kind: str = "issued", digest: str | None = None) -> LeafEntry:
    return LeafEntry(
        doc["document_type"],
        doc["document_id"],
        doc["version"],
        "TH",
        digest or doc["document_sha256"],
        NOW - timedelta(hours=1),
        kind,
    )


@pytest.fixture
def th() -> MemoryLog:
    log = MemoryLog("TH", TH_KEY, FixedClock(NOW))
    for i in range(6):
        digest = hashlib.sha256(b"%d" % i).hexdigest()
        log.append(LeafEntry("FORM_D", f"TH-OTHER-{i}", 1, "TH", digest, NOW, "issued"))
    return log


@pytest.fixture
def doc(th: MemoryLog) -> dict[str, Any]:
    doc = issued()
    th.append(entry(doc))
    th.append(LeafEntry("FORM_D", "TH-LATER", 1, "TH", "ab" * 32, NOW, "issued"))
    return doc


@pytest.fixture
def fetcher(th: MemoryLog) -> FakeFetcher:
    return FakeFetcher({URL: th})


def check(doc: Any, fetcher: FakeFetcher, **kwargs: Any) -> dict[str, Check]:
    kwargs.setdefault("ca", CA)
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("endpoint", URL)  # the verifier's configured partner endpoint
    checks = verify(doc, fetcher=fetcher, **kwargs)
    return {c.check: c for c in checks}


def failed(checks: dict[str, Check]) -> set[str]:
    return {name for name, c in checks.items() if not c.ok}


def test_an_issued_document_verifies(doc: dict[str, Any], fetcher: FakeFetcher) -> None:
    checks = check(doc, fetcher)
    assert list(checks) == NAMES
    assert not failed(checks), checks
    assert checks["inclusion"].detail.startswith("leaf 6 of 8")
    assert passed(list(checks.values()))
    text = VerifiableDocument.model_validate(doc).model_dump_json()
    assert not failed(check(text.encode(), fetcher))  # as a file's bytes too


def test_a_text_document_verifies(th: MemoryLog, fetcher: FakeFetcher) -> None:
    doc = issued()
    th.append(entry(doc))
    doc = dict(doc, document_encoding="utf-8", document=BODY.decode())
    assert not failed(check(doc, fetcher))


@pytest.mark.parametrize("position", [0, 20, len(BODY) - 1])
def test_altered_by_one_byte(doc: dict[str, Any], fetcher: FakeFetcher, position: int) -> None:
    body = bytearray(BODY)
    body[position] ^= 0x01
    altered = dict(doc, document=base64.b64encode(bytes(body)).decode())
    checks = check(altered, fetcher)
    assert failed(checks) == {"signature", "hash", "inclusion"}
    assert "altered" in checks["hash"].detail
    assert "this document hashes to" in checks["inclusion"].detail


def test_altered_with_a_matching_hash(doc: dict[str, Any], fetcher: FakeFetcher) -> None:
    body = BODY.replace(b"Siam", b"Sian")
    altered = dict(
        doc,
        document=base64.b64encode(body).decode(),
        document_sha256=hashlib.sha256(body).hexdigest(),
    )
    assert failed(check(altered, fetcher)) == {"signature", "inclusion"}


def test_claimed_hash_altered(doc: dict[str, Any], fetcher: FakeFetcher) -> None:
    assert failed(check(dict(doc, document_sha256="00" * 32), fetcher)) == {"hash"}
    assert failed(check(dict(doc, document_sha256="garbage"), fetcher)) == {"hash"}


def test_revoked(doc: dict[str, Any], th: MemoryLog, fetcher: FakeFetcher) -> None:
    th.append(entry(doc, "revoked"))
    checks = check(doc, fetcher)
    assert failed(checks) == {"not_revoked"}
    assert checks["not_revoked"].detail.startswith("revoked: leaf 8")


def test_a_revocation_with_a_failing_proof_is_not_ignored(
    doc: dict[str, Any], th: MemoryLog, fetcher: FakeFetcher
) -> None:
    th.append(entry(doc, "revoked"))

    def break_revocation(answer: dict[str, Any]) -> dict[str, Any]:
        last = answer["entries"][-1]
        last["proof"] = ["00" * 32 for _ in last["proof"]]
        return answer

    fetcher.answers[(URL, "proofs")] = break_revocation
    checks = check(doc, fetcher)
    assert failed(checks) == {"not_revoked"}
    assert "proof that fails" in checks["not_revoked"].detail


def test_other_versions_and_other_documents(th: MemoryLog, fetcher: FakeFetcher) -> None:
    doc = issued(version=2)
    th.append(entry(dict(doc, version=1)))  # only v1 was logged
    assert failed(check(doc, fetcher)) == {"inclusion"}
    unknown = issued(document_id="TH-NEVER-LOGGED")
    checks = check(unknown, fetcher)
    assert failed(checks) == {"inclusion", "not_revoked"}
    assert "has no entry for TH-NEVER-LOGGED" in checks["inclusion"].detail


def _other_authority_cert() -> bytes:
    other = create_authority("Elsewhere", now=NOW - timedelta(days=30))
    return certificate_pem(
        issue_node_certificate(other, "TH", TH_KEY.public_key, now=NOW - timedelta(days=1))
    )


@pytest.mark.parametrize(
    ("change", "kwargs", "expected"),
    [
        ({"certificate": "not a certificate"}, {}, "not a PEM certificate"),
        ({}, {"ca": None}, "no federation CA certificate"),
        ({}, {"now": NOW + timedelta(days=800)}, "the certificate expired"),
        ({}, {"now": NOW - timedelta(days=10)}, "the certificate is not valid before"),
        ({"issuer_country": "VN"}, {}, "the certificate is for TH, not VN"),
        ({"certificate": _other_authority_cert().decode()}, {}, "not issued by the federation CA"),
        ({"certificate": certificate_pem(CA).decode()}, {"ca": CA}, "not a node certificate"),
    ],
)
def test_untrusted_certificates(
    doc: dict[str, Any], fetcher: FakeFetcher, change: Any, kwargs: Any, expected: str
) -> None:
    checks = check(dict(doc, **change), fetcher, **kwargs)
    assert "certificate" in failed(checks)
    assert expected in checks["certificate"].detail


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ({"value": "bm90IGEgc2lnbmF0dXJl"}, "does not match"),
        ({"value": "%%%"}, "not valid base64"),
        ({"value": ""}, "does not match"),
        ({"key_id": "0000000000000000"}, "signed by key"),
        ({"algorithm": "RSA"}, "is not Ed25519"),
    ],
)
def test_bad_signatures(
    doc: dict[str, Any], fetcher: FakeFetcher, signature: Any, expected: str
) -> None:
    bad = dict(doc, signature=dict(doc["signature"], **signature))
    checks = check(bad, fetcher)
    assert failed(checks) == {"signature"}
    assert expected in checks["signature"].detail


def _head(tamper: Any) -> Any:
    def change(answer: dict[str, Any]) -> dict[str, Any]:
        answer["signed_head"] = tamper(answer["signed_head"])
        return answer

    return change


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda h: dict(h, signature=_flip(h["signature"])), "bad signature"),
        (lambda h: dict(h, root_hash="11" * 32), "bad signature"),
        (lambda h: dict(h, tree_size=h["tree_size"] - 1), "bad signature"),
        (lambda h: dict(h, key_id="ffffffffffffffff"), "not the issuer's"),
        (lambda h: dict(h, origin="onewindow/VN/ledger"), "not 'onewindow/TH/ledger'"),
    ],
)
def test_head_not_signed_by_the_issuer(
    doc: dict[str, Any], fetcher: FakeFetcher, tamper: Any, expected: str
) -> None:
    fetcher.answers[(URL, "proofs")] = _head(tamper)
    checks = check(doc, fetcher)
    assert failed(checks) == {"log_head", "inclusion", "not_revoked"}
    assert expected in checks["log_head"].detail
    assert checks["inclusion"].detail.startswith("not checked")


def _ours(tamper: Any) -> Any:
    def change(answer: dict[str, Any]) -> dict[str, Any]:
        for e in answer["entries"]:
            tamper(e)
        return answer

    return change


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e.update(leaf_index=e["leaf_index"] + 1),
        lambda e: e.update(leaf_index=10**6),
        lambda e: e.update(tree_size=e["tree_size"] + 1),
        lambda e: e.update(proof=e["proof"][:-1]),
        lambda e: e.update(proof=[*e["proof"], "00" * 32]),
        lambda e: e.update(proof=[]),
        lambda e: e.update(proof=list(reversed(e["proof"]))),
        lambda e: e.update(leaf_data=e["leaf_data"].replace('"v":1', '"v": 1')),
        lambda e: e.update(leaf_data=e["leaf_data"].replace("TH-2026", "TH-2027")),
    ],
)
def test_proofs_that_do_not_hold(doc: dict[str, Any], fetcher: FakeFetcher, tamper: Any) -> None:
    fetcher.answers[(URL, "proofs")] = _ours(tamper)
    checks = check(doc, fetcher)
    assert failed(checks) == {"inclusion"}, checks


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e.update(proof=["zz" * 32]),
        lambda e: e.update(proof=["00" * 31]),
        lambda e: e.update(proof="00" * 32),
        lambda e: e.update(proof=["00" * 32] * 500),
        lambda e: e.update(leaf_index=-1),
        lambda e: e.update(leaf_index="6"),
        lambda e: e.update(leaf_data="not json"),
        lambda e: e.update(leaf_data="[1, 2]"),
        lambda e: e.pop("tree_size"),
    ],
)
def test_garbage_proofs(doc: dict[str, Any], fetcher: FakeFetcher, tamper: Any) -> None:
    fetcher.answers[(URL, "proofs")] = _ours(tamper)
    checks = check(doc, fetcher)
    assert failed(checks) == {"log_head", "inclusion", "not_revoked"}
    assert "malformed answer" in checks["inclusion"].detail


@pytest.mark.parametrize(
    "answer",
    [PartnerUnreachable("http://th.test: connection refused"), [], {"entries": []}, "x"],
)
def test_issuer_log_unreachable_or_garbage(
    doc: dict[str, Any], fetcher: FakeFetcher, answer: Any
) -> None:
    fetcher.answers[(URL, "proofs")] = answer
    checks = check(doc, fetcher)
    assert failed(checks) == {"log_head", "inclusion", "not_revoked"}


def test_no_endpoint(doc: dict[str, Any], fetcher: FakeFetcher) -> None:
    checks = check(dict(doc, issuer_endpoint=None), fetcher, endpoint=None)
    assert failed(checks) == {"log_head", "inclusion", "not_revoked"}
    assert "no public endpoint" in checks["log_head"].detail
    assert not failed(check(dict(doc, issuer_endpoint="http://x"), fetcher, endpoint=URL))


def test_the_documents_own_endpoint_is_never_asked(
    doc: dict[str, Any], fetcher: FakeFetcher
) -> None:
    """The document names its issuer's log (URL, which would answer): without a configured
    endpoint nothing is asked, rather than whatever address a forger wrote in."""
    assert doc["issuer_endpoint"] == URL
    checks = check(doc, fetcher, endpoint=None)
    assert failed(checks) == {"log_head", "inclusion", "not_revoked"}
    assert "no public endpoint" in checks["log_head"].detail
    assert fetcher.calls == []


def test_an_untrusted_issuer_is_never_asked(doc: dict[str, Any], fetcher: FakeFetcher) -> None:
    checks = check(doc, fetcher, ca=None)
    assert failed(checks) == {"certificate", "log_head", "inclusion", "not_revoked"}
    assert checks["log_head"].detail == "not asked: the issuer's certificate is not trusted"
    assert fetcher.calls == []


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"[]",
        b"null",
        b'{"format": "onewindow.verifiable/1"}',
        "\ufeff{}".encode(),
        b"\xff\xfe garbage",
    ],
)
def test_not_a_verifiable_document(fetcher: FakeFetcher, raw: bytes) -> None:
    checks = check(raw, fetcher)
    assert list(checks) == ["format"] and failed(checks) == {"format"}


@pytest.mark.parametrize(
    "change",
    [
        {"version": "1"},
        {"version": 0},
        {"issuer_country": "th"},
        {"document_encoding": "hex"},
        {"signature": "abc"},
        {"format": "other/2"},
        {"document_id": ""},
    ],
)
def test_wrong_fields(doc: dict[str, Any], fetcher: FakeFetcher, change: Any) -> None:
    assert failed(check(dict(doc, **change), fetcher)) == {"format"}


def test_document_not_base64(doc: dict[str, Any], fetcher: FakeFetcher) -> None:
    checks = check(dict(doc, document="!!not base64!!"), fetcher)
    assert failed(checks) == set(NAMES) - {"format", "certificate"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(sorted(issued())), value=json_values)
def test_any_field_replaced_by_any_json_never_raises(
    doc: dict[str, Any], fetcher: FakeFetcher, field: str, value: Any
) -> None:
    checks = check(dict(doc, **{field: value}), fetcher)
    assert checks["format"].ok is False or all(isinstance(c.ok, bool) for c in checks.values())


def test_certificate_must_match_the_signing_key() -> None:
    with pytest.raises(Exception, match="does not certify"):
        make_verifiable(
            BODY,
            document_type="FORM_D",
            document_id="X",
            version=1,
            issuer_country="TH",
            issuer_endpoint=URL,
            key=keys.generate_key(),
            certificate_pem=TH_CERT,
        )
