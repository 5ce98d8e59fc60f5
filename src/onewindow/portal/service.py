"""Signing in to the portals: passwords (scrypt), sessions (a day's API token), signing out."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.kit import audit, auth
from onewindow.kit.errors import NotAuthenticated, Text, invalid
from onewindow.portal.models import Password

MIN_LENGTH = 12  # NIST SP 800-63B asks at least 8; a border post's shared screens ask more
SESSION_DAYS = 1
WRONG = Text("the username or the password is wrong")


def _digest(password: str, salt: bytes) -> bytes:
    # scrypt's recommended interactive cost (N=2^14, r=8, p=1): about 50 ms and 16 MB a try.
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=64)


def set_password(
    session: Session, username: str, password: str, now: datetime, *, actor: str = "system"
) -> None:
    if len(password) < MIN_LENGTH:
        raise invalid("password", "too_short", Text("at least {n} characters", n=MIN_LENGTH))
    user = auth.get_user(session, username)
    salt = os.urandom(16)
    row = session.scalar(select(Password).where(Password.user_id == user.id))
    if row is None:
        session.add(Password(user_id=user.id, salt=salt, digest=_digest(password, salt),
                             changed_at=now))  # fmt: skip
    else:
        row.salt, row.digest, row.changed_at = salt, _digest(password, salt), now
    audit.record(session, at=now, actor=actor, action="portal.password_set",
                 entity_type="user", entity_id=username)  # fmt: skip


def sign_in(session: Session, username: str, password: str, now: datetime) -> str:
    """A session token for the user (an API token valid for a day), or NotAuthenticated with
    the same words whether the user is unknown, the password wrong or the user disabled."""
    found = session.execute(
        select(auth.User, Password).join(Password, Password.user_id == auth.User.id)
        .where(auth.User.username == username)
    ).first()  # fmt: skip
    if found is None:
        _digest(password, b"0" * 16)  # as slow as a real check: no hint that the user exists
        raise NotAuthenticated(WRONG)
    user, stored = found
    if not hmac.compare_digest(_digest(password, stored.salt), stored.digest):
        raise NotAuthenticated(WRONG)
    if user.disabled_at is not None:
        raise NotAuthenticated(WRONG)
    token, _ = auth.issue_token(session, user, now=now, days=SESSION_DAYS)
    audit.record(session, at=now, actor=username, action="portal.signed_in",
                 entity_type="user", entity_id=username)  # fmt: skip
    return token


def sign_out(session: Session, token: str, now: datetime) -> None:
    """Revoke the session's token: the cookie, if kept, opens nothing any more."""
    auth.revoke(session, token, now)


def passwords_set(session: Session) -> dict[str, datetime]:
    """When each user that has a portal password last had it set, by username."""
    rows = session.execute(
        select(auth.User.username, Password.changed_at).join(
            Password, Password.user_id == auth.User.id
        )
    )
    return {username: changed for username, changed in rows}
