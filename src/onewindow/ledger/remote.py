"""Other nodes' logs, as seen through their public ledger endpoints.

`Fetcher` is the external system: `HttpFetcher` asks a node over HTTP, `LocalFetcher` answers
from this node's own database (so a node checks its own documents without calling itself),
and `onewindow.ledger.fakes.FakeFetcher` serves in-memory logs to tests. A fetcher returns the
JSON as received; the `parse_*` functions below trust none of it and turn anything malformed
into `PartnerAnswerMalformed`, which callers report as a failed check, never a traceback.

PartnerError (502)
├── PartnerUnreachable        no answer, or a 5xx: try again later
├── PartnerRefused            a 4xx: the node answered and said no (e.g. no such tree size)
└── PartnerAnswerMalformed    an answer that is not what the endpoint promises
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import orjson
from sqlalchemy.orm import Session

from onewindow.kit import tls
from onewindow.kit.config import PartnerConfig, get_settings
from onewindow.kit.errors import (
    OneWindowError,
    PartnerAnswerMalformed,
    PartnerRefused,
    PartnerUnreachable,
)
from onewindow.ledger import service
from onewindow.ledger.encoding import tree_head_message
from onewindow.ledger.schemas import ConsistencyRead, DocumentProofsRead, SignedHeadRead

MAX_ANSWER_BYTES = 5_000_000
MAX_PROOF_LENGTH = 130  # 2 * 64 levels and change: no real proof is longer
MAX_ENTRIES = 1000
TIMEOUT = 10.0


class Fetcher(Protocol):
    def head(self, endpoint: str) -> Any: ...

    def consistency(self, endpoint: str, old: int, new: int) -> Any: ...

    def proofs(self, endpoint: str, document_id: str, document_type: str | None) -> Any: ...


# ---- what the answers mean ----


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head as another node presented it; nothing about it is checked yet."""

    origin: str
    tree_size: int
    root_hash: bytes
    signed_at: datetime
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return tree_head_message(self.origin, self.tree_size, self.root_hash, self.signed_at)


@dataclass(frozen=True)
class ProvenEntry:
    leaf_data: bytes
    leaf_index: int
    tree_size: int
    proof: list[bytes]
    fields: dict[str, Any]  # leaf_data parsed: what the leaf hash actually covers


def _bad(what: str) -> PartnerAnswerMalformed:
    return PartnerAnswerMalformed(f"malformed answer: {what}")


def _field(body: Any, name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(body, dict):
        raise _bad(f"{where} is not a JSON object")
    value = body.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _bad(f"{where}.{name} is missing or of the wrong type")
    return value


def _size(body: Any, name: str, where: str) -> int:
    value: int = _field(body, name, int, where)
    if not 0 <= value < 2**63:
        raise _bad(f"{where}.{name} is out of range")
    return value


def _hash(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise _bad(f"{where} is not a 64-digit hex hash")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise _bad(f"{where} is not a 64-digit hex hash") from None


def _hashes(body: Any, name: str, where: str) -> list[bytes]:
    values = _field(body, name, list, where)
    if len(values) > MAX_PROOF_LENGTH:
        raise _bad(f"{where}.{name} has {len(values)} hashes; no proof is that long")
    return [_hash(v, f"{where}.{name}[{i}]") for i, v in enumerate(values)]


def parse_head(body: Any, where: str = "head") -> Checkpoint:
    """A head's fields. A signature that does not even decode is kept as empty bytes: it is
    then a bad signature, which is what it is, rather than a malformed answer."""
    origin = _field(body, "origin", str, where)
    signed_text = _field(body, "signed_at", str, where)
    try:
        signed_at = datetime.fromisoformat(signed_text)
    except ValueError:
        raise _bad(f"{where}.signed_at is not an ISO 8601 time") from None
    if signed_at.utcoffset() is None:
        raise _bad(f"{where}.signed_at has no time zone")
    key_id = _field(body, "key_id", str, where)[:64]
    try:
        signature = base64.b64decode(_field(body, "signature", str, where)[:200], validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    checkpoint = Checkpoint(
        origin=origin[:200],
        tree_size=_size(body, "tree_size", where),
        root_hash=_hash(_field(body, "root_hash", str, where), f"{where}.root_hash"),
        signed_at=signed_at,
        key_id=key_id,
        signature=signature,
    )
    try:
        checkpoint.message()
    except ValueError as exc:
        raise _bad(f"{where}.origin: {exc}") from None
    return checkpoint


def parse_consistency(body: Any, old: int, new: int) -> list[bytes]:
    if (
        _size(body, "old_size", "consistency") != old
        or _size(body, "new_size", "consistency") != new
    ):
        raise _bad(f"the consistency proof is not for sizes {old} and {new}")
    return _hashes(body, "proof", "consistency")


def _proven_entry(body: Any, where: str) -> ProvenEntry:
    data = _field(body, "leaf_data", str, where).encode()
    try:
        fields = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise _bad(f"{where}.leaf_data is not JSON") from None
    if not isinstance(fields, dict):
        raise _bad(f"{where}.leaf_data is not a JSON object")
    return ProvenEntry(
        leaf_data=data,
        leaf_index=_size(body, "leaf_index", where),
        tree_size=_size(body, "tree_size", where),
        proof=_hashes(body, "proof", where),
        fields=fields,
    )


def parse_proofs(body: Any) -> tuple[Checkpoint, list[ProvenEntry]]:
    """The signed head and every entry of one document, each with its inclusion proof."""
    head = parse_head(_field(body, "signed_head", dict, "proofs"), "proofs.signed_head")
    entries = _field(body, "entries", list, "proofs")
    if len(entries) > MAX_ENTRIES:
        raise _bad(f"{len(entries)} entries for one document")
    return head, [_proven_entry(e, f"proofs.entries[{i}]") for i, e in enumerate(entries)]


# ---- fetchers ----


class HttpFetcher:
    """GET on a node's public ledger endpoints. Answers are capped in size; redirects are not
    followed (a node's endpoint is configured, not discovered). Over mutual TLS with the
    federation CA, the partner's certificate naming the partner (onewindow.kit.tls); by default
    with the node's settings."""

    def __init__(
        self,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        *,
        security: tls.ClientSecurity | None = None,
        partners: Mapping[str, PartnerConfig] | None = None,
    ):
        if transport is None:
            known = get_settings().partners if partners is None else partners
            security = security or tls.ClientSecurity.of(get_settings())
            transport = tls.NodeTransport(security, lambda: known)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def head(self, endpoint: str) -> Any:
        return self._get(endpoint, "/api/v1/ledger/head", {})

    def consistency(self, endpoint: str, old: int, new: int) -> Any:
        return self._get(endpoint, "/api/v1/ledger/consistency", {"old": old, "new": new})

    def proofs(self, endpoint: str, document_id: str, document_type: str | None) -> Any:
        params = {"document_type": document_type} if document_type else {}
        return self._get(endpoint, f"/api/v1/ledger/proofs/{quote(document_id, safe='')}", params)

    def _get(self, endpoint: str, path: str, params: dict[str, Any]) -> Any:
        url = endpoint.rstrip("/") + path
        try:
            with self._client.stream("GET", url, params=params) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise _bad(f"{url} answered more than {MAX_ANSWER_BYTES} bytes")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise PartnerUnreachable(f"{url}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 500:
            raise PartnerUnreachable(f"{url} answered {response.status_code}")
        if response.status_code != 200:
            raise PartnerRefused(f"{url} answered {response.status_code}: {_detail(body)}")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise _bad(f"{url} did not answer JSON") from None


def _detail(body: bytes | bytearray) -> str:
    try:
        problem = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode(errors="replace")
    if isinstance(problem, dict) and isinstance(problem.get("detail"), str):
        return str(problem["detail"])[:300]
    return body[:200].decode(errors="replace")


class LocalFetcher:
    """This node's own log, answered from its database in the caller's transaction."""

    def __init__(self, session: Session, signer: service.HeadSigner) -> None:
        self.session, self.signer = session, signer

    def head(self, endpoint: str) -> Any:
        sth = service.current_signed_head(self.session, self.signer)
        return SignedHeadRead.of(sth, self.signer.key).model_dump(mode="json")

    def consistency(self, endpoint: str, old: int, new: int) -> Any:
        try:
            found = service.consistency(self.session, old, new)
        except OneWindowError as exc:
            raise PartnerRefused(exc.detail) from None
        return ConsistencyRead.of(found).model_dump(mode="json")

    def proofs(self, endpoint: str, document_id: str, document_type: str | None) -> Any:
        try:
            found, sth = service.prove_document(
                self.session, self.signer, document_id, document_type
            )
        except OneWindowError as exc:
            raise PartnerRefused(exc.detail) from None
        return DocumentProofsRead.of(found, sth, self.signer.key).model_dump(mode="json")
