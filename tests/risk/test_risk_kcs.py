"""The KCS adapter: the canonical frame, revenue as defined, and clear errors on bad files."""

from __future__ import annotations

import pytest

from onewindow.kit.errors import InvalidInput
from onewindow.risk.columns import COLUMNS
from onewindow.risk.kcs import parse_kcs

HEADER = (
    "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,"
    "Mode of Transport,Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,"
    "Country of Departure,Country of Origin,Tax Rate,Tax Type,Country of Origin Indicator,"
    "Net Mass,Item Price,Fraud,Critical Fraud"
)
ROW = (
    "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,10121,BE,BE,8.0,FEU1,G,"
    "108.0,1000.0,1,0"
)
ROW2 = (
    "85945189,2020-01-02,40,B,11,21,11,40,SWF9S4X,7JD1S2X,,,690722,CN,CN,8.0,A,Y,11352.0,500.5,0,0"
)


def _errors(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse_kcs(text, source="f.csv")
    return [(e.path, e.code, e.message) for e in caught.value.errors]


def test_a_good_file_becomes_the_canonical_frame() -> None:
    frame = parse_kcs(f"{HEADER}\n{ROW}\n{ROW2}\n")
    assert tuple(frame.columns) == COLUMNS
    first = frame.iloc[0]
    assert first["hs6"] == "010121"  # zero-padded
    assert first["seller"] == "0VKY2BR"
    assert frame.iloc[1]["seller"] == ""  # missing seller is an empty code, not NaN
    assert first["label"] == 1.0
    assert first["revenue"] == pytest.approx(1000.0 * 8.0 / 100)  # Fraud * price * rate / 100
    assert frame.iloc[1]["revenue"] == 0.0


def test_without_fraud_column_rows_are_unlabelled() -> None:
    header = HEADER.replace(",Fraud,Critical Fraud", "")
    row = ROW.rsplit(",", 2)[0]
    frame = parse_kcs(f"{header}\n{row}\n")
    assert frame["label"].isna().all()


def test_missing_and_renamed_columns_are_named() -> None:
    header = HEADER.replace("Net Mass", "NetMass").replace("Importer ID,", "")
    row = ROW.replace("QLRUBN9,", "")
    errors = _errors(f"{header}\n{row}\n")
    assert ("f.csv.Importer ID", "missing_column", "column is missing") in errors
    renamed = [e for e in errors if e[0] == "f.csv.Net Mass"]
    assert renamed and "NetMass" in renamed[0][2]


def test_wrong_types_name_the_column_and_row() -> None:
    bad = ROW2.replace("11352.0", "heavy").replace("2020-01-02", "yesterday")
    errors = _errors(f"{HEADER}\n{ROW}\n{bad}\n")
    assert ("f.csv.net_mass", "invalid_value", "row 2: 'heavy' is not a number") in errors
    assert any(e[0] == "f.csv.date" and "row 2" in e[2] for e in errors)


def test_labels_must_be_zero_or_one() -> None:
    errors = _errors(f"{HEADER}\n{ROW.replace(',1,0', ',7,0')}\n")
    assert errors == [("f.csv.label", "invalid_value", "row 1: 7.0 is not 0 or 1")]


def test_negative_amounts_are_refused() -> None:
    errors = _errors(f"{HEADER}\n{ROW.replace(',1000.0,', ',-5,')}\n")
    assert errors[0][0] == "f.csv.value" and "negative" in errors[0][2]


@pytest.mark.parametrize(
    ("text", "code"), [("", "empty"), ("   \n", "empty"), (HEADER + "\n", "empty")]
)
def test_empty_input_is_refused(text: str, code: str) -> None:
    assert _errors(text)[0][1] == code


def test_text_that_is_not_csv_is_refused() -> None:
    errors = _errors('a,b\n"unterminated\n')
    assert errors[0][1] in ("not_csv", "missing_column")
