"""Users, roles and API tokens. A token is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Enum, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from onewindow.db import Base
from onewindow.errors import Conflict, Forbidden, NotAuthenticated, invalid


class Role(enum.StrEnum):
    TRADER = "trader"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"
    ISSUING_AUTHORITY = "issuing_authority"  # issues certificates of origin (trade ministry)


OFFICIALS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR})


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    # For traders: the tax / trader identification number whose declarations they may see.
    party_id: Mapped[str | None] = mapped_column(String(35))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)


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
            raise Forbidden(f"{self.name} ({self.role.value}) may not do this; needs: {allowed}")


SYSTEM = Principal("system", Role.ADMINISTRATOR)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, username: str, role: Role, party_id: str | None) -> str:
    """Create a user and return a new API token for it (shown once)."""
    if not username or len(username) > 60:
        raise invalid("username", "length", "username must be 1 to 60 characters")
    if role is Role.TRADER and not party_id:
        raise invalid("party_id", "required", "a trader needs the party id it acts for")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=role, party_id=party_id)
    session.add(user)
    session.flush()
    return issue_token(session, user)


def issue_token(session: Session, user: User) -> str:
    token = "ow_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token)))
    return token


def authenticate(session: Session, token: str | None) -> Principal:
    if not token:
        raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")
    stmt = select(User).join(ApiToken).where(ApiToken.token_sha256 == _digest(token))
    user = session.scalar(stmt)
    if user is None:
        raise NotAuthenticated("the API token is not valid")
    return Principal(user.username, user.role, user.party_id)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def as_user(session: Session, username: str | None, fallback: str) -> Principal:
    """The CLI acts as a named user (`--as`), or as the operator of the node's host."""
    if username is None:
        return Principal(fallback, Role.ADMINISTRATOR)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotAuthenticated(f"there is no user {username!r}; see `onewindow user list`")
    return Principal(user.username, user.role, user.party_id)
