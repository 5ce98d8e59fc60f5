"""Reference: the national code lists a customs administration keeps, by validity date."""

from onewindow.reference.lists import LISTS, CodeList, code_list
from onewindow.reference.models import ReferenceEntry
from onewindow.reference.schemas import EntryRead, ImportResult, ListEntries, ListRead
from onewindow.reference.service import entries, holds, import_list, summaries

__all__ = [
    "LISTS",
    "CodeList",
    "EntryRead",
    "ImportResult",
    "ListEntries",
    "ListRead",
    "ReferenceEntry",
    "code_list",
    "entries",
    "holds",
    "import_list",
    "summaries",
]
