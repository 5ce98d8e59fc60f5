"""Declarations: the customs core, from lodging to release."""

from onewindow.declarations.lodging import Context
from onewindow.declarations.models import Control, Declaration, DeclarationItem, TaxLineRow
from onewindow.declarations.readmodel import clearance_report, to_read
from onewindow.declarations.schemas import DeclarationCreate, DeclarationRead

__all__ = [
    "Context",
    "Control",
    "Declaration",
    "DeclarationCreate",
    "DeclarationItem",
    "DeclarationRead",
    "TaxLineRow",
    "clearance_report",
    "to_read",
]
