"""The documents the exchange carries: the registry of their types, schemas and dict mappings.

The exchange owns no business document. Each domain declares its document types
(`Domain.documents`: a tuple of `DocumentType`, XSDs in the domain's own `xsd/` folder) and the
registry is filled from the installed domains the first time a type is looked up; the
exchange's own types are the envelope and the receipt. A type nobody registered is refused
(`unknown_document_type`). Schemas are loaded from the package on first use and kept
(xmlschema's once, libxml2's once per thread); nothing else here touches a file.

`to_xml` / `from_xml` map between XML and plain dicts (snake_case keys; `date`, `datetime`,
`Decimal`, `int` and `bool` values) for every type with a mapping. `to_xml` validates what
it builds, so it never emits a document a partner would refuse; `from_xml` validates
before reading, so a dict always comes from a valid document. Optional values absent from
the dict are absent from the XML and the other way round, so `from_xml(to_xml(d)) == d`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

from onewindow.exchange import mapping, xmlsafe
from onewindow.exchange.mapping import F, group
from onewindow.kit import domain
from onewindow.kit.errors import FieldError, InvalidInput, invalid

XSD = Path(__file__).with_name("xsd")
MAX_ERRORS = 50
_THREAD = threading.local()


@dataclass(frozen=True)
class Requires:
    """What XSD 1.0 cannot say: `required` must be present when `coded` has `value`."""

    coded: str
    value: str
    required: str


@dataclass(frozen=True)
class Issuance:
    """Who issues a document type, for the gateway's check (`issuers.check`).

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


@dataclass(frozen=True)
class DocumentType:
    """Everything the exchange needs to know about a type of document."""

    name: str  # as the envelope's header names it: FORM_D, ACDD...
    schema: Path  # its XSD, in the owning domain's package
    namespace: str
    root: str  # local name of the root element
    mapping: tuple[F, ...] | None = None  # None: no dict form (built by hand, as receipts)
    requires: tuple[Requires, ...] = ()
    # None: not exchanged between domains' handlers; the gateway refuses a message of a type
    # that does not say who issues it.
    issuance: Issuance | None = None

    @property
    def qname(self) -> str:
        return f"{{{self.namespace}}}{self.root}"


# The exchange's own types. The envelope is not a document type: it carries documents and is
# never carried itself.
ENVELOPE = DocumentType(
    "ENVELOPE", XSD / "envelope.xsd", "urn:onewindow:xsd:envelope:1", "Envelope"
)
RECEIPT = DocumentType(
    "RECEIPT",
    XSD / "receipt.xsd",
    "urn:onewindow:xsd:receipt:1",
    "Receipt",
    requires=(
        Requires("Status", "rejected", "Reason"),
        Requires("Status", "received_with_warnings", "Reason"),
    ),
)
OWN_TYPES = (RECEIPT,)  # what the exchange's own domain.py registers

# The mapping of common.xsd's ReasonType, for the domains' documents that carry reasons.
REASONS = group(
    "reasons",
    "Reason",
    F("code", "Code"),
    F("text", "Text", optional=True),
    F("pointer", "Pointer", optional=True),
    many=True,
    optional=True,
)


# ---- the registry ----

_LOCK = threading.Lock()
_registry: dict[str, DocumentType] = {}
_loaded_for: tuple[domain.Domain, ...] | None = None


def _add(registry: dict[str, DocumentType], types: Iterable[DocumentType]) -> None:
    for kind in types:
        if not isinstance(kind, DocumentType):
            raise TypeError(f"{kind!r} is not a DocumentType")
        known = registry.get(kind.name)
        if known is not None and known != kind:  # two domains claiming one name: stop at start
            raise ValueError(f"document type {kind.name} is registered twice")
        registry[kind.name] = kind


def document_types() -> Mapping[str, DocumentType]:
    """Every registered type by name: those of the installed domains (`Domain.documents`),
    loaded on first use and again whenever the installed domains change."""
    installed = domain.installed()
    if installed is not _loaded_for:
        _load(installed)
    return _registry


def _load(installed: tuple[domain.Domain, ...]) -> None:
    global _registry, _loaded_for
    with _LOCK:
        if installed is _loaded_for:  # another thread loaded them meanwhile
            return
        # A new dict swapped in whole: a reader in another thread never sees it half filled.
        registry: dict[str, DocumentType] = {}
        for each in installed:
            if each.documents:
                _add(registry, domain.load(each.documents))
        _registry, _loaded_for = registry, installed


def register_document_types(types: Iterable[DocumentType]) -> None:
    """Add `types` beside the installed domains' (a type outside any domain, in a test or a
    tool), until the installed domains change. A name is registered once: again with the
    same type does nothing, with another is a ValueError."""
    global _registry
    document_types()
    with _LOCK:
        registry = dict(_registry)
        _add(registry, types)
        _registry = registry


def document_type(name: str) -> DocumentType:
    try:
        return document_types()[name]
    except KeyError:
        raise invalid("document_type", "unknown_document_type", f"{name!r} is unknown") from None


@cache
def schema(file: Path) -> xmlschema.XMLSchema:
    # "local", not "sandbox": a domain's XSD includes the exchange's common.xsd from another
    # folder, which the sandbox refuses. Still never the network, and these files ship in
    # the package: nobody outside chooses them.
    return xmlschema.XMLSchema(str(file), allow="local", defuse="always")


def _compiled(file: Path) -> etree.XMLSchema:
    # One per thread: an lxml validator keeps its error log in itself.
    compiled: dict[Path, etree.XMLSchema] = _THREAD.__dict__.setdefault("schemas", {})
    if file not in compiled:
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        compiled[file] = etree.XMLSchema(etree.parse(str(file), parser))
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
    for rule in kind.requires:
        if (document.findtext(f"{{{ns}}}{rule.coded}") or "").strip() != rule.value:
            continue
        if document.find(f"{{{ns}}}{rule.required}") is None:
            message = f"{rule.required} is required when {rule.coded} is {rule.value}"
            errors.append(FieldError(f"/{kind.root}/{rule.required}", "required", message))
    return errors


def parse(name: str, data: bytes, *, max_bytes: int = xmlsafe.MAX_BYTES) -> etree._Element:
    """Safely parse and validate bytes from outside as a document of type `name`."""
    root = xmlsafe.parse(data, max_bytes=max_bytes)
    validate(name, root)
    return root


# ---- between dicts and XML ----


def mapping_of(name: str) -> tuple[F, ...]:
    """The dict mapping of type `name`: InvalidInput `no_mapping` if it has none."""
    spec = document_type(name).mapping
    if spec is None:
        raise invalid("document_type", "no_mapping", f"{name} documents have no dict mapping")
    return spec


def build(name: str, data: Mapping[str, Any]) -> etree._Element:
    """The validated document of type `name` holding `data`."""
    kind, spec = document_type(name), mapping_of(name)
    element = mapping.build(kind.namespace, kind.root, spec, data)
    validate_as(kind, element)
    return element


def read(name: str, element: etree._Element) -> dict[str, Any]:
    """The dict of a document of type `name`, validated first."""
    spec = mapping_of(name)
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
