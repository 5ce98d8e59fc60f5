from decimal import Decimal

import pytest

from onewindow.kit.errors import InvalidInput
from onewindow.tariff.files import parse_rates, parse_schedule

HEADER = "code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to\n"


def test_parses_lines_with_optional_atiga_and_open_end() -> None:
    rows = parse_schedule(HEADER + "24022020,Cigarettes,PCE,135,,10,2022-01-01,\n")
    assert rows[0]["mfn_rate"] == Decimal(135)
    assert rows[0]["atiga_rate"] is None
    assert rows[0]["valid_to"] is None


def test_a_bad_file_lists_every_bad_row_and_reason() -> None:
    text = HEADER + (
        "8517130,Short code,PCE,10,0,10,2022-01-01,\n"  # 7 digits
        "99999999,Not HS,PCE,10,0,10,2022-01-01,\n"  # 999999 is no HS subheading
        "85171300,Phones,XXX,ten,0,10,2022-13-01,\n"  # unit, rate and date wrong
        "85171300,Phones,PCE,10,0,10,2022-01-01,2021-01-01\n"  # ends before it starts
    )
    with pytest.raises(InvalidInput) as caught:
        parse_schedule(text)
    found = {(e.path, e.code) for e in caught.value.errors}
    assert ("line 2.code", "format") in found
    assert ("line 3.code", "unknown_hs") in found
    assert ("line 4.unit", "unknown_unit") in found
    assert ("line 4.mfn_rate", "invalid") in found
    assert ("line 4.valid_from", "invalid") in found
    assert ("line 5.valid_to", "order") in found


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), (HEADER, "empty"), ("code,rate\n1,2\n", "bad_header")],
)
def test_empty_or_wrong_header_is_refused(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_schedule(text)
    assert caught.value.errors[0].code == code


def test_rates_must_be_positive_and_currencies_known() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rates("currency,rate,valid_from\nUSD,0,2026-01-01\nXYZ,3,2026-01-01\n")
    assert {e.code for e in caught.value.errors} == {"not_positive", "unknown_currency"}
