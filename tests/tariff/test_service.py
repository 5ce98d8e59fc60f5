from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.kit import i18n
from onewindow.kit.errors import InvalidInput, NotFound
from onewindow.tariff import (
    Rates,
    TariffBook,
    TariffLine,
    import_rates,
    import_schedule,
    line_in_force,
    rate_in_force,
)

HEADER = "code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to\n"


def test_a_later_valid_from_rerates_the_line(session: Session) -> None:
    import_schedule(
        session,
        HEADER + "22030010,Beer,LTR,35,0,10,2022-01-01,2026-12-31\n"
        "22030010,Beer,LTR,40,0,10,2027-01-01,\n",
    )
    assert line_in_force(session, "22030010", date(2026, 12, 31)).mfn_rate == Decimal(35)
    assert line_in_force(session, "22030010", date(2027, 1, 1)).mfn_rate == Decimal(40)
    with pytest.raises(NotFound) as missing:
        line_in_force(session, "22030010", date(2021, 12, 31))
    assert missing.value.detail == "no tariff line 22030010 is in force on 2021-12-31"
    i18n.use("vi")  # as a page would show it
    try:
        assert i18n.gettext(missing.value.detail) == (
            "không có dòng thuế 22030010 có hiệu lực vào ngày 2021-12-31"
        )
    finally:
        i18n.use("en")


def test_reimport_replaces_and_bad_file_loads_nothing(session: Session) -> None:
    import_schedule(session, HEADER + "85171300,Phones,PCE,10,0,10,2022-01-01,\n")
    import_schedule(session, HEADER + "85171300,Phones,PCE,12,0,10,2022-01-01,\n")
    assert session.scalar(select(func.count()).select_from(TariffLine)) == 1
    with pytest.raises(InvalidInput):
        import_schedule(
            session,
            HEADER + "84713020,Laptops,PCE,0,0,10,2022-01-01,\n99999999,x,PCE,1,1,1,2022-01-01,\n",
        )
    assert session.scalar(select(func.count()).select_from(TariffLine)) == 1


def test_rate_in_force_takes_the_latest_start(session: Session) -> None:
    import_rates(session, "currency,rate,valid_from\nUSD,25400,2026-01-01\nUSD,26350,2026-11-01\n")
    assert rate_in_force(session, "USD", date(2026, 10, 31)) == Decimal(25400)
    assert rate_in_force(session, "USD", date(2026, 11, 20)) == Decimal(26350)
    with pytest.raises(NotFound):
        rate_in_force(session, "USD", date(2025, 1, 1))


def test_the_book_of_a_batch_answers_per_code_and_date(session: Session) -> None:
    """What lodging uses: one book for many declarations, asked again and again."""
    import_schedule(
        session,
        HEADER + "22030010,Beer,LTR,35,5,10,2022-01-01,2026-12-31\n"
        "22030010,Beer,LTR,40,,10,2027-01-01,\n",
    )
    import_rates(session, "currency,rate,valid_from\nUSD,25400,2026-01-01\nUSD,26350,2026-11-01\n")
    book = TariffBook(session, ["22030010", "85171300"], ["USD", "EUR"])
    for _ in range(2):  # the second round is answered from what the first found
        assert book.in_force("22030010", date(2026, 12, 31)) == Rates(
            Decimal(35), Decimal(5), Decimal(10)
        )
        assert book.in_force("22030010", date(2027, 1, 1)) == Rates(Decimal(40), None, Decimal(10))
        assert book.in_force("22030010", date(2021, 12, 31)) is None
        assert book.in_force("85171300", date(2027, 1, 1)) is None
        assert book.rate("USD", date(2026, 10, 31)) == Decimal(25400)
        assert book.rate("USD", date(2026, 11, 20)) == Decimal(26350)
        assert book.rate("EUR", date(2026, 11, 20)) is None
    assert book.known("22030010") and not book.known("85171300")
