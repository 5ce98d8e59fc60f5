"""The origin domain's exchange documents: the ATIGA e-Form D, its status notices and the
verification of origin between customs. Their XSDs are in `xsd/`; `domain.py` registers the
types with the exchange, which validates, maps and carries them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from onewindow.exchange import documents
from onewindow.exchange.documents import REASONS, DocumentType, Issuance, Requires
from onewindow.exchange.mapping import BOOL, DATE, DATETIME, DECIMAL, GROUP, INT, F, group

XSD = Path(__file__).with_name("xsd")


def _flag(key: str, tag: str) -> F:
    return F(key, tag, BOOL, default=False)


def _party(key: str, tag: str, *, with_id: bool) -> F:
    fields = (F("name", "Name"), F("address", "Address"), F("country", "CountryCode"))
    return group(key, tag, *((F("id", "ID", optional=True),) if with_id else ()), *fields)


# ---- the mappings between dicts and XML, in schema order ----

FORM_D_FIELDS = (
    F("reference", "ReferenceID"),
    _party("exporter", "Exporter", with_id=True),
    _party("consignee", "Consignee", with_id=True),
    group(
        "transport",
        "Transport",
        F("departure_date", "DepartureDate", DATE),
        F("mode", "ModeCode", optional=True),
        F("vessel", "TransportMeansName", optional=True),
        F("loading_port", "LoadingLocation", optional=True),
        F("discharge_port", "UnloadingLocation"),
    ),
    group(
        "official_use",
        "OfficialUse",
        F("preferential_treatment", "PreferentialTreatment"),
        F("reason", "Reason", optional=True),
        optional=True,
    ),
    group(
        "items",
        "GoodsItem",
        F("item_number", "SequenceNumeric", INT),
        F("marks", "MarksNumbers", optional=True),
        group("packages", "Packaging", F("count", "QuantityQuantity", INT), F("kind", "TypeCode")),
        F("description", "Description"),
        F("hs_code", "ClassificationID"),
        F("origin_criterion", "OriginCriterion"),
        F("quantity", "Quantity", DECIMAL, attr=("unitCode", "unit")),
        F(
            "gross_weight",
            "GrossMassMeasure",
            DECIMAL,
            optional=True,
            attr=("unitCode", "gross_weight_unit"),
        ),
        F(
            "fob_value",
            "FOBValueAmount",
            DECIMAL,
            optional=True,
            attr=("currencyID", "fob_currency"),
        ),
        group("invoice", "Invoice", F("number", "ID"), F("date", "IssueDate", DATE)),
        many=True,
    ),
    group(
        "declaration",
        "ExporterDeclaration",
        F("producing_country", "ProducingCountryCode"),
        F("importing_country", "ImportingCountryCode"),
        F("place", "Place"),
        F("date", "SignatureDate", DATE),
    ),
    group(
        "certification",
        "Certification",
        F("authority", "IssuingAuthorityName"),
        F("issue_date", "IssueDate", DATE),
        F("place", "Place"),
    ),
    group(
        "flags",
        "Indicators",
        _flag("third_country_invoicing", "ThirdCountryInvoicing"),
        _flag("back_to_back", "BackToBack"),
        _flag("exhibition", "Exhibition"),
        _flag("issued_retroactively", "IssuedRetroactively"),
        _flag("de_minimis", "DeMinimis"),
        _flag("accumulation", "Accumulation"),
        _flag("partial_cumulation", "PartialCumulation"),
    ),
)

STATUS_FIELDS = (
    F("reference", "ReferenceID"),
    F("status", "StatusCode"),
    F("issuer_country", "IssuerCountryCode"),
    F("issued_at", "IssueDateTime", DATETIME),
    F("declaration_id", "DeclarationID", optional=True),
    group(
        "items",
        "GoodsItem",
        F("item_number", "SequenceNumeric", INT),
        F("quantity", "Quantity", DECIMAL, attr=("unitCode", "unit")),
        many=True,
        optional=True,
    ),
    REASONS,
    F("replacement_reference", "ReplacementReferenceID", optional=True),
)

REQUEST_FIELDS = (
    F("request_id", "RequestID"),
    F("reference", "ReferenceID"),
    F("country", "RequestingCountryCode"),
    F("authority", "RequestingAuthorityName"),
    F("issued_at", "IssueDateTime", DATETIME),
    F("item_numbers", "ItemSequenceNumeric", INT, many=True, optional=True),
    F(REASONS.key, REASONS.tag, GROUP, many=True, children=REASONS.children),
)

RESPONSE_FIELDS = (
    F("request_id", "RequestID"),
    F("reference", "ReferenceID"),
    F("country", "RespondingCountryCode"),
    F("authority", "RespondingAuthorityName"),
    F("issued_at", "IssueDateTime", DATETIME),
    F("result", "ResultCode"),
    REASONS,
)

# ---- the types ----

# A Form D's reference is one space for every issuer at a node (one certificate per
# reference), so every message about one is bound to the country that issued it.
FORM_D = DocumentType(
    "FORM_D",
    XSD / "form_d.xsd",
    "urn:onewindow:xsd:form-d:1",
    "FormD",
    FORM_D_FIELDS,
    issuance=Issuance("exporter.country", "FORM_D", "reference", "exporter.country", True),
)
FORM_D_STATUS = DocumentType(
    "FORM_D_STATUS",
    XSD / "form_d_status.xsd",
    "urn:onewindow:xsd:form-d-status:1",
    "FormDStatus",
    STATUS_FIELDS,
    requires=(
        Requires("StatusCode", "rejected", "Reason"),
        Requires("StatusCode", "replaced", "ReplacementReferenceID"),
    ),
    issuance=Issuance(None, "FORM_D", "reference", "issuer_country", True),
)
FORM_D_VERIFICATION_REQUEST = DocumentType(
    "FORM_D_VERIFICATION_REQUEST",
    XSD / "form_d_verification.xsd",
    "urn:onewindow:xsd:form-d-verification:1",
    "VerificationRequest",
    REQUEST_FIELDS,
    issuance=Issuance("country", "FORM_D", "reference", None, True),
)
FORM_D_VERIFICATION_RESPONSE = DocumentType(
    "FORM_D_VERIFICATION_RESPONSE",
    XSD / "form_d_verification.xsd",
    "urn:onewindow:xsd:form-d-verification:1",
    "VerificationResponse",
    RESPONSE_FIELDS,
    issuance=Issuance("country", "FORM_D", "reference", "country", True),
)
DOCUMENT_TYPES = (FORM_D, FORM_D_STATUS, FORM_D_VERIFICATION_REQUEST, FORM_D_VERIFICATION_RESPONSE)


def form_d_to_xml(data: Mapping[str, Any]) -> bytes:
    return documents.to_xml("FORM_D", data)


def form_d_from_xml(data: bytes | etree._Element) -> dict[str, Any]:
    return documents.from_xml("FORM_D", data)
