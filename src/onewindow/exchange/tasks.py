"""The delivery worker: sends the outbox after commit, with retries, and settles each message
from the partner's signed receipt.

One round: expire messages whose time to live is over (`failed`, visible to operators, retried
by `onewindow exchange retry`), claim a batch of due messages under a lease, seal the ones
never sent (the sealed bytes are stored with the outcome, so every later retry sends the same
bytes), POST them per partner, and store what came back: the receipt and its status, or the
error and the time of the next attempt (exponential backoff with jitter, capped). A worker that
dies mid-round leaves its messages `sent` under a lease; when the lease runs out another round
sends them again, and the partner answers the known message id with its stored receipt, so
nothing is lost and nothing applied twice. Several rounds run at once (`senders` threads),
which keeps a partner busy while the next batch is being sealed, and a round sends to its
partners side by side. A commit in this process that queued messages wakes the worker
(`wakeup`): polling is only for what other processes queue and for retries.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session, sessionmaker

from onewindow.exchange import envelope, repository, service, wakeup
from onewindow.exchange.gateway import View, ViewSource
from onewindow.exchange.repository import Claimed
from onewindow.exchange.transport import HttpTransport, Transport, TransportError
from onewindow.kit import db
from onewindow.kit.clock import Clock, SystemClock
from onewindow.kit.errors import OneWindowError

log = logging.getLogger("onewindow.exchange")
EXPIRY_CHECK = timedelta(seconds=5)  # how often messages past their time to live are parked
PARTNERS_AT_ONCE = 8  # partners a round sends to side by side (beyond, they take turns)


class DeliveryPolicy(BaseSettings):
    """How the worker retries; from ONEWINDOW_EXCHANGE_* variables. Times in seconds."""

    model_config = SettingsConfigDict(env_prefix="ONEWINDOW_EXCHANGE_", extra="ignore")

    retry_base: float = 2.0
    retry_cap: float = 600.0
    # Must stay well under the age partners accept (envelope.DEFAULT_MAX_AGE, 48 hours).
    ttl: float = 24 * 3600.0
    batch_size: int = 100
    batch_bytes: int = 4_000_000  # under the partner's body limit
    senders: int = 4
    poll_interval: float = 0.05
    timeout: float = 30.0
    # How long a claimed message stays with its worker: longer than any attempt (timeout,
    # sealing and settling), and how long a crashed worker's messages wait to be retried.
    lease: float = 65.0

    @property
    def lease_time(self) -> timedelta:
        return timedelta(seconds=max(self.lease, self.timeout + 1))

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        exponential = min(self.retry_cap, self.retry_base * 2 ** max(attempts - 1, 0))
        # Jitter spreads the retries of a partner that was down for everyone at once.
        return timedelta(seconds=exponential * rng.uniform(0.5, 1.0))


class DeliveryWorker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: ViewSource,
        transport: Transport | None = None,
        *,
        clock: Clock | None = None,
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.policy = policy or DeliveryPolicy()
        self.transport = transport or HttpTransport(timeout=self.policy.timeout)
        self.clock = clock or SystemClock()
        self._rng = random.Random()
        self._stop = threading.Event()
        self._more = threading.Event()
        self._wake = threading.Event()  # set when this process commits queued messages
        self._expired_at = datetime.min.replace(tzinfo=UTC)
        self._failures: dict[str, int] = {}  # consecutive failed attempts per partner
        self._resting: dict[str, datetime] = {}  # partners not tried again before then
        self._threads: list[threading.Thread] = []
        self._partner_pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # ---- one round ----

    def run_once(self) -> int:
        """Claim due messages and attempt them; return how many were attempted."""
        view = self.gateway.current()
        if not view.ready:
            return 0
        now = self.clock.now()
        p = self.policy
        with db.transaction(self.sessions) as session:
            due = repository.next_due(session)
        expire = now - self._expired_at >= EXPIRY_CHECK
        if not expire and (due is None or due > now):
            return 0  # idle: a read, no write transaction
        with db.write_transaction(self.sessions) as session:
            if expire:
                self._expired_at = now
                expired = repository.expire(session, now - timedelta(seconds=p.ttl), now)
                if expired:
                    log.warning("exchange.expired count=%d", expired)
            resting = [c for c, until in list(self._resting.items()) if until > now]
            claimed = repository.claim_due(
                session, now, now + p.lease_time, p.batch_size, exclude=resting
            )
        by_partner: dict[str, list[Claimed]] = defaultdict(list)
        for message in claimed:
            by_partner[message.receiver].append(message)
        # Each partner's batches in order, the partners side by side: one partner's round
        # trip does not wait for another's (a movement's record goes to every country at once).
        partners = list(by_partner.items())
        running = [self._pool().submit(self._deliver_all, view, *item) for item in partners[1:]]
        for item in partners[:1]:
            self._deliver_all(view, *item)
        for future in running:
            future.result()
        return len(claimed)

    def _deliver_all(self, view: View, receiver: str, messages: list[Claimed]) -> None:
        for batch in self._split(messages):
            self._deliver(view, receiver, batch)

    def _pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._partner_pool is None:
                self._partner_pool = ThreadPoolExecutor(
                    max_workers=PARTNERS_AT_ONCE, thread_name_prefix="exchange-partner"
                )
            return self._partner_pool

    def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Rounds until nothing is due (tests and one-shot commands)."""
        total = 0
        for _ in range(max_rounds):
            attempted = self.run_once()
            if not attempted:
                break
            total += attempted
        return total

    def _split(self, messages: list[Claimed]) -> list[list[Claimed]]:
        batches: list[list[Claimed]] = [[]]
        size = 0
        for m in messages:
            length = len(m.sealed or m.document) + 2048
            if batches[-1] and size + length > self.policy.batch_bytes:
                batches.append([])
                size = 0
            batches[-1].append(m)
            size += length
        return batches

    def _deliver(self, view: View, receiver: str, messages: list[Claimed]) -> None:
        now = self.clock.now()
        changes: dict[str, dict[str, Any]] = {}
        ready: list[tuple[Claimed, bytes]] = []
        digests: dict[str, str] = {}  # what each receipt must name
        for m in messages:
            try:
                if m.sealed is None:
                    sealed, digests[m.message_id] = self._seal(view, m, now)
                    changes[m.message_id] = {"sealed": sealed, "sealed_at": now}
                else:
                    sealed, digests[m.message_id] = m.sealed, envelope.digest_of(m.sealed)
            except OneWindowError as exc:  # our own document or key: retrying cannot help
                log.error("exchange.seal_failed message=%s error=%s", m.message_id, exc.detail)
                changes[m.message_id] = self._park(m, f"cannot seal: {exc.detail}", now)
                continue
            ready.append((m, sealed))
        endpoint = view.endpoint(receiver)
        if endpoint is None:
            error = f"{receiver} is not a partner in this node's configuration"
            outcomes: Sequence[bytes | str | None] = [error] * len(ready)
        else:
            try:
                outcomes = self.transport.post(endpoint, [s for _, s in ready])
                self._failures.pop(receiver, None)
                self._resting.pop(receiver, None)
            except TransportError as exc:
                outcomes = [str(exc)] * len(ready)
                self._rest(receiver, now, str(exc))
        settled_at = self.clock.now()
        for (m, _), outcome in zip(ready, outcomes, strict=True):
            change = changes.setdefault(m.message_id, {})
            change.update(self._outcome(view, m, digests[m.message_id], outcome, settled_at))
        with db.write_transaction(self.sessions) as session:
            repository.update_outgoing(
                session, [{"message_id": mid, **c} for mid, c in changes.items()]
            )
        log.info("exchange.attempted to=%s count=%d", receiver, len(messages))

    def _seal(self, view: View, m: Claimed, now: datetime) -> tuple[bytes, str]:
        assert view.signer is not None
        header = envelope.Header(
            m.message_id, m.sender, m.receiver, m.document_type, m.document_id, m.version, now
        )
        return envelope.seal_with_digest(header, m.document, view.signer)

    def _outcome(
        self, view: View, m: Claimed, digest: str, outcome: bytes | str | None, now: datetime
    ) -> dict[str, Any]:
        """Settled by a receipt that proves itself (see `service.settle`); anything else
        leaves the message on its retry schedule."""
        if isinstance(outcome, bytes):
            assert view.trust is not None
            try:
                return service.settle(
                    m.message_id,
                    outcome,
                    digest=digest,
                    trust=view.trust,
                    partner=m.receiver,
                    now=now,
                )
            except OneWindowError as exc:
                log.warning(
                    "exchange.receipt_refused message=%s partner=%s error=%s",
                    m.message_id,
                    m.receiver,
                    exc.detail,
                )
                outcome = f"the receipt does not verify: {exc.detail}"
        elif outcome is None:
            log.warning("exchange.not_received message=%s partner=%s", m.message_id, m.receiver)
        error = outcome or "the partner gave no receipt"
        retry_at = now + self.policy.delay(m.attempts, self._rng)
        return {"status": "queued", "next_attempt_at": retry_at, "last_error": error[:2000]}

    def _rest(self, receiver: str, now: datetime, error: str) -> None:
        """A partner that could not be reached is left alone for a while (backing off as
        its messages do), so that a partner down does not hold up deliveries to the others."""
        failures = self._failures.get(receiver, 0) + 1
        self._failures[receiver] = failures
        self._resting[receiver] = now + self.policy.delay(failures, self._rng)
        log.warning(
            "exchange.partner_unreachable partner=%s failures=%d error=%s",
            receiver,
            failures,
            error,
        )

    def _park(self, m: Claimed, error: str, now: datetime) -> dict[str, Any]:
        return {
            "status": "failed",
            "next_attempt_at": None,
            "completed_at": now,
            "last_error": error[:2000],
        }

    # ---- in the background ----

    def start(self) -> None:
        self._stop.clear()
        wakeup.subscribe(self._wake)
        for n in range(max(1, self.policy.senders)):
            thread = threading.Thread(
                target=self._loop, args=(n,), name=f"exchange-delivery-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._more.set()
        self._wake.set()
        wakeup.unsubscribe(self._wake)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        with self._pool_lock:
            if self._partner_pool is not None:
                self._partner_pool.shutdown(wait=True)
                self._partner_pool = None
        self.transport.close()

    def _loop(self, n: int) -> None:
        """Sender 0 polls, and wakes at once when this process commits queued messages
        (`wakeup`); the others sleep until a full batch shows there is a backlog, so an idle
        node costs one indexed read per poll interval."""
        while not self._stop.is_set():
            if n == 0:  # cleared before the round reads what is due: no commit goes unseen
                self._wake.clear()
            try:
                attempted = self.run_once()
            except Exception:  # the database away for a moment: log, wait, go on
                log.exception("exchange.delivery_round_failed")
                attempted = 0
            if attempted >= self.policy.batch_size:
                self._more.set()
            elif attempted:
                continue
            elif n == 0:
                self._more.clear()
                self._wake.wait(self.policy.poll_interval)
            else:
                self._more.wait(1.0)
