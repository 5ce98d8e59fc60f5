"""The registry of document types: filled from the installed domains' descriptors, so a type
no installed domain registered is refused, and every registered type's XSD loads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree

from onewindow import domains
from onewindow.exchange import documents, handlers
from onewindow.kit import domain
from onewindow.kit.errors import InvalidInput
from onewindow.origin.documents import FORM_D

ORIGIN = {"FORM_D", "FORM_D_STATUS", "FORM_D_VERIFICATION_REQUEST", "FORM_D_VERIFICATION_RESPONSE"}
DECLARATIONS = {"ACDD", "ACDD_RESPONSE", "ACDD_CANCELLATION"}
TARIFF = {"TARIFF_SCHEDULE"}
TRANSIT = {"TRANSIT_RECORD", "TRANSIT_EVENT", "TRANSIT_ALERT"}


@pytest.fixture
def without_origin_or_declarations() -> Iterator[None]:
    """This process runs with the exchange and the domains below origin only."""
    kept = tuple(d for d in domains.DOMAINS if d.name not in ("origin", "declarations"))
    domain.install(kept, domains.RULES)
    try:
        yield
    finally:
        domains.install()


def refusal(exc: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in exc.value.errors]


@pytest.mark.usefixtures("without_origin_or_declarations")
def test_a_type_no_installed_domain_registered_is_refused() -> None:
    assert set(documents.document_types()) == {"RECEIPT"} | TARIFF | TRANSIT
    for name in ("FORM_D", "FORM_D_STATUS", "ACDD", "ACDD_RESPONSE"):
        with pytest.raises(InvalidInput) as exc:
            documents.document_type(name)
        assert refusal(exc) == [("document_type", "unknown_document_type")]
    element = etree.fromstring(b'<FormD xmlns="urn:onewindow:xsd:form-d:1"/>')
    with pytest.raises(InvalidInput) as exc:
        documents.validate("FORM_D", element)
    assert refusal(exc) == [("document_type", "unknown_document_type")]
    with pytest.raises(InvalidInput) as exc:
        handlers.register_handler("ACDD", lambda session, incoming: None)
    assert refusal(exc) == [("document_type", "unknown_document_type")]


def test_the_registry_follows_the_installed_domains() -> None:
    every = set(documents.document_types())
    kept = tuple(d for d in domains.DOMAINS if d.name != "declarations")
    domain.install(kept, domains.RULES)
    try:
        assert every - set(documents.document_types()) == DECLARATIONS
        assert documents.document_type("FORM_D") is FORM_D
    finally:
        domains.install()
    assert set(documents.document_types()) == every


def test_each_domain_registers_its_own_types() -> None:
    owned: dict[str, set[str]] = {}
    for each in domain.installed():
        if each.documents:
            owned[each.name] = {t.name for t in domain.load(each.documents)}
    assert owned == {
        "exchange": {"RECEIPT"},
        "tariff": TARIFF,
        "origin": ORIGIN,
        "declarations": DECLARATIONS,
        "transit": TRANSIT,
    }


def test_a_name_registered_twice_with_another_type_is_refused() -> None:
    documents.register_document_types([FORM_D])  # the same type again: nothing new
    assert documents.document_type("FORM_D") is FORM_D
    other = documents.DocumentType("FORM_D", FORM_D.schema, FORM_D.namespace, "Other")
    with pytest.raises(ValueError, match="FORM_D is registered twice"):
        documents.register_document_types([other])
    assert documents.document_type("FORM_D") is FORM_D


@pytest.mark.parametrize("name", sorted(documents.document_types()))
def test_each_registered_types_xsd_loads(name: str) -> None:
    """With both validators, the shared types of the exchange's common.xsd included from the
    domain's folder, and the type's root element declared in its namespace."""
    kind = documents.document_type(name)
    assert kind.schema.is_file()
    loaded = documents.schema(kind.schema)
    assert loaded.target_namespace == kind.namespace
    assert kind.root in loaded.elements
    assert "CountryCodeType" in loaded.types  # from common.xsd
    assert isinstance(documents._compiled(kind.schema), etree.XMLSchema)


def test_the_envelopes_xsd_loads() -> None:
    loaded = documents.schema(documents.ENVELOPE.schema)
    assert loaded.target_namespace == documents.ENVELOPE.namespace
    assert documents.ENVELOPE.root in loaded.elements
