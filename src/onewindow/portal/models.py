"""The portals' own table: the password a user signs in with (the API keeps its tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base, UTCDateTime


class Password(Base):
    __tablename__ = "portal_passwords"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(64))  # scrypt of the password
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
