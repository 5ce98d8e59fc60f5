"""The declarations domain's exchange documents: the ASEAN Customs Declaration Document (the
export declaration's data for the importing customs), its answer and its cancellation. Their
XSD is in `xsd/`; `domain.py` registers the types with the exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from onewindow.exchange import documents
from onewindow.exchange.documents import REASONS, DocumentType, Issuance, Requires
from onewindow.exchange.mapping import DATE, DATETIME, DECIMAL, GROUP, INT, F, group

XSD = Path(__file__).with_name("xsd")
_SCHEMA = XSD / "acdd.xsd"
_NS = "urn:onewindow:xsd:acdd:1"

ACDD_FIELDS = (
    F("declaration_id", "DeclarationID"),
    F("export_country", "ExportCountryCode"),
    F("destination_country", "DestinationCountryCode"),
    group("exporter", "Exporter", F("id", "ID"), F("name", "Name")),
    group("consignee", "Consignee", F("name", "Name"), F("address", "Address")),
    group("agent", "Agent", F("id", "ID"), F("name", "Name")),
    F("departure_date", "DepartureDate", DATE),
    F("transport_mode", "BorderTransportMeans/ModeCode"),
    F("discharge_port", "UnloadingLocation"),
    group(
        "items",
        "GoodsItem",
        F("item_number", "SequenceNumeric", INT),
        F("hs_code", "ClassificationID"),
        F("quantity", "Quantity", DECIMAL, attr=("unitCode", "unit")),
        F("origin_country", "OriginCountryCode"),
        F("description", "Description", optional=True),
        many=True,
    ),
)

RESPONSE_FIELDS = (
    F("declaration_id", "DeclarationID"),
    F("country", "ResponderCountryCode"),
    F("issued_at", "IssueDateTime", DATETIME),
    F("status", "StatusCode"),
    F("import_declaration_id", "ImportDeclarationID", optional=True),
    REASONS,
)

CANCELLATION_FIELDS = (
    F("declaration_id", "DeclarationID"),
    F("export_country", "ExportCountryCode"),
    F("issued_at", "IssueDateTime", DATETIME),
    F(REASONS.key, REASONS.tag, GROUP, many=True, children=REASONS.children),
)

# Export declaration numbers are unique per exporting country only: the issuer is part of
# the key (not bound, unlike a Form D's reference).
ACDD = DocumentType(
    "ACDD",
    _SCHEMA,
    _NS,
    "ACDD",
    ACDD_FIELDS,
    issuance=Issuance("export_country", "ACDD", "declaration_id", "export_country"),
)
ACDD_RESPONSE = DocumentType(
    "ACDD_RESPONSE",
    _SCHEMA,
    _NS,
    "ACDDResponse",
    RESPONSE_FIELDS,
    requires=(Requires("StatusCode", "rejected", "Reason"),),
    issuance=Issuance("country", "ACDD", "declaration_id", None),
)
ACDD_CANCELLATION = DocumentType(
    "ACDD_CANCELLATION",
    _SCHEMA,
    _NS,
    "ACDDCancellation",
    CANCELLATION_FIELDS,
    issuance=Issuance("export_country", "ACDD", "declaration_id", "export_country"),
)
DOCUMENT_TYPES = (ACDD, ACDD_RESPONSE, ACDD_CANCELLATION)


def acdd_to_xml(data: Mapping[str, Any]) -> bytes:
    return documents.to_xml("ACDD", data)


def acdd_from_xml(data: bytes | etree._Element) -> dict[str, Any]:
    return documents.from_xml("ACDD", data)
