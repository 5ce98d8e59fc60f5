"""Transit's input and output: guarantees, and the transit declaration (NCTS IE015)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from onewindow.kit.errors import Text
from onewindow.kit.fields import Currency, HsLine, Locode, PartyId, Printable, Unit
from onewindow.seals.schemas import Destination, Route, Stop

Amount = Annotated[
    Decimal, Field(gt=0, le=Decimal("1e12"), max_digits=18, decimal_places=2, allow_inf_nan=False)
]
Quantity = Annotated[
    Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=15, decimal_places=3, allow_inf_nan=False)
]
Name = Annotated[Printable, StringConstraints(max_length=200)]
SealId = Annotated[
    str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{2,34}$", min_length=3, max_length=35)
]
# An authorised location of goods (a trader's premises), as the node that authorised it codes it.
PremisesCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{2,34}$", min_length=3, max_length=35)
]
Note = Annotated[Printable, StringConstraints(max_length=500)]


class Premises(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: PremisesCode
    address: Name


class TraderWrite(BaseModel):
    """A trader's ACTS registration at this node, as an officer sets it: registered or
    suspended, and its authorisations as consignor and consignee at its premises."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    status: Literal["registered", "suspended"] = "registered"
    consignor: bool = False
    consignee: bool = False
    premises: list[Premises] = Field(default_factory=list, max_length=50, validate_default=True)
    note: Note | None = None

    @field_validator("premises")
    @classmethod
    def _premises(cls, premises: list[Premises], info: ValidationInfo) -> list[Premises]:
        codes = [p.code for p in premises]
        if len(set(codes)) != len(codes):
            raise ValueError(Text("premises are listed twice under one code"))
        if (info.data.get("consignor") or info.data.get("consignee")) and not premises:
            raise ValueError(
                Text("an authorised consignor or consignee needs the premises it is authorised at")
            )
        return premises


class TraderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    party_id: str
    name: str
    status: str
    consignor: bool
    consignee: bool
    premises: list[Premises]
    note: str | None
    registered_at: datetime
    updated_at: datetime
    updated_by: str


class Consignee(BaseModel):
    """Who receives the goods at destination; with `premises`, at its own premises as an
    authorised consignee of the destination's country."""

    model_config = ConfigDict(extra="forbid")
    id: PartyId
    name: Name
    premises: PremisesCode | None = None


class GuaranteeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["comprehensive", "individual"]
    holder_id: PartyId
    holder_name: Name
    currency: Currency
    amount: Amount
    valid_until: date


class GuaranteeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    grn: str
    kind: str
    holder_id: str
    holder_name: str
    currency: str
    amount: Decimal
    balance: Decimal
    valid_until: date
    status: str


class TransitItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hs_code: HsLine  # AHTN: the same eight digits in every member state
    description: Annotated[Printable, StringConstraints(max_length=500)]
    quantity: Quantity
    unit: Unit
    gross_mass_kg: Quantity
    customs_value: Amount
    currency: Currency


class Monitoring(BaseModel):
    """The e-seals' watch over the road: the approved route, how far off it a truck may go,
    where it may stop and for how long, how long a seal may stay silent, and where the
    destination office is. Given, the movement's seals report to this node from release."""

    model_config = ConfigDict(extra="forbid")
    route: Route
    corridor_m: float = Field(gt=0, le=50_000, allow_inf_nan=False)
    stops: list[Stop] = Field(default_factory=list, max_length=500)
    max_stop_minutes: int = Field(ge=1, le=7 * 24 * 60)
    max_silence_minutes: int = Field(ge=1, le=7 * 24 * 60)
    destination: Destination


class MovementCreate(BaseModel):
    """A transit declaration: the holder, the offices (departure here, transit in order,
    destination), the guarantee, the seals and the goods."""

    model_config = ConfigDict(extra="forbid")
    holder_id: PartyId
    holder_name: Name
    departure_office: Locode
    transit_offices: list[Locode] = Field(default_factory=list, max_length=10)
    destination_office: Locode
    grn: Annotated[str, StringConstraints(pattern=r"^\d{2}[A-Z]{2}[A-Z0-9]{13}\d$")]
    # The holder's premises as an authorised consignor: the goods start there.
    departure_premises: PremisesCode | None = None
    consignee: Consignee | None = None
    seals: list[SealId] = Field(min_length=1, max_length=20)
    items: list[TransitItem] = Field(min_length=1, max_length=999)
    monitoring: Monitoring | None = None

    @model_validator(mode="after")
    def _distinct(self) -> MovementCreate:
        if self.monitoring and self.monitoring.destination.office != self.destination_office:
            raise ValueError(Text("the monitored destination must be the office of destination"))
        if len(set(self.seals)) != len(self.seals):
            raise ValueError(Text("a seal is listed twice"))
        offices = [self.departure_office, *self.transit_offices, self.destination_office]
        if len(set(offices)) != len(offices):
            raise ValueError(Text("an office appears twice on the itinerary"))
        return self


class MovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    mrn: str
    role: str
    status: str
    holder_id: str
    holder_name: str
    consignee_id: str | None
    departure_office: str
    transit_offices: list[str]
    destination_office: str
    countries: list[str]
    lane: str | None  # at departure: green (no control), yellow (documents), red (goods)
    lane_reasons: list[str] | None
    grn: str
    seals: list[str]
    declared_at: datetime
    released_at: datetime | None
    time_limit: date | None
    reserved: Decimal | None = None
    reservation: str | None = None  # held | released (given back) | called (recovery)
    exposure: dict[str, str] | None = None
    monitored: bool = False  # its seals report to this node (e-seals)


class Release(BaseModel):
    """An officer's decision at departure. Released, the movement has `days` to reach its
    destination (the time limit for its route; the node's default when not given); a
    movement in the yellow or red lane needs what the control found."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["release", "no_release"]
    reason: Note | None = None
    days: int | None = Field(None, ge=1, le=90)
    control: Note | None = None

    @model_validator(mode="after")
    def _why(self) -> Release:
        if self.decision == "no_release" and not self.reason:
            raise ValueError(Text("say why the movement is not released"))
        return self


class Office(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office: Locode


class Unloading(BaseModel):
    """Unloading remarks at destination: the seals as found, and any discrepancy."""

    model_config = ConfigDict(extra="forbid")
    seals_intact: bool
    discrepancies: Note | None = None


class Discharge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    office: str
    country: str
    at: datetime
    detail: dict[str, Any] | None
