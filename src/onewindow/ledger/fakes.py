"""The fake side of `remote.Fetcher`, for tests: partner logs held in memory, answering with
the same JSON as a node's public endpoints, and a way to tamper with any answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onewindow.kit import keys
from onewindow.kit.clock import Clock
from onewindow.kit.errors import PartnerRefused, PartnerUnreachable
from onewindow.ledger import merkle
from onewindow.ledger.encoding import LeafEntry, leaf_data, ledger_origin, tree_head_message
from onewindow.ledger.models import LedgerEntry, SignedTreeHead
from onewindow.ledger.schemas import ConsistencyRead, DocumentProofsRead, SignedHeadRead
from onewindow.ledger.service import Consistency, Inclusion

Answer = Any  # JSON, an exception to raise, or a function of the log's honest answer


class MemoryLog:
    """A node's log in memory. `entries` may be replaced wholesale to fake a rewritten log."""

    def __init__(self, country: str, key: keys.NodeKey, clock: Clock) -> None:
        self.country, self.key, self.clock = country, key, clock
        self.origin = ledger_origin(country)
        self.entries: list[LeafEntry] = []

    def append(self, *entries: LeafEntry) -> None:
        self.entries.extend(entries)

    def _leaves(self, size: int | None = None) -> list[bytes]:
        return [leaf_data(e) for e in self.entries[:size]]

    def signed_head(self) -> SignedTreeHead:
        size, signed_at = len(self.entries), self.clock.now()
        root = merkle.root_hash(self._leaves())
        message = tree_head_message(self.origin, size, root, signed_at)
        return SignedTreeHead(
            tree_size=size,
            root_hash=root,
            signed_at=signed_at,
            origin=self.origin,
            key_id=self.key.key_id,
            signature=self.key.sign(message),
        )

    def head(self) -> Any:
        return SignedHeadRead.of(self.signed_head(), self.key).model_dump(mode="json")

    def consistency(self, old: int, new: int) -> Any:
        if not 0 <= old <= new <= len(self.entries):
            raise PartnerRefused(f"no consistency proof from {old} to {new}")
        leaves = self._leaves(new)
        found = Consistency(
            old_size=old,
            new_size=new,
            old_root=merkle.root_hash(leaves[:old]),
            new_root=merkle.root_hash(leaves),
            proof=merkle.consistency_proof(leaves, old),
        )
        return ConsistencyRead.of(found).model_dump(mode="json")

    def proofs(self, document_id: str, document_type: str | None) -> Any:
        sth = self.signed_head()
        leaves = self._leaves()
        found = [
            Inclusion(
                entry=_row(i, e),
                leaf_data=leaves[i],
                tree_size=len(leaves),
                proof=merkle.inclusion_proof(leaves, i),
                root_hash=sth.root_hash,
            )
            for i, e in enumerate(self.entries)
            if e.document_id == document_id
            and (document_type is None or e.document_type == document_type)
        ]
        if not found:
            raise PartnerRefused(f"document {document_id!r} is not in the ledger")
        return DocumentProofsRead.of(found, sth, self.key).model_dump(mode="json")


def _row(index: int, entry: LeafEntry) -> LedgerEntry:
    return LedgerEntry(
        leaf_index=index,
        document_type=entry.document_type,
        document_id=entry.document_id,
        version=entry.version,
        issuer_country=entry.issuer_country,
        document_sha256=entry.document_sha256,
        logged_at=entry.logged_at,
        kind=entry.kind,
        leaf_hash=merkle.leaf_hash(leaf_data(entry)),
    )


class FakeFetcher:
    """Serves `logs` by endpoint. `answers[(endpoint, "head" | "consistency" | "proofs")]`
    overrides one kind of answer: JSON to return, an exception to raise, or a function that
    gets the honest answer and returns a doctored one. Unknown endpoints are unreachable."""

    def __init__(self, logs: dict[str, MemoryLog] | None = None) -> None:
        self.logs: dict[str, MemoryLog] = dict(logs or {})
        self.answers: dict[tuple[str, str], Answer] = {}
        self.calls: list[tuple[Any, ...]] = []

    def head(self, endpoint: str) -> Any:
        self.calls.append(("head", endpoint))
        return self._answer(endpoint, "head", lambda log: log.head())

    def consistency(self, endpoint: str, old: int, new: int) -> Any:
        self.calls.append(("consistency", endpoint, old, new))
        return self._answer(endpoint, "consistency", lambda log: log.consistency(old, new))

    def proofs(self, endpoint: str, document_id: str, document_type: str | None) -> Any:
        self.calls.append(("proofs", endpoint, document_id, document_type))
        return self._answer(endpoint, "proofs", lambda log: log.proofs(document_id, document_type))

    def _answer(self, endpoint: str, what: str, honest: Callable[[MemoryLog], Any]) -> Any:
        override = self.answers.get((endpoint, what))
        if isinstance(override, BaseException):
            raise override
        if override is not None and not callable(override):
            return override
        log = self.logs.get(endpoint)
        if log is None:
            raise PartnerUnreachable(f"{endpoint}: connection refused")
        answer = honest(log)
        return override(answer) if callable(override) else answer
