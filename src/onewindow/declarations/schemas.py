"""Pydantic I/O for declarations. The input shape is the one traders send (see the README)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onewindow.kit.fields import (
    CertificateRef,
    CorrectedValue,
    Country,
    Currency,
    HsLine,
    Incoterm,
    Locode,
    PartyId,
    Reference,
    Text100,
    Text200,
    Text300,
    Text500,
    Text1000,
    Unit,
)

Amount = Annotated[
    Decimal, Field(gt=0, le=Decimal("1e12"), max_digits=18, decimal_places=2, allow_inf_nan=False)
]
Quantity = Annotated[
    Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=15, decimal_places=3, allow_inf_nan=False)
]
Mass = Annotated[
    Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=15, decimal_places=3, allow_inf_nan=False)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Party(Strict):
    id: PartyId | None = None
    name: Text200
    address: Text300 | None = None
    country: Country | None = None


class Declarant(Strict):
    id: PartyId
    name: Text200


class Transport(Strict):
    mode: Literal["0", "1", "2", "3", "4", "5", "7", "8", "9"]
    arrival_date: date | None = None
    departure_date: date | None = None
    port_of_loading: Locode | None = None
    port_of_discharge: Locode | None = None
    vessel: Text100 | None = None


class Invoice(Strict):
    number: Reference
    date: date
    currency: Currency
    incoterm: Incoterm | None = None


class Preference(Strict):
    scheme: Literal["ATIGA"]
    certificate: CertificateRef


class ItemCreate(Strict):
    hs_code: HsLine
    description: Text500
    origin: Country
    quantity: Quantity
    unit: Unit
    net_mass_kg: Mass
    gross_mass_kg: Mass
    customs_value: Amount
    preference: Preference | None = None


class DeclarationCreate(Strict):
    type: Literal["IM", "EX"]
    office: Locode
    country_of_export: Country
    country_of_destination: Country | None = None
    declarant: Declarant
    importer: Party
    exporter: Party
    transport: Transport
    invoice: Invoice
    items: list[ItemCreate] = Field(min_length=1, max_length=999)


class TaxLineRead(BaseModel):
    tax: str
    base: Decimal
    rate: Decimal
    amount: Decimal
    rate_kind: str


class ItemRead(BaseModel):
    seq: int
    hs_code: str
    description: str
    origin: str
    quantity: Decimal
    unit: str
    net_mass_kg: Decimal
    gross_mass_kg: Decimal
    customs_value: Decimal
    value_national: Decimal
    preference_certificate: str | None
    preference_granted: bool | None
    preference_reason: str | None
    taxes: list[TaxLineRead]


class RiskRead(BaseModel):
    score: float | None
    reasons: list[str]
    random: bool


class ControlRead(BaseModel):
    kind: str
    officer: str
    result: str
    note: str | None
    at: datetime
    # Inspection findings: the corrections, what was declared, the amount due before and after.
    detail: dict[str, Any] | None = None


class DeclarationRead(BaseModel):
    number: str
    version: int
    type: str
    status: str
    channel: str
    office: str
    declarant_id: str
    importer_id: str | None
    importer_name: str
    exporter_name: str
    country_of_export: str
    country_of_destination: str | None
    goods_date: date
    currency: str
    exchange_rate: Decimal
    national_currency: str
    items: list[ItemRead]
    totals: dict[str, Decimal]
    risk: RiskRead | None  # None for a trader: the lane is theirs to know, not why
    next_step: str
    controls: list[ControlRead]
    lodged_at: datetime
    released_at: datetime | None
    clearance_seconds: float | None
    # The export's ACDD this import was matched to (pre-arrival information), if any.
    pre_arrival: str | None = None


class DocumentCheck(Strict):
    decision: Literal["accept", "inspect"]
    note: Text1000 | None = None


class Correction(Strict):
    item: int = Field(ge=1, le=999)
    field: Literal["hs_code", "origin", "quantity", "customs_value", "net_mass_kg"]
    value: CorrectedValue


class InspectionFindings(Strict):
    result: Literal["compliant", "irregularity"]
    note: Text1000 | None = None
    corrections: list[Correction] = Field(default_factory=list, max_length=999)


class Payment(Strict):
    method: Literal["paid", "guarantee"]
    reference: Reference
    amount: Annotated[Decimal, Field(ge=0, le=Decimal("1e15"), allow_inf_nan=False)]


class Cancellation(Strict):
    reason: Text500


class Opening(Strict):
    """An officer takes a declaration in hand (its document check or inspection begins)."""

    note: Text1000 | None = None


class AmendmentRequestCreate(Strict):
    reason: Text500
    document: DeclarationCreate


class AmendmentDecision(Strict):
    decision: Literal["accept", "refuse"]
    note: Text1000 | None = None


class AmendmentRequestRead(BaseModel):
    id: int
    declaration: str
    version: int
    status: str
    reason: str
    document: dict[str, Any]
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


class AuditRead(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any] | None


class QueueEntry(BaseModel):
    """A declaration waiting for an officer (its document check or inspection), and who, if
    anyone, has it in hand."""

    number: str
    type: str
    status: str
    channel: str
    office: str
    declarant_id: str
    importer_name: str
    lodged_at: datetime
    waiting_seconds: float  # since lodging: the clearance time running
    in_hand_by: str | None
    in_hand_since: datetime | None


class DeclarationSummary(BaseModel):
    """A declaration in a search's results."""

    number: str
    type: str
    status: str
    channel: str
    office: str
    declarant_id: str
    importer_name: str
    total_due: str
    lodged_at: datetime
