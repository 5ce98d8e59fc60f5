"""Pydantic I/O for risk: a registered model as the API and the CLI show it; a rule profile
as a supervisor writes it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from onewindow.kit.fields import Locode, PartyId, Printable
from onewindow.risk.models import RegisteredModel

ValuePerKg = Annotated[
    Decimal, Field(ge=0, le=Decimal("1e13"), max_digits=18, decimal_places=4, allow_inf_nan=False)
]


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


class ProfileCreate(BaseModel):
    """A rule profile: its lane, why, and the criteria an item must all meet. Which lanes,
    what is required and what a criterion may be is `service.create_profile`'s to say; this
    only keeps each field to what its column holds."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Printable, StringConstraints(max_length=80)] | None = None
    lane: str | None = None
    reason: Annotated[Printable, StringConstraints(max_length=300)] | None = None
    hs_prefix: str | None = None
    origin: str | None = None
    importer_id: PartyId | None = None
    office: Locode | None = None
    min_value_per_kg: ValuePerKg | None = None
    max_value_per_kg: ValuePerKg | None = None
