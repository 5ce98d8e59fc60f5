"""What declarations use of certificates of origin: counted by origin's own `use` and `unuse`,
once per lodging batch, given back on cancellation and on amendment."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.readmodel import to_read
from onewindow.declarations.schemas import DeclarationRead
from onewindow.kit.auth import SYSTEM, Principal, Role
from onewindow.kit.node import Node
from onewindow.origin import get_certificate

TRADER = Principal("saigon", Role.TRADER, "0101234567")  # declarant of the sample declaration
ORIGIN_TABLES = re.compile(r"\bcertificate(s|_items)\b")
Doc = Callable[..., dict[str, Any]]
Lodge = Callable[..., DeclarationRead]


def used(node: Node, reference: str) -> tuple[str, Decimal]:
    with node.transaction() as s:
        cert = get_certificate(s, reference)
        assert cert is not None
        return cert.status, cert.items[0].used_quantity


def of(doc: Doc, quantity: str) -> dict[str, Any]:
    data = doc()
    data["items"][0]["quantity"] = quantity
    return data


@contextmanager
def statements(node: Node) -> Iterator[list[str]]:
    """The SQL statements run on the node's engine meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(node.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(node.engine, "before_cursor_execute", record)


def test_a_batch_counts_every_claim_in_the_same_statements_as_one(
    node: Node, doc: Doc, certificate: str
) -> None:
    counts = []
    for size in (1, 2):  # 100 each, 300 on the certificate
        with statements(node) as seen, node.transaction() as s:
            numbers = service.lodge(s, TRADER, [doc() for _ in range(size)], context(node))
            granted = [service.get(s, SYSTEM, n).items[0].preference_granted for n in numbers]
        assert granted == [True] * size
        counts.append(sum(bool(ORIGIN_TABLES.search(sql)) for sql in seen))
    # Not one more statement per declaration (the second batch finds it utilised already).
    assert counts[1] <= counts[0]
    assert used(node, certificate) == ("utilised", Decimal(300))


def test_cancelling_gives_back_what_the_declaration_used(
    node: Node, doc: Doc, lodge: Lodge, certificate: str
) -> None:
    d = lodge(of(doc, "250"), TRADER)
    assert d.items[0].preference_granted and used(node, certificate) == ("utilised", 250)
    with node.transaction() as s:
        service.cancel(s, TRADER, d.number, service.Cancellation(reason="wrong"), context(node))
    # The issuer was told it was utilised: the status stays, the quantity is free again.
    assert used(node, certificate) == ("utilised", Decimal(0))
    assert lodge(of(doc, "250"), TRADER).items[0].preference_granted


def test_an_amendment_gives_back_before_it_claims_again(
    node: Node, doc: Doc, lodge: Lodge, certificate: str
) -> None:
    d = lodge(of(doc, "250"), TRADER)
    with node.transaction() as s:  # 260 fits in 300 only once the first 250 are given back
        decl = service.amend(s, TRADER, d.number, of(doc, "260"), context(node))
        amended = to_read(decl, SYSTEM)
    assert amended.items[0].preference_granted and amended.version == 2
    assert used(node, certificate) == ("utilised", Decimal(260))
    with node.transaction() as s:  # 400 does not fit: refused, and nothing is used
        decl = service.amend(s, TRADER, d.number, of(doc, "400"), context(node))
        assert not to_read(decl, SYSTEM).items[0].preference_granted
    assert used(node, certificate) == ("utilised", Decimal(0))
