"""The ledger's self-check: does the stored log still match itself and the heads it signed?

Storage keeps each entry's fields, its leaf hash and every complete subtree's hash (see
models.py). A check reads the entries of a range in order and, for each, recomputes the leaf
hash from its fields; folds the leaf hashes into the complete subtrees as an append does and
compares each with the stored one; and at the size of every signed head in the range compares
the root so computed with the signed root (the last head's signature, too, when it is under
the node's current key). It then looks for rows past the log's size. The first problem, by
entry index, is named; `first_bad_entry` is the first entry it may concern.

- A **full** check covers every entry: what `onewindow ledger check` and
  POST /api/v1/ledger/check run. Linear, in batches: a few seconds for 200,000 entries.
- A **tail** check covers the last N entries, starting from the stored subtrees before them
  (taken as they are): what the node runs at start-up.
- Before a new head is signed, the entries since the last signed head are checked the same way
  (`before_signing`), and any failure on record refuses it.

A failure is recorded (`ledger_checks`, log event `ledger.self_check_failed`) and stands until
a full check passes: until then /health shows it and no head is signed (LedgerDamaged, 503).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from onewindow.kit import keys
from onewindow.kit.errors import LedgerDamaged
from onewindow.ledger import merkle, repository
from onewindow.ledger.encoding import LeafEntry, leaf_data, tree_head_message
from onewindow.ledger.models import LedgerCheck, LedgerEntry, LedgerNode, SignedTreeHead

log = logging.getLogger("onewindow.ledger")
BATCH = 20_000
STARTUP_TAIL = 1_000  # the entries a node checks when it starts
Progress = Callable[[int, int], None]  # (entries checked, entries to check)

_ENTRIES = (
    select(
        LedgerEntry.leaf_index,
        LedgerEntry.document_type,
        LedgerEntry.document_id,
        LedgerEntry.version,
        LedgerEntry.issuer_country,
        LedgerEntry.document_sha256,
        LedgerEntry.logged_at,
        LedgerEntry.kind,
        LedgerEntry.leaf_hash,
    )
    .where(LedgerEntry.leaf_index >= bindparam("lo"), LedgerEntry.leaf_index < bindparam("hi"))
    .order_by(LedgerEntry.leaf_index)
)
_NODES = select(LedgerNode.position, LedgerNode.hash).where(
    LedgerNode.level == bindparam("level"),
    LedgerNode.position >= bindparam("lo"),
    LedgerNode.position <= bindparam("hi"),
)
_LAST_FULL_PASS = select(func.max(LedgerCheck.id)).where(
    LedgerCheck.scope == "full", LedgerCheck.ok.is_(True)
)


@dataclass(frozen=True)
class Finding:
    """What one check found."""

    scope: str  # full, tail or serving
    from_index: int
    tree_size: int
    entries: int  # entries recomputed
    heads: int  # signed heads compared
    ok: bool
    first_bad_entry: int | None = None
    problem: str | None = None


def check(
    session: Session,
    *,
    tail: int | None = None,
    public_key: Ed25519PublicKey | None = None,
    progress: Progress | None = None,
) -> Finding:
    """Check the whole log, or its last `tail` entries; never raises on damage. Records
    nothing: see `record`."""
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise ValueError(f"tail must be a non-negative integer, not {tail!r}")
    last = repository.latest_signed_head(session)  # before the size: the log only grows
    size = repository.tree_size(session)
    start = 0 if tail is None else max(0, size - tail)
    scope = "full" if start == 0 else "tail"
    counts = [0, 0]
    try:
        _check(session, start, size, last, public_key, progress, counts)
    except LedgerDamaged as exc:
        first = exc.extra.get("first_bad_entry")
        return Finding(scope, start, size, counts[0], counts[1], False, first, exc.detail)
    return Finding(scope, start, size, counts[0], counts[1], True)


def before_signing(session: Session, public_key: Ed25519PublicKey) -> None:
    """LedgerDamaged if a new head must not be signed: a failure stands on record, or the
    entries since the last signed head (all of them before the first head) do not check."""
    failure = standing_failure(session)
    if failure is not None:
        when = _utc(failure.checked_at).strftime("%Y-%m-%d %H:%M:%SZ")
        detail = (
            f"no head is signed: the ledger failed its {failure.scope} check at {when}: "
            f"{failure.problem}; repair it, then run `onewindow ledger check`"
        )
        log.error("ledger.head_refused first_bad_entry=%s", failure.first_bad_entry)
        raise LedgerDamaged(detail, first_bad_entry=failure.first_bad_entry)
    last = repository.latest_signed_head(session)
    size = repository.tree_size(session)
    start = min(last.tree_size, size) if last is not None else 0
    try:
        _check(session, start, size, last, public_key, None, [0, 0])
    except LedgerDamaged as exc:
        first = exc.extra.get("first_bad_entry")
        log.error("ledger.self_check_failed scope=signing first_bad_entry=%s detail=%s", first, exc)
        raise


# ---- the check ----


def _bad(detail: str, first_bad_entry: int | None) -> LedgerDamaged:
    # Not logged here: a check's finding is logged once, when it is recorded or refused.
    return LedgerDamaged(detail, first_bad_entry=first_bad_entry)


def _check(
    session: Session,
    start: int,
    size: int,
    last: SignedTreeHead | None,
    public_key: Ed25519PublicKey | None,
    progress: Progress | None,
    counts: list[int],
) -> None:
    if last is not None and last.tree_size > size:
        raise _bad(
            f"the log holds {size} entries but its last signed head covers {last.tree_size}: "
            "entries were deleted",
            size,
        )
    if last is not None and public_key is not None:
        _check_signature(last, public_key)
    beyond = session.scalar(select(func.min(LedgerEntry.leaf_index)).where(
        LedgerEntry.leaf_index >= size))  # fmt: skip
    if beyond is not None:
        raise _bad(f"entry {beyond} lies beyond the log's size {size}", beyond)
    heads = list(
        session.execute(
            select(SignedTreeHead.tree_size, SignedTreeHead.root_hash)
            .where(SignedTreeHead.tree_size >= start)
            .distinct()
            .order_by(SignedTreeHead.tree_size)
        )
    )
    fold = _Fold(session, start, size, heads)
    for lo in range(start, size, BATCH):
        hi = min(lo + BATCH, size)
        problems = fold.entries(session, lo, hi)
        problems.extend(_compare_nodes(session, fold.made))
        counts[0], counts[1] = hi - start, fold.next_head
        # A row or subtree that is wrong also makes every root above it differ from its
        # signed head: name the row or subtree, and a root only when nothing else is found.
        problems = problems or fold.head_problems
        if problems:
            first, problem = min(problems)
            raise _bad(problem, first)
        if progress is not None:
            progress(hi - start, size - start)
    counts[1] = fold.next_head
    _check_nodes_beyond(session, size)


def _check_signature(head: SignedTreeHead, public_key: Ed25519PublicKey) -> None:
    if head.key_id != keys.key_id(public_key):
        return  # signed before a key rotation: its root is still compared
    message = tree_head_message(head.origin, head.tree_size, head.root_hash, _utc(head.signed_at))
    if not keys.verify(public_key, head.signature, message):
        raise _bad(
            f"the last signed head (size {head.tree_size}) does not verify with this node's "
            "key: its row was altered",
            None,
        )


def _rewritten(size: int, good_size: int) -> str:
    return (
        f"the stored log of size {size} does not have the root its signed head has: "
        f"entries {good_size}-{size - 1} were rewritten together with their stored hashes"
    )


class _Fold:
    """The right edge of the tree (one complete subtree per set bit of the size), as an append
    keeps it: each leaf pushed completes the subtrees it closes. At each signed head's size
    the root is compared with the signed one."""

    def __init__(self, session: Session, start: int, size: int, heads: list[Any]) -> None:
        edge = repository.load_nodes(session, merkle.root_nodes(start)) if start else {}
        self.stack = [(level, pos, edge[(level, pos)]) for level, pos in merkle.root_nodes(start)]
        self.size, self.heads, self.next_head = size, heads, 0
        self.good_size = 0  # the largest size whose root matched its signed head
        self.made: list[tuple[int, int, bytes]] = []  # the subtrees the last batch completed
        self.head_problems: list[tuple[int, str]] = []  # and the roots it found wrong
        problem = self._heads_at(start)
        if problem:
            raise _bad(problem[1], problem[0])

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        root = self.stack[-1][2]
        for _, _, left in reversed(self.stack[:-1]):
            root = merkle.node_hash(left, root)
        return root

    def _heads_at(self, size: int) -> tuple[int, str] | None:
        found = None
        while self.next_head < len(self.heads) and self.heads[self.next_head][0] == size:
            if found is None and self.root() != self.heads[self.next_head][1]:
                found = (self.good_size, _rewritten(size, self.good_size))
            self.next_head += 1
        if found is None:
            self.good_size = size
        return found

    def entries(self, session: Session, lo: int, hi: int) -> list[tuple[int, str]]:
        """Fold entries [lo, hi); the problems found, each with the first entry it concerns."""
        self.made = made = []
        self.head_problems = []
        problems: list[tuple[int, str]] = []
        try:
            rows = session.connection().execute(_ENTRIES, {"lo": lo, "hi": hi}).all()
        except (ValueError, TypeError) as exc:  # a value the column type cannot read back
            return [(lo, f"an entry among {lo}-{hi - 1} cannot be read: {exc}")]
        expected = lo
        sha256, node_hash, stack = hashlib.sha256, merkle.node_hash, self.stack
        for row in rows:
            index = row[0]
            if index != expected:
                break
            stored = row[8]
            if sha256(b"\x00" + _leaf(row)).digest() != stored:
                what = f"{row[1]} {row[2]} v{row[3]} {row[7]}"
                problems.append(
                    (
                        index,
                        f"entry {index} ({what}) no longer matches its leaf hash: its "
                        "row was altered after it was logged",
                    )
                )
            # Folded with the stored hash, so that one altered row is named once, not again
            # by every subtree above it.
            level, pos, value = 0, index, stored
            while stack and stack[-1][0] == level:
                left = stack.pop()[2]
                level, pos, value = level + 1, pos >> 1, node_hash(left, value)
                made.append((level, pos, value))
            stack.append((level, pos, value))
            expected = index + 1
            if self.next_head < len(self.heads) and self.heads[self.next_head][0] == expected:
                problem = self._heads_at(expected)
                if problem:
                    self.head_problems.append(problem)
        if expected != hi:
            missing = f"entry {expected} is missing (the log's size is {self.size})"
            problems.append((expected, missing))
        return problems


def _leaf(row: Any) -> bytes:
    logged_at = row[6]
    if logged_at.tzinfo is None:  # SQLite hands back naive times; they were stored as UTC
        logged_at = logged_at.replace(tzinfo=UTC)
    return leaf_data(LeafEntry(row[1], row[2], row[3], row[4], row[5], logged_at, row[7]))


def _compare_nodes(session: Session, made: list[tuple[int, int, bytes]]) -> list[tuple[int, str]]:
    """The stored subtrees that differ from the recomputed ones. A wrong subtree makes every
    one above it wrong too: only the smallest are named."""
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for level, pos, value in made:
        by_level.setdefault(level, []).append((pos, value))
    wrong: list[tuple[int, int, str]] = []  # (first entry, last entry, what)
    for level, nodes in sorted(by_level.items()):
        params = {"level": level, "lo": nodes[0][0], "hi": nodes[-1][0]}
        stored = dict(session.connection().execute(_NODES, params).all())
        for pos, value in nodes:
            first, last = pos << level, ((pos + 1) << level) - 1
            if any(a >= first and b <= last for a, b, _ in wrong):
                continue  # above one already named
            found = stored.get(pos)
            if found is None:
                wrong.append(
                    (first, last, f"the stored subtree over entries {first}-{last} is missing")
                )
            elif found != value:
                wrong.append(
                    (
                        first,
                        last,
                        f"entries {first}-{last} do not give the stored subtree hash over them: "
                        "one was rewritten with its leaf hash, or the subtree hash was altered",
                    )
                )
    return [(first, what) for first, _, what in wrong]


def _check_nodes_beyond(session: Session, size: int) -> None:
    """Stored subtrees past the log's end: left behind when entries were deleted."""
    for level in range(1, max(size.bit_length(), 1) + 1):
        stray = session.scalar(
            select(func.min(LedgerNode.position)).where(
                LedgerNode.level == level, LedgerNode.position >= size >> level
            )
        )
        if stray is not None:
            first = stray << level
            raise _bad(
                f"a stored subtree over entries {first}-{((stray + 1) << level) - 1} lies "
                f"beyond the log's size {size}: entries were deleted",
                first,
            )
    higher = session.scalar(
        select(func.min(LedgerNode.level)).where(LedgerNode.level > max(size.bit_length(), 1))
    )
    if higher is not None:
        raise _bad(
            f"a stored subtree of level {higher} is larger than the log of size {size}", size
        )


# ---- what was found, on record ----


def record(session: Session, finding: Finding, now: datetime, actor: str | None) -> LedgerCheck:
    row = LedgerCheck(
        checked_at=now,
        scope=finding.scope,
        from_index=finding.from_index,
        tree_size=finding.tree_size,
        ok=finding.ok,
        first_bad_entry=finding.first_bad_entry,
        problem=finding.problem,
        actor=actor,
    )
    session.add(row)
    session.flush()
    if finding.ok:
        log.info(
            "ledger.self_check scope=%s from=%d size=%d",
            finding.scope,
            finding.from_index,
            finding.tree_size,
        )
    else:
        log.error(
            "ledger.self_check_failed scope=%s first_bad_entry=%s detail=%s",
            finding.scope,
            finding.first_bad_entry,
            finding.problem,
        )
    return row


def record_damage(session: Session, error: LedgerDamaged, now: datetime) -> LedgerCheck | None:
    """Damage found while serving (a proof, a head to sign), on record once: not again while
    the same failure stands."""
    standing = standing_failure(session)
    first = error.extra.get("first_bad_entry")
    if standing is not None and (standing.problem == error.detail or error.detail.startswith(
        "no head is signed")):  # fmt: skip
        return None
    size = repository.tree_size(session)
    finding = Finding("serving", 0, size, 0, 0, False, first, error.detail)
    return record(session, finding, now, None)


def standing_failure(session: Session) -> LedgerCheck | None:
    """The newest failure since the last full check that passed, if any."""
    passed = session.scalar(_LAST_FULL_PASS) or 0
    return session.scalar(
        select(LedgerCheck)
        .where(LedgerCheck.ok.is_(False), LedgerCheck.id > passed)
        .order_by(LedgerCheck.id.desc())
        .limit(1)
    )


def latest(session: Session) -> LedgerCheck | None:
    """What /health shows: the standing failure, else the newest check."""
    failure = standing_failure(session)
    if failure is not None:
        return failure
    return session.scalar(select(LedgerCheck).order_by(LedgerCheck.id.desc()).limit(1))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
