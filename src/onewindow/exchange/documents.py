"""The documents the exchange carries: their types, schemas, and plain-dict mappings.

Each document type names an XSD in `schemas/` and the root element it must have. Schemas are
loaded from the package on first use and kept (xmlschema's once, libxml2's once per thread);
nothing else here touches a file.

`to_xml` / `from_xml` map between XML and plain dicts (snake_case keys; `date`, `datetime`,
`Decimal`, `int` and `bool` values) for every type with a mapping below. `to_xml` validates
what it builds, so it never emits a document a partner would refuse; `from_xml` validates
before reading, so a dict always comes from a valid document. Optional values absent from
the dict are absent from the XML and the other way round, so `from_xml(to_xml(d)) == d`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

from onewindow.exchange import mapping, xmlsafe
from onewindow.exchange.mapping import BOOL, DATE, DATETIME, DECIMAL, GROUP, INT, F, group
from onewindow.kit.errors import FieldError, InvalidInput, invalid

SCHEMA_DIR = Path(__file__).with_name("schemas")
MAX_ERRORS = 50
_THREAD = threading.local()
_NS = "urn:onewindow:xsd:"


@dataclass(frozen=True)
class DocumentType:
    name: str
    schema: str  # file in schemas/
    namespace: str
    root: str  # local name of the root element

    @property
    def qname(self) -> str:
        return f"{{{self.namespace}}}{self.root}"


def _type(name: str, schema: str, root: str) -> DocumentType:
    return DocumentType(name, f"{schema}.xsd", f"{_NS}{schema.replace('_', '-')}:1", root)


DOCUMENT_TYPES: Mapping[str, DocumentType] = {
    t.name: t
    for t in (
        _type("FORM_D", "form_d", "FormD"),
        _type("FORM_D_STATUS", "form_d_status", "FormDStatus"),
        _type("FORM_D_VERIFICATION_REQUEST", "form_d_verification", "VerificationRequest"),
        _type("FORM_D_VERIFICATION_RESPONSE", "form_d_verification", "VerificationResponse"),
        _type("ACDD", "acdd", "ACDD"),
        _type("ACDD_RESPONSE", "acdd", "ACDDResponse"),
        _type("ACDD_CANCELLATION", "acdd", "ACDDCancellation"),
        _type("RECEIPT", "receipt", "Receipt"),
    )
}
# Not a document type: the envelope carries documents and is never carried itself.
ENVELOPE = _type("ENVELOPE", "envelope", "Envelope")


def document_type(name: str) -> DocumentType:
    try:
        return DOCUMENT_TYPES[name]
    except KeyError:
        raise invalid("document_type", "unknown_document_type", f"{name!r} is unknown") from None


@cache
def schema(file: str) -> xmlschema.XMLSchema:
    # The sandbox keeps includes inside schemas/; our schemas never reach further.
    return xmlschema.XMLSchema(str(SCHEMA_DIR / file), allow="sandbox", defuse="always")


def _compiled(file: str) -> etree.XMLSchema:
    # One per thread: an lxml validator keeps its error log in itself.
    compiled: dict[str, etree.XMLSchema] = _THREAD.__dict__.setdefault("schemas", {})
    if file not in compiled:
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        compiled[file] = etree.XMLSchema(etree.parse(str(SCHEMA_DIR / file), parser))
    return compiled[file]


def validate(name: str, document: etree._Element) -> None:
    """InvalidInput naming each offending element (code `schema_violation`) unless
    `document` is a valid document of type `name`."""
    validate_as(document_type(name), document)


def validate_as(kind: DocumentType, document: etree._Element) -> None:
    if document.tag != kind.qname:
        raise invalid(
            f"/{etree.QName(document).localname}",
            "wrong_root_element",
            f"a {kind.name} document has root {kind.qname}, not {document.tag}",
        )
    # libxml2's compiled validator answers yes or no a hundred times faster than xmlschema,
    # which matters on a gateway that validates every document twice; xmlschema then says
    # precisely what is wrong. tests/exchange checks that the two agree.
    compiled = _compiled(kind.schema)
    errors: list[FieldError] = []
    if not compiled.validate(document):
        errors = _schema_errors(kind, document)
        if not errors:  # they disagree: refuse anyway, in libxml2's words
            errors = [FieldError("/", "schema_violation", e.message) for e in compiled.error_log]
    if not errors:
        errors = _co_occurrence(kind, document)
    if errors:
        raise InvalidInput(errors)


# What XSD 1.0 cannot say: an element required by the value of another.
# (root, coded element, its value, the element it requires)
_REQUIRES = (
    ("FormDStatus", "StatusCode", "rejected", "Reason"),
    ("FormDStatus", "StatusCode", "replaced", "ReplacementReferenceID"),
    ("Receipt", "Status", "rejected", "Reason"),
    ("Receipt", "Status", "received_with_warnings", "Reason"),
    ("ACDDResponse", "StatusCode", "rejected", "Reason"),
)


def _schema_errors(kind: DocumentType, document: etree._Element) -> list[FieldError]:
    # The document is parsed already: the resource must never fetch anything (no hints).
    resource = xmlschema.XMLResource(document, allow="none", defuse="always")
    errors = []
    for error in schema(kind.schema).iter_errors(resource):
        errors.append(FieldError(error.path or "/", "schema_violation", error.reason or ""))
        if len(errors) >= MAX_ERRORS:
            break
    return errors


def _co_occurrence(kind: DocumentType, document: etree._Element) -> list[FieldError]:
    errors = []
    ns = kind.namespace
    for root, coded, value, required in _REQUIRES:
        if root != kind.root or (document.findtext(f"{{{ns}}}{coded}") or "").strip() != value:
            continue
        if document.find(f"{{{ns}}}{required}") is None:
            message = f"{required} is required when {coded} is {value}"
            errors.append(FieldError(f"/{root}/{required}", "required", message))
    return errors


def parse(name: str, data: bytes, *, max_bytes: int = xmlsafe.MAX_BYTES) -> etree._Element:
    """Safely parse and validate bytes from outside as a document of type `name`."""
    root = xmlsafe.parse(data, max_bytes=max_bytes)
    validate(name, root)
    return root


# ---- the mappings between dicts and XML, in schema order ----


def _flag(key: str, tag: str) -> F:
    return F(key, tag, BOOL, default=False)


REASONS = group(
    "reasons",
    "Reason",
    F("code", "Code"),
    F("text", "Text", optional=True),
    F("pointer", "Pointer", optional=True),
    many=True,
    optional=True,
)


def _party(key: str, tag: str, *, with_id: bool) -> F:
    fields = (F("name", "Name"), F("address", "Address"), F("country", "CountryCode"))
    return group(key, tag, *((F("id", "ID", optional=True),) if with_id else ()), *fields)


FORM_D = (
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

FORM_D_STATUS = (
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

VERIFICATION_REQUEST = (
    F("request_id", "RequestID"),
    F("reference", "ReferenceID"),
    F("country", "RequestingCountryCode"),
    F("authority", "RequestingAuthorityName"),
    F("issued_at", "IssueDateTime", DATETIME),
    F("item_numbers", "ItemSequenceNumeric", INT, many=True, optional=True),
    F(REASONS.key, REASONS.tag, GROUP, many=True, children=REASONS.children),
)

VERIFICATION_RESPONSE = (
    F("request_id", "RequestID"),
    F("reference", "ReferenceID"),
    F("country", "RespondingCountryCode"),
    F("authority", "RespondingAuthorityName"),
    F("issued_at", "IssueDateTime", DATETIME),
    F("result", "ResultCode"),
    REASONS,
)

ACDD = (
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

ACDD_RESPONSE = (
    F("declaration_id", "DeclarationID"),
    F("country", "ResponderCountryCode"),
    F("issued_at", "IssueDateTime", DATETIME),
    F("status", "StatusCode"),
    F("import_declaration_id", "ImportDeclarationID", optional=True),
    REASONS,
)

ACDD_CANCELLATION = (
    F("declaration_id", "DeclarationID"),
    F("export_country", "ExportCountryCode"),
    F("issued_at", "IssueDateTime", DATETIME),
    F(REASONS.key, REASONS.tag, GROUP, many=True, children=REASONS.children),
)

MAPPINGS: Mapping[str, tuple[F, ...]] = {
    "FORM_D": FORM_D,
    "FORM_D_STATUS": FORM_D_STATUS,
    "FORM_D_VERIFICATION_REQUEST": VERIFICATION_REQUEST,
    "FORM_D_VERIFICATION_RESPONSE": VERIFICATION_RESPONSE,
    "ACDD": ACDD,
    "ACDD_RESPONSE": ACDD_RESPONSE,
    "ACDD_CANCELLATION": ACDD_CANCELLATION,
}


# ---- who issues each document, and which document a message is about ----


@dataclass(frozen=True)
class Issuance:
    """Where a document type names its issuers, for the gateway's check (`issuers.check`).

    `author`: the field naming the country that wrote this document; it must be the
    signer's. `about` and `reference`: the document this one concerns (a Form D for a status
    notice) and the field holding its reference; `issuer`: the field naming that document's
    issuing country, or None for a message addressed to that issuer (a request to it, an
    answer to what it sent). `bound`: the about-type's references are one space for every
    issuer at a node (Form D: a node keeps one certificate per reference), so each is bound
    to the first country that issued it; otherwise the reference is only unique per issuer
    (export declaration numbers) and the issuer is part of its key.
    """

    author: str | None
    about: str
    reference: str
    issuer: str | None
    bound: bool = False


ISSUANCE: Mapping[str, Issuance] = {
    "FORM_D": Issuance("exporter.country", "FORM_D", "reference", "exporter.country", True),
    "FORM_D_STATUS": Issuance(None, "FORM_D", "reference", "issuer_country", True),
    "FORM_D_VERIFICATION_REQUEST": Issuance("country", "FORM_D", "reference", None, True),
    "FORM_D_VERIFICATION_RESPONSE": Issuance("country", "FORM_D", "reference", "country", True),
    "ACDD": Issuance("export_country", "ACDD", "declaration_id", "export_country"),
    "ACDD_RESPONSE": Issuance("country", "ACDD", "declaration_id", None),
    "ACDD_CANCELLATION": Issuance("export_country", "ACDD", "declaration_id", "export_country"),
}


def _mapping(name: str) -> tuple[F, ...]:
    document_type(name)
    if name not in MAPPINGS:
        raise invalid("document_type", "no_mapping", f"{name} documents have no dict mapping")
    return MAPPINGS[name]


def build(name: str, data: Mapping[str, Any]) -> etree._Element:
    """The validated document of type `name` holding `data`."""
    kind, spec = document_type(name), _mapping(name)
    element = mapping.build(kind.namespace, kind.root, spec, data)
    validate_as(kind, element)
    return element


def read(name: str, element: etree._Element) -> dict[str, Any]:
    """The dict of a document of type `name`, validated first."""
    spec = _mapping(name)
    validate(name, element)
    try:
        return mapping.read(element, spec)
    except (ValueError, ArithmeticError) as exc:  # XSD allows a few values Python does not
        raise invalid("/", "unsupported_value", str(exc)) from exc


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def to_xml(name: str, data: Mapping[str, Any]) -> bytes:
    return serialize(build(name, data))


def from_xml(name: str, data: bytes | etree._Element) -> dict[str, Any]:
    element = xmlsafe.parse(data) if isinstance(data, bytes) else data
    return read(name, element)


def form_d_to_xml(data: Mapping[str, Any]) -> bytes:
    return to_xml("FORM_D", data)


def form_d_from_xml(data: bytes | etree._Element) -> dict[str, Any]:
    return from_xml("FORM_D", data)


def acdd_to_xml(data: Mapping[str, Any]) -> bytes:
    return to_xml("ACDD", data)


def acdd_from_xml(data: bytes | etree._Element) -> dict[str, Any]:
    return from_xml("ACDD", data)
