"""Pydantic I/O for risk: a registered model as the API and the CLI show it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from onewindow.risk.models import RegisteredModel


class ModelRead(BaseModel):
    version: str
    active: bool
    created_at: datetime
    registered_at: datetime
    registered_by: str
    data_from: date | None
    data_to: date | None
    rows: int
    labelled: int
    data_format: str
    metrics: dict[str, Any]  # internal validation of the chosen settings, illicit rate
    activated_at: datetime | None
    activated_by: str | None
    previous_version: str | None  # where `risk rollback` goes from this one

    @classmethod
    def of(cls, m: RegisteredModel) -> ModelRead:
        # The artifact's path on the node's disk is left out: it tells an API caller nothing.
        return cls.model_validate(m, from_attributes=True)
