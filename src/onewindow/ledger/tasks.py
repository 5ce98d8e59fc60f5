"""The witness loop: every `interval` seconds, one round over the partners' logs.

Meant to run beside the API in a daemon thread:

    threading.Thread(target=run_witness, args=(node, 60.0), daemon=True).start()

It never raises: a partner that is down, a certificate that cannot be read, even a database
error, is logged and the next round tries again.
"""

from __future__ import annotations

import logging
import threading

from onewindow import keys
from onewindow.ledger.encoding import ledger_origin
from onewindow.ledger.remote import Fetcher, HttpFetcher
from onewindow.ledger.service import HeadSigner
from onewindow.ledger.witness import Outcome, load_partners, witness_once
from onewindow.node import Node

log = logging.getLogger("onewindow.ledger")
DEFAULT_INTERVAL = 60.0


def witness_round(node: Node, fetcher: Fetcher, key: keys.NodeKey) -> list[Outcome]:
    """One round in one transaction; certificate problems are logged, not fatal."""
    now = node.clock.now()
    partners, problems = load_partners(node.settings, now)
    for problem in problems:
        log.warning("ledger.partner_certificate_ignored %s", problem)
    signer = HeadSigner(key, ledger_origin(node.settings.country), node.clock)
    with node.transaction() as session:
        return witness_once(session, partners, fetcher, signer, now)


def run_witness(
    node: Node,
    interval: float = DEFAULT_INTERVAL,
    stop: threading.Event | None = None,
    fetcher: Fetcher | None = None,
    key: keys.NodeKey | None = None,
) -> None:
    """Rounds until `stop` is set (forever without one)."""
    stop = stop or threading.Event()
    fetcher = fetcher or HttpFetcher()
    while not stop.is_set():
        try:
            signing_key = key or keys.load_or_create_key(node.settings.key_file)
            outcomes = witness_round(node, fetcher, signing_key)
            log.debug("ledger.witness_round partners=%d", len(outcomes))
        except Exception:
            log.exception("ledger.witness_round_failed")
        stop.wait(interval)
