"""The rows of each national list as a file gives them, and what the API and CLI answer.

A list's row model is its schema: the columns every list has (code, description) and its own
attributes, each a typed field. Adding a list is a model here and a line in `lists.py`; the
table does not change (see models.py).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from onewindow.kit.codes import is_locode
from onewindow.kit.errors import pattern
from onewindow.kit.fields import Locode, Text100, Text300

CODE = pattern(
    r"^[A-Z0-9][A-Z0-9._/-]{0,19}$",
    "must be 1 to 20 capital letters, digits, '.', '_', '/' or '-', such as 03CE",
)
Code = Annotated[str, StringConstraints(pattern=CODE)]
OfficeKind = Literal["border", "inland", "port", "airport"]


class Entry(BaseModel):
    """The columns of every list."""

    model_config = ConfigDict(extra="forbid")
    code: Code
    description: Text300


class OfficeRow(Entry):
    """A customs office (Chi cục Hải quan): where goods are declared and cleared."""

    kind: OfficeKind
    locode: Locode  # the UN/LOCODE of the place it sits at: a declaration's `office`

    @field_validator("locode")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if not is_locode(value):
            msg = f"{value}: {value[:2]} is not an ISO 3166 country"
            raise PydanticCustomError("unknown_country", msg)
        return value


class PackageRow(Entry):
    """A kind of package as the nation adopted UN/ECE Recommendation 21."""


class DocumentRow(Entry):
    """A supporting document's national code: licences, certificates, permits."""

    authority: Text100 | None = None  # who issues it, when the list says


class EntryRead(BaseModel):
    code: str
    description: str
    attributes: dict[str, str | None]
    valid_from: date
    valid_to: date | None


class ListRead(BaseModel):
    name: str
    title: str
    columns: list[str]  # of its CSV file, in order
    entries: int  # in force on the date asked
    last_change: date | None  # the latest date on or before it from which the list changed


class ListEntries(BaseModel):
    name: str
    title: str
    on: date
    entries: list[EntryRead]


class ImportResult(BaseModel):
    """What an edition changed: entries new, changed (old version closed, new one opened),
    closed (absent from the file) and kept as they were."""

    name: str
    valid_from: date
    added: int
    changed: int
    closed: int
    unchanged: int
