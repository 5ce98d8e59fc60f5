from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from onewindow.kit.money import round_money
from onewindow.tariff.duty import Rates, item_taxes, to_national, totals

RATES = Rates(mfn=Decimal(10), atiga=Decimal(0), vat=Decimal(10))


def test_the_readme_declaration_with_and_without_preference() -> None:
    value = to_national(Decimal("20000.00"), Decimal(26350), "VND")
    assert value == Decimal(527_000_000)
    mfn = totals(item_taxes(value, RATES, False, "VND"))
    assert mfn == {"IMPORT_DUTY": Decimal(52_700_000), "VAT": Decimal(57_970_000)}
    atiga = totals(item_taxes(value, RATES, True, "VND"))
    assert atiga == {"IMPORT_DUTY": Decimal(0), "VAT": Decimal(52_700_000)}


def test_vnd_has_no_minor_unit_and_usd_has_cents() -> None:
    assert round_money(Decimal("1234.5"), "VND") == Decimal(1235)
    assert round_money(Decimal("1234.565"), "USD") == Decimal("1234.57")


def test_no_atiga_rate_means_mfn_even_if_granted() -> None:
    lines = item_taxes(Decimal(1000), Rates(Decimal(135), None, Decimal(10)), True, "VND")
    assert lines[0].rate_kind == "MFN" and lines[0].amount == Decimal(1350)


money = st.decimals(min_value=Decimal(1), max_value=Decimal("1e12"), places=0)
rate = st.decimals(min_value=Decimal(0), max_value=Decimal(200), places=2)


@given(value=money, mfn=rate, vat=rate)
def test_taxes_are_whole_dong_and_vat_is_on_value_plus_duty(
    value: Decimal, mfn: Decimal, vat: Decimal
) -> None:
    duty, vat_line = item_taxes(value, Rates(mfn, Decimal(0), vat), False, "VND")
    for line in (duty, vat_line):
        assert line.amount == line.amount.to_integral_value()
        assert abs(line.amount - line.base * line.rate / 100) <= Decimal("0.5")
    assert vat_line.base == value + duty.amount
