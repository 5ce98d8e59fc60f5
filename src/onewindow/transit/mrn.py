"""Movement reference numbers (MRN) and guarantee reference numbers (GRN), as NCTS writes
them: 18 characters, the year (2 digits), the country (2 letters), a unique part (13 letters
and digits) and a check character.

The check character is computed as ISO 6346 computes a container's (the rule NCTS uses): each
of the first 17 characters has a value (digits their own; letters from A = 10 upwards,
leaving out 11, 22 and 33), weighted by 2 to the power of its position; the sum modulo 11,
then modulo 10. A mistyped character or two swapped neighbours changes it.
"""

from __future__ import annotations

import re
import string

_LETTERS = [n for n in range(10, 39) if n % 11][:26]
_VALUES = {
    **{d: int(d) for d in string.digits},
    **dict(zip(string.ascii_uppercase, _LETTERS, strict=True)),
}
FORMAT = re.compile(r"^\d{2}[A-Z]{2}[A-Z0-9]{13}\d$")


def check_character(body: str) -> str:
    """The check character of the first 17 characters of an MRN or GRN."""
    return str(sum(_VALUES[c] * 2**i for i, c in enumerate(body)) % 11 % 10)


def make(year: int, country: str, unique: str) -> str:
    """The reference for `year`'s `unique` part (13 letters and digits) in `country`."""
    body = f"{year % 100:02d}{country}{unique}"
    if len(body) != 17 or not FORMAT.match(body + "0"):
        raise ValueError(f"not an MRN body: {body!r}")
    return body + check_character(body)


def is_valid(reference: str) -> bool:
    return bool(FORMAT.match(reference)) and check_character(reference[:17]) == reference[17]


def country(reference: str) -> str:
    """The country that allocated it (the office of departure's, for an MRN)."""
    return reference[2:4]
