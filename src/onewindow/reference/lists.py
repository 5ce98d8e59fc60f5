"""The national code lists a node keeps, and the reading of one list's CSV file. Pure: text in,
rows or errors out.

A file is accepted whole or not at all: every bad row is reported with its line, its column
and a stable code, so that the person who fixes the file sees every problem at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from onewindow.kit.errors import FieldError, InvalidInput, NotFound, from_validation
from onewindow.reference.schemas import DocumentRow, Entry, OfficeRow, PackageRow

COMMON = ("code", "description")


@dataclass(frozen=True)
class CodeList:
    name: str
    title: str
    row: type[Entry]

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(f for f in self.row.model_fields if f not in COMMON)

    @property
    def header(self) -> tuple[str, ...]:
        return COMMON + self.attributes


LISTS: dict[str, CodeList] = {
    each.name: each
    for each in (
        CodeList("offices", "Customs offices", OfficeRow),
        CodeList("packages", "Kinds of package (UN/ECE Rec 21)", PackageRow),
        CodeList("documents", "Supporting documents", DocumentRow),
    )
}


def code_list(name: str) -> CodeList:
    found = LISTS.get(name)
    if found is None:
        raise NotFound(f"there is no reference list {name!r}; the lists: {', '.join(LISTS)}")
    return found


def _records(text: str, header: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    # Comment lines (#) let a sample file say what it is; they keep their line numbers.
    lines = [("" if ln.lstrip().startswith("#") else ln) for ln in text.splitlines()]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    found: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if found is None:
            found = [v.strip() for v in values]
            if tuple(found) != header:
                msg = f"expected header {','.join(header)}; found {','.join(found)}"
                raise InvalidInput([FieldError("header", "bad_header", msg)])
            continue
        cells = [v.strip() for v in values]
        if len(cells) > len(header):
            where = f"line {reader.line_num}"
            msg = f"{len(cells)} columns; the header has {len(header)}"
            raise InvalidInput([FieldError(where, "extra_columns", msg)])
        # A blank or short cell is a value left out: a required one is then "missing".
        given = {k: v for k, v in zip(header, cells, strict=False) if v}
        rows.append((reader.line_num, given))
    if found is None:
        raise InvalidInput([FieldError("file", "empty", "the file has no header and no rows")])
    if not rows:
        raise InvalidInput([FieldError("file", "empty", "the file has a header but no rows")])
    return rows


def parse(kind: CodeList, text: str) -> list[dict[str, Any]]:
    """The file's entries as {code, description, attributes}; InvalidInput naming every bad
    row and column (`line 4.kind`) when any is wrong."""
    errors: list[FieldError] = []
    out: list[dict[str, Any]] = []
    first: dict[str, int] = {}
    for number, record in _records(text, kind.header):
        where = f"line {number}"
        # A code seen before is reported even when either row has other faults too.
        code = record.get("code", "")
        if code and code in first:
            msg = f"{code} is on line {first[code]} already"
            errors.append(FieldError(f"{where}.code", "duplicate", msg))
        first.setdefault(code, number)
        try:
            row = kind.row.model_validate(record)
        except ValidationError as exc:
            for e in from_validation(exc.errors()):
                errors.append(FieldError(f"{where}.{e.path}", e.code, e.message))
            continue
        attributes = row.model_dump(exclude=set(COMMON))
        out.append({"code": row.code, "description": row.description, "attributes": attributes})
    if errors:
        detail = f"the {kind.name} file has {len(errors)} error(s); nothing was loaded"
        raise InvalidInput(errors, detail)
    return out
