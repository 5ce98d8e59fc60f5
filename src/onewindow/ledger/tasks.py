"""The ledger's work beside the API: the start-up self-check, damage found while serving put
on record, and the witness loop.

The witness loop, every `interval` seconds one round over the partners' logs, is meant to run
in a daemon thread:

    threading.Thread(target=run_witness, args=(node, 60.0), daemon=True).start()

It never raises: a partner that is down, a certificate that cannot be read, even a database
error, is logged and the next round tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from onewindow.kit import keys
from onewindow.kit.errors import ConfigurationError, LedgerDamaged
from onewindow.kit.node import Node
from onewindow.ledger import selfcheck
from onewindow.ledger.encoding import ledger_origin
from onewindow.ledger.remote import Fetcher, HttpFetcher
from onewindow.ledger.schemas import LedgerHealth
from onewindow.ledger.service import HeadSigner
from onewindow.ledger.witness import Outcome, load_partners, witness_once

log = logging.getLogger("onewindow.ledger")
DEFAULT_INTERVAL = 60.0


def check_at_start(node: Node, tail: int = selfcheck.STARTUP_TAIL) -> selfcheck.Finding:
    """The self-check of the log's last `tail` entries, on record (GET /api/v1/health shows
    it). A node whose ledger fails still starts: it serves everything but new signed heads."""
    try:  # the last head's signature too, with the node's key if it has one yet
        public_key = keys.load_key(node.settings.key_file).public_key
    except ConfigurationError:
        public_key = None
    with node.transaction() as session:
        found = selfcheck.check(session, tail=tail, public_key=public_key)
        selfcheck.record(session, found, node.clock.now(), "start-up")
    return found


@asynccontextmanager
async def lifespan(node: Node) -> AsyncIterator[None]:
    """Before serving: the self-check at start-up (GET /api/v1/health shows it)."""
    await to_thread.run_sync(check_at_start, node)
    yield


def health(node: Node) -> LedgerHealth:
    """What GET /api/v1/health shows of the ledger: a standing failure, else the last check."""
    try:
        with node.transaction() as session:
            return LedgerHealth.of(selfcheck.latest(session))
    except SQLAlchemyError:
        log.exception("ledger.health_unknown")
        return LedgerHealth(status="unknown", problem="the database did not answer")


@contextmanager
def damage_recorded(node: Node) -> Iterator[Session]:
    """A transaction of a ledger command or request. Damage found on the way (LedgerDamaged)
    is put on record in a transaction of its own, since this one is rolled back, then raised
    on (a 503 `ledger_damaged`, or the command's error)."""
    try:
        with node.transaction() as session:
            yield session
    except LedgerDamaged as exc:
        try:
            with node.transaction() as session:
                selfcheck.record_damage(session, exc, node.clock.now())
        except Exception:  # the record is a courtesy: the answer is the damage either way
            log.exception("ledger.damage_not_recorded")
        raise


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
