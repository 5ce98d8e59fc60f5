"""Rule profiles: criteria written by risk analysts, each sending matches to a lane."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.db import Base


class RiskProfile(Base):
    __tablename__ = "risk_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    lane: Mapped[str] = mapped_column(String(10))  # yellow | red | blue
    reason: Mapped[str] = mapped_column(String(300))
    # Criteria; a profile matches an item when every criterion that is set matches.
    hs_prefix: Mapped[str | None] = mapped_column(String(8))
    origin: Mapped[str | None] = mapped_column(String(2))
    importer_id: Mapped[str | None] = mapped_column(String(35))
    office: Mapped[str | None] = mapped_column(String(5))
    min_value_per_kg: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    max_value_per_kg: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
