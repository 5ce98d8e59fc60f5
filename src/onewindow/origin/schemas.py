"""Pydantic I/O for certificates of origin."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from onewindow.kit.fields import (
    CertificateRef,
    Country,
    FreeText,
    HsCode,
    PartyId,
    Printable,
    Text20,
    Text200,
    Text500,
    Unit,
)


class CertificateItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_number: int = Field(ge=1, le=999)
    hs_code: HsCode
    description: Text500
    origin_criterion: Annotated[Text20, Field(min_length=2)]
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=3)
    unit: Unit


class CertificateCreate(BaseModel):
    """A certificate of origin recorded by hand (before the exchange delivers real ones)."""

    model_config = ConfigDict(extra="forbid")
    reference: CertificateRef
    scheme: str = Field("ATIGA", pattern="^ATIGA$")
    exporting_country: Country
    importing_country: Country
    exporter_name: Text200
    importer_id: PartyId
    importer_name: Text200
    issue_date: date
    items: list[CertificateItemIn] = Field(min_length=1, max_length=999)


class CertificateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    reference: str
    scheme: str
    exporting_country: str
    importing_country: str
    importer_id: str
    issue_date: date
    valid_until: date
    status: str
    source: str


class FormDApplication(RootModel[dict[str, Any]]):
    """An exporter's application for a Form D: boxes 1 to 13 but the reference and the
    certification, which the issuing authority adds. Its shape is the exchange's FORM_D
    schema, against which issuing checks it (so there is one definition of a Form D and the
    errors name the same paths as for a Form D received from a partner)."""


class CertificateCancellation(BaseModel):
    reason: Annotated[FreeText, StringConstraints(max_length=300)]


Note = Annotated[Printable, StringConstraints(max_length=300)]


class VerificationAsked(BaseModel):
    """Customs ask the issuing country to verify a certificate's origin: why."""

    model_config = ConfigDict(extra="forbid")
    reason: Note


class VerificationAnswer(BaseModel):
    """The issuing authority's answer to a verification request."""

    model_config = ConfigDict(extra="forbid")
    result: Literal["confirmed", "partially_confirmed", "not_confirmed"]
    note: Note


class CertificateItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    item_number: int
    hs_code: str
    quantity: Decimal
    used_quantity: Decimal


class CertificateDetail(BaseModel):
    """A certificate as the API shows it: what it certifies, what became of it (`reason`,
    `replaced_by`), the Form D as exchanged (none for one recorded by hand), and how much of
    each item declarations have used."""

    model_config = ConfigDict(from_attributes=True)
    reference: str
    status: str
    source: str
    exporting_country: str
    importing_country: str
    importer_id: str
    issue_date: date
    valid_until: date
    reason: str | None = Field(validation_alias="status_reason")
    replaced_by: str | None
    document: dict[str, Any] | None
    items: list[CertificateItemRead]
