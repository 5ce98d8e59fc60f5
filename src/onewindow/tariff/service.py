"""Tariff use cases: load schedules and rates, find what is in force on a date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from onewindow.kit.errors import NotFound, Text
from onewindow.tariff import files
from onewindow.tariff.duty import Rates
from onewindow.tariff.models import ExchangeRate, TariffLine


def _replace(session: Session, model: Any, key: tuple[str, str], rows: list[dict[str, Any]]) -> int:
    """Insert rows, replacing any stored row with the same key (re-importing a file is safe)."""
    columns = tuple_(getattr(model, key[0]), getattr(model, key[1]))
    keys = [(r[key[0]], r[key[1]]) for r in rows]
    for start in range(0, len(keys), 500):
        session.execute(delete(model).where(columns.in_(keys[start : start + 500])))
    session.execute(insert(model), rows)
    return len(rows)


def import_schedule(session: Session, text: str) -> int:
    return _replace(session, TariffLine, ("code", "valid_from"), files.parse_schedule(text))


def import_rates(session: Session, text: str) -> int:
    return _replace(session, ExchangeRate, ("currency", "valid_from"), files.parse_rates(text))


def _in_force(on: date) -> Any:
    return (TariffLine.valid_from <= on) & or_(
        TariffLine.valid_to.is_(None), TariffLine.valid_to >= on
    )


def line_in_force(session: Session, code: str, on: date) -> TariffLine:
    stmt = (
        select(TariffLine)
        .where(TariffLine.code == code, _in_force(on))
        .order_by(TariffLine.valid_from.desc())
        .limit(1)
    )
    line = session.scalar(stmt)
    if line is None:
        raise NotFound(
            Text("no tariff line {code} is in force on {on}", code=code, on=on.isoformat())
        )
    return line


def rate_in_force(session: Session, currency: str, on: date) -> Decimal:
    stmt = (
        select(ExchangeRate.rate)
        .where(ExchangeRate.currency == currency, ExchangeRate.valid_from <= on)
        .order_by(ExchangeRate.valid_from.desc())
        .limit(1)
    )
    rate = session.scalar(stmt)
    if rate is None:
        raise NotFound(
            Text(
                "no official exchange rate for {currency} on {on}",
                currency=currency,
                on=on.isoformat(),
            )
        )
    return rate


def list_lines(session: Session, prefix: str = "", limit: int = 100) -> list[TariffLine]:
    stmt = (
        select(TariffLine)
        .where(TariffLine.code.startswith(prefix))
        .order_by(TariffLine.code, TariffLine.valid_from)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def look_up(session: Session, text: str, on: date, limit: int = 20) -> list[TariffLine]:
    """Lines in force on `on` whose code starts with `text` (digits, dots and spaces are
    ignored: 0901.21 finds 09012100) or whose description holds every word of it."""
    digits = text.replace(".", "").replace(" ", "")
    stmt = select(TariffLine).where(
        TariffLine.valid_from <= on, or_(TariffLine.valid_to.is_(None), TariffLine.valid_to >= on)
    )
    if digits.isdigit():
        stmt = stmt.where(TariffLine.code.startswith(digits[:8]))
    else:
        for word in text.split()[:5]:
            stmt = stmt.where(TariffLine.description.ilike(f"%{_like(word)}%", escape="\\"))
    return list(session.scalars(stmt.order_by(TariffLine.code).limit(limit)))


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_rates(session: Session) -> list[ExchangeRate]:
    stmt = select(ExchangeRate).order_by(ExchangeRate.currency, ExchangeRate.valid_from)
    return list(session.scalars(stmt))


_BOOK_LINES = select(TariffLine).where(TariffLine.code.in_(bindparam("codes", expanding=True)))
_BOOK_RATES = select(ExchangeRate).where(
    ExchangeRate.currency.in_(bindparam("currencies", expanding=True))
)


class TariffBook:
    """Tariff lines and rates loaded once for a batch of declarations (few queries, many items)."""

    def __init__(self, session: Session, codes: Iterable[str], currencies: Iterable[str]) -> None:
        self._lines: dict[str, list[TariffLine]] = {}
        wanted = sorted(set(codes))
        for start in range(0, len(wanted), 500):
            for line in session.scalars(_BOOK_LINES, {"codes": wanted[start : start + 500]}):
                self._lines.setdefault(line.code, []).append(line)
        for versions in self._lines.values():
            versions.sort(key=lambda line: line.valid_from, reverse=True)
        self._rates: dict[str, list[ExchangeRate]] = {}
        for rate in session.scalars(_BOOK_RATES, {"currencies": sorted(set(currencies))}):
            self._rates.setdefault(rate.currency, []).append(rate)
        for rates in self._rates.values():
            rates.sort(key=lambda r: r.valid_from, reverse=True)
        # What `in_force` and `rate` found, by code (or currency) and date: the declarations of
        # a batch share few dates, and their items many codes.
        self._in_force: dict[tuple[str, date], Rates | None] = {}
        self._rate_on: dict[tuple[str, date], Decimal | None] = {}

    def line(self, code: str, on: date) -> TariffLine | None:
        for line in self._lines.get(code, ()):
            if line.valid_from <= on and (line.valid_to is None or line.valid_to >= on):
                return line
        return None

    def known(self, code: str) -> bool:
        return code in self._lines

    def in_force(self, code: str, on: date) -> Rates | None:
        """The rates of the line in force on the date, or None when there is none."""
        key = (code, on)
        if key not in self._in_force:
            line = self.line(code, on)
            self._in_force[key] = (
                None if line is None else Rates(line.mfn_rate, line.atiga_rate, line.vat_rate)
            )
        return self._in_force[key]

    def rate(self, currency: str, on: date) -> Decimal | None:
        key = (currency, on)
        if key not in self._rate_on:
            found = (r.rate for r in self._rates.get(currency, ()) if r.valid_from <= on)
            self._rate_on[key] = next(found, None)
        return self._rate_on[key]
