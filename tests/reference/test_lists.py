"""Reading a list's CSV file: every bad row named by its line and column with a stable code,
nothing accepted from a file with any problem."""

from __future__ import annotations

from importlib import resources

import pytest

from onewindow.kit.errors import InvalidInput, NotFound
from onewindow.reference import LISTS, code_list
from onewindow.reference.lists import parse

OFFICES = code_list("offices")
HEADER = "code,description,kind,locode\n"


def problems(kind_name: str, text: str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse(code_list(kind_name), text)
    return [(e.path, e.code) for e in caught.value.errors]


def test_the_sample_offices_file_reads_whole() -> None:
    text = (resources.files("onewindow") / "data" / "sample_offices.csv").read_text()
    rows = parse(OFFICES, text)
    assert len(rows) == 9
    assert rows[0] == {
        "code": "HN01",
        "description": "Chi cục Hải quan sân bay quốc tế Nội Bài",
        "attributes": {"kind": "airport", "locode": "VNHAN"},
    }


def test_each_list_has_code_and_description_then_its_own_columns() -> None:
    assert OFFICES.header == ("code", "description", "kind", "locode")
    assert LISTS["packages"].header == ("code", "description")
    assert LISTS["documents"].attributes == ("authority",)


def test_every_bad_row_is_named_by_line_and_column_with_a_code() -> None:
    text = (
        HEADER
        + "HP01,Hai Phong port,port,VNHPH\n"  # line 2: good
        + "hp 2,Hai Phong 2,harbour,VNHPH\n"  # line 3: code and kind
        + "HP03,,port,XXHPH\n"  # line 4: description missing, no such country
        + "HP01,Again,inland,VNHAN\n"  # line 5: duplicate
        + "HP04,Hidden\u202etext,port,vnhph\n"  # line 6: bidi control, locode format
        + "hp 2,Twice,inland,VNHAN\n"  # line 7: a duplicate of a bad row
    )
    assert problems("offices", text) == [
        ("line 3.code", "string_pattern_mismatch"),
        ("line 3.kind", "literal_error"),
        ("line 4.description", "missing"),
        ("line 4.locode", "unknown_country"),
        ("line 5.code", "duplicate"),
        ("line 6.description", "control_characters"),
        ("line 6.locode", "string_pattern_mismatch"),
        ("line 7.code", "duplicate"),
        ("line 7.code", "string_pattern_mismatch"),
    ]


def test_comment_lines_keep_the_numbers_of_the_lines_after_them() -> None:
    text = "# a note\n" + HEADER + "HP01,Hai Phong port,dock,VNHPH\n"
    assert problems("offices", text) == [("line 3.kind", "literal_error")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [("file", "empty")]),
        (HEADER, [("file", "empty")]),
        ("code,description\nHP01,x\n", [("header", "bad_header")]),
        (HEADER + "HP01,x,port,VNHPH,extra\n", [("line 2", "extra_columns")]),
    ],
)
def test_a_file_without_the_right_shape_is_refused(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert problems("offices", text) == expected


def test_an_optional_attribute_may_be_left_blank() -> None:
    text = "code,description,authority\nCO-D,Certificate of origin Form D,\n"
    (row,) = parse(code_list("documents"), text)
    assert row["attributes"] == {"authority": None}


def test_an_unknown_list_is_not_found_and_names_the_lists() -> None:
    with pytest.raises(NotFound, match="offices, packages, documents"):
        code_list("ports")
