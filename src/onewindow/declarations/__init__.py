"""Declarations: the customs core, from lodging to release."""

from onewindow.declarations.documents import acdd_from_xml, acdd_to_xml
from onewindow.declarations.lodging import Context
from onewindow.declarations.models import (
    AmendmentRequest,
    Control,
    Declaration,
    DeclarationItem,
    TaxLineRow,
)
from onewindow.declarations.readmodel import audit_read, clearance_report, to_read
from onewindow.declarations.schemas import DeclarationCreate, DeclarationRead

__all__ = [
    "AmendmentRequest",
    "Context",
    "Control",
    "Declaration",
    "DeclarationCreate",
    "DeclarationItem",
    "DeclarationRead",
    "TaxLineRow",
    "acdd_from_xml",
    "acdd_to_xml",
    "audit_read",
    "clearance_report",
    "to_read",
]
