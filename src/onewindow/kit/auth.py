"""Users, roles and API tokens. A token is shown once; only its SHA-256 is stored.

A token expires (`ONEWINDOW_TOKEN_DAYS` after it was issued), can be revoked, and is replaced
by rotation (a new token, the old one revoked). A disabled user's tokens stop working at once:
every request is checked against the database in one query, with no cache to go stale.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from onewindow.kit import audit
from onewindow.kit.db import Base, UTCDateTime
from onewindow.kit.errors import Conflict, Forbidden, NotAuthenticated, NotFound, Text, invalid


class Role(enum.StrEnum):
    TRADER = "trader"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"
    ISSUING_AUTHORITY = "issuing_authority"  # issues certificates of origin (trade ministry)
    ANALYST = "analyst"  # reads declarations, reports, models and statistics; changes nothing


OFFICIALS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR})
ROLE_NAMES = ", ".join(r.value for r in Role)
DEFAULT_TOKEN_DAYS = 30
# last_used_at is written at most this often per token: the lodging path authenticates every
# request, and a write per request would cost more than the request's own read.
LAST_USED_EVERY = timedelta(minutes=1)
NEW_TOKEN_HINT = "ask an administrator for a new one (`onewindow user token rotate USERNAME`)"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    # For traders: the tax / trader identification number whose declarations they may see.
    party_id: Mapped[str | None] = mapped_column(String(35))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Principal:
    """Who is acting. The service layer checks roles against this, never HTTP details."""

    name: str
    role: Role
    party_id: str | None = None

    @property
    def is_official(self) -> bool:
        return self.role in OFFICIALS

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(
                Text(
                    "{name} ({role}) may not do this; needs: {allowed}",
                    name=self.name,
                    role=self.role.value,
                    allowed=allowed,
                )
            )


SYSTEM = Principal("system", Role.ADMINISTRATOR)
# Every user's API token starts so; a machine's credential (an e-seal platform's key) never
# does, so a route for machines tells a user's token from it without asking the database.
TOKEN_PREFIX = "ow_"


def is_user_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def create_user(
    session: Session,
    username: str,
    role: Role,
    party_id: str | None,
    *,
    now: datetime | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
    actor: str = "system",
) -> str:
    """Create a user and return a new API token for it (shown once)."""
    if not username or len(username) > 60:
        raise invalid("username", "length", Text("username must be 1 to 60 characters"))
    if role is Role.TRADER and not party_id:
        raise invalid("party_id", "required", Text("a trader needs the party id it acts for"))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(Text("user {username!r} already exists", username=username))
    user = User(username=username, role=role, party_id=party_id)
    session.add(user)
    session.flush()
    at = _now(now)
    _audit(session, at, actor, "user.created", username, {"role": role.value, "party": party_id})
    token, _ = issue_token(session, user, now=at, days=days)
    return token


def issue_token(
    session: Session, user: User, *, now: datetime | None = None, days: int = DEFAULT_TOKEN_DAYS
) -> tuple[str, ApiToken]:
    if days < 1:
        raise invalid("days", "too_small", Text("a token must be valid for at least one day"))
    at = _now(now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, token_sha256=_digest(token), created_at=at, expires_at=at + timedelta(days)
    )
    session.add(row)
    session.flush()
    return token, row


_AUTH = select(
    ApiToken.id,
    ApiToken.token_sha256,
    ApiToken.expires_at,
    ApiToken.revoked_at,
    ApiToken.last_used_at,
    User.username,
    User.role,
    User.party_id,
    User.disabled_at,
).join(User, User.id == ApiToken.user_id)


def authenticate(session: Session, token: str | None, now: datetime | None = None) -> Principal:
    """The token's user, in one query; 401 for a token unknown, revoked, expired or whose user
    is disabled. Records when the token was last used (at most once a minute)."""
    found = authenticate_many(session, [token], now)[token]
    if isinstance(found, NotAuthenticated):
        raise found
    return found


def authenticate_many(
    session: Session, tokens: Sequence[str | None], now: datetime | None = None
) -> dict[str | None, Principal | NotAuthenticated]:
    """Several requests' tokens in one query (the API checks the callers of requests that
    arrive together at once): each token's user, or the 401 to answer."""
    at = _now(now)
    out: dict[str | None, Principal | NotAuthenticated] = {}
    digests = {_digest(t): t for t in set(tokens) if t}
    rows = {}
    if digests:
        stmt = _AUTH.where(ApiToken.token_sha256.in_(list(digests)))
        rows = {digests[r.token_sha256]: r for r in session.execute(stmt)}
    used: list[int] = []
    for token in tokens:
        if not token:
            out[token] = NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
            continue
        row = rows.get(token)
        out[token] = _check(row, at)
        if row is None or not isinstance(out[token], Principal):
            continue
        if row.last_used_at is None or at - row.last_used_at >= LAST_USED_EVERY:
            used.append(row.id)
    if used:
        session.execute(update(ApiToken).where(ApiToken.id.in_(used)).values(last_used_at=at))
    return out


def _check(row: Any, at: datetime) -> Principal | NotAuthenticated:
    if row is None:
        return NotAuthenticated("the API token is not valid")
    if row.revoked_at is not None:
        return NotAuthenticated(f"the API token was revoked; {NEW_TOKEN_HINT}")
    if row.disabled_at is not None:
        return NotAuthenticated(f"user {row.username!r} is disabled")
    if row.expires_at <= at:
        return NotAuthenticated(
            f"the API token expired on {row.expires_at.isoformat(timespec='seconds')}; "
            f"{NEW_TOKEN_HINT}",
            expired_at=row.expires_at.isoformat(),
        )
    return Principal(row.username, row.role, row.party_id)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:  # the users' pages show it too
        raise NotFound(
            Text("there is no user {username!r}; see `onewindow user list`", username=username)
        )
    return user


def as_user(session: Session, username: str | None, fallback: str) -> Principal:
    """The CLI acts as a named user (`--as`), or as the operator of the node's host."""
    if username is None:
        return Principal(fallback, Role.ADMINISTRATOR)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotAuthenticated(f"there is no user {username!r}; see `onewindow user list`")
    if user.disabled_at is not None:
        raise NotAuthenticated(f"user {username!r} is disabled; `onewindow user enable` it first")
    return Principal(user.username, user.role, user.party_id)


def set_disabled(
    session: Session, username: str, disabled: bool, *, actor: str, now: datetime | None = None
) -> User:
    """Disable (its tokens answer 401 from the next request) or enable a user again."""
    user = get_user(session, username)
    at = _now(now)
    if disabled and user.disabled_at is None:
        user.disabled_at = at
        _audit(session, at, actor, "user.disabled", username)
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        _audit(session, at, actor, "user.enabled", username)
    return user


def tokens_of(session: Session, username: str) -> list[ApiToken]:
    user = get_user(session, username)
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    return list(session.scalars(stmt))


def revoke_token(
    session: Session, username: str, token_id: int, *, actor: str, now: datetime | None = None
) -> ApiToken:
    user = get_user(session, username)
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"user {username!r} has no token {token_id}; see `user token list`")
    if row.revoked_at is None:
        at = _now(now)
        row.revoked_at = at
        _audit(session, at, actor, "user.token_revoked", username, {"token": token_id})
    return row


def revoke(session: Session, token: str, now: datetime | None = None) -> None:
    """Revoke a token its holder presents (signing out of a portal); unknown: nothing to do."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = _now(now)


def rotate_token(
    session: Session,
    username: str,
    *,
    actor: str,
    now: datetime | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
) -> tuple[str, ApiToken, list[int]]:
    """A new token for the user; every token it had before is revoked. Returns the new token
    (shown once), its row, and the ids revoked."""
    user = get_user(session, username)
    at = _now(now)
    old = [t for t in tokens_of(session, username) if t.revoked_at is None]
    for row in old:
        row.revoked_at = at
    token, row = issue_token(session, user, now=at, days=days)
    revoked = [t.id for t in old]
    detail = {"token": row.id, "revoked": revoked}
    _audit(session, at, actor, "user.token_rotated", username, detail)
    return token, row, revoked


def _audit(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    username: str,
    detail: dict[str, object] | None = None,
) -> None:
    audit.record(
        session, at=at, actor=actor, action=action, entity_type="user", entity_id=username,
        detail=detail,
    )  # fmt: skip
