"""What the declarations' use cases need from the running node: its country, currency, clock
and lanes for lodging; its key, to sign the ledger's head that documents are proven under."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from onewindow import ledger
from onewindow.declarations.lodging import Context
from onewindow.declarations.settings import DeclarationsSettings
from onewindow.kit import keys
from onewindow.kit.node import Node
from onewindow.risk.lanes import lanes


def context(node: Node) -> Context:
    s = node.settings
    max_items = DeclarationsSettings.of(s).max_items
    selectivity = lanes(node).selectivity
    return Context(s.country, s.currency, node.clock, selectivity, max_items, frozenset(s.partners))


@lru_cache(maxsize=4)
def _node_key(path: Path) -> keys.NodeKey:
    """Loaded once per process; created on first use, as the ledger's API and CLI do."""
    return keys.load_or_create_key(path)


def head_signer(node: Node) -> ledger.HeadSigner:
    s = node.settings
    return ledger.HeadSigner(_node_key(s.key_file), ledger.ledger_origin(s.country), node.clock)
