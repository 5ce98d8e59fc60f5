"""Risk tables: rule profiles written by analysts, and the registry of learned models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.kit.db import Base, UTCDateTime


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


class RegisteredModel(Base):
    """A model artifact the node may score with (risk/artifact.py describes the directory).

    At most one row is active; the partial unique index makes a second one impossible even
    when two supervisors activate at the same moment.
    """

    __tablename__ = "risk_models"
    __table_args__ = (
        Index(
            "uq_risk_models_one_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(60), unique=True)
    path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(60))
    data_from: Mapped[date | None] = mapped_column(Date)
    data_to: Mapped[date | None] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer)
    labelled: Mapped[int] = mapped_column(Integer)
    data_format: Mapped[str] = mapped_column(String(40))
    # Internal validation of the chosen settings (top-n % precision, recall, revenue, AUC).
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_by: Mapped[str | None] = mapped_column(String(60))
    # The model that was active when this one was last activated: where rollback goes.
    previous_version: Mapped[str | None] = mapped_column(String(60))
