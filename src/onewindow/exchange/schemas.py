"""What the exchange shows people, over the API and in `--json` output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from onewindow.exchange.models import Partner
from onewindow.kit.fields import Country


class ReasonRead(BaseModel):
    code: str
    text: str | None = None
    pointer: str | None = None


class MessageRead(BaseModel):
    """One message, either direction. For outgoing messages `at` is when it was queued; for
    incoming ones, when it arrived."""

    direction: Literal["out", "in"]
    message_id: str
    partner: str
    document_type: str
    document_id: str
    version: int
    status: str
    at: datetime
    attempts: int
    completed_at: datetime | None
    last_error: str | None
    reasons: list[ReasonRead] = []

    @classmethod
    def of(cls, row: Any) -> MessageRead:
        data = dict(row._mapping)
        data["reasons"] = data.get("reasons") or []
        return cls.model_validate(data)


class CountRead(BaseModel):
    partner: str
    document_type: str
    direction: Literal["out", "in"]
    status: str
    count: int


class StatsRead(BaseModel):
    """Counts per partner, document type, direction and status, as the ASEAN Regional
    Services portal reports them, with totals per direction."""

    counts: list[CountRead]
    totals: dict[str, int]

    @classmethod
    def of(cls, rows: list[Any]) -> StatsRead:
        counts = [CountRead.model_validate(dict(r._mapping)) for r in rows]
        totals = {"out": 0, "in": 0}
        for c in counts:
            totals[c.direction] += c.count
        return cls(counts=counts, totals=totals)


class PartnerRead(BaseModel):
    country: str
    endpoint: str | None
    active: bool
    key_ids: list[str]
    last_received_at: datetime | None

    @classmethod
    def of(cls, partner: Partner) -> PartnerRead:
        return cls(
            country=partner.country,
            endpoint=partner.endpoint,
            active=partner.active,
            key_ids=partner.key_ids or [],
            last_received_at=partner.last_received_at,
        )


class MessageFilter(BaseModel):
    """Which messages a list shows (GET /api/v1/exchange/messages's filters, in a page's
    address)."""

    model_config = ConfigDict(extra="forbid")

    partner: Country | None = None
    status: Annotated[str, StringConstraints(max_length=20)] | None = None
    direction: Literal["out", "in"] | None = None
