"""The kinds of field every schema uses: identifiers, free text and query bounds, each defined
once so that every domain refuses the same things with the same error.

Identifiers (party ids, references, codes) are strict ASCII: a right-to-left mark or a
zero-width space inside `0101234567` makes a second party that looks like the first to an
officer, and an id that no lookup finds. Nothing but the listed characters is accepted.

Free text (names, descriptions, notes) keeps any printable Unicode: Vietnamese, Thai and Lao
names are the normal case. What it refuses are the characters that hide or reorder text when it
is shown: C0 and C1 controls; the bidirectional controls (U+202A-U+202E, U+2066-U+2069 and the
marks U+200E, U+200F, U+061C), with which `U+202E` makes "smartphones [RLO]seettegarc" display
as something else in an officer's screen; the zero-width and invisible characters
(U+200B-U+200D, U+2060-U+2064, U+FEFF, U+00AD, U+180E); the line and paragraph separators
U+2028, U+2029, which break a one-line display; the interlinear annotation controls
(U+FFF9-U+FFFB); and the tag characters (U+E0000-U+E007F) that carry hidden ASCII. Such text is
refused with an error naming the field, not silently cleaned: the trader sees what was wrong,
and what is stored is what was sent.

The patterns are plain character classes with `\\x`, `\\u` and `\\U` escapes, which pydantic's
regex engine, Python's `re` (schemathesis, hypothesis) and JavaScript (Swagger UI) all read.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from onewindow.kit.codes import INCOTERMS
from onewindow.kit.errors import Text, pattern

# ---- free text ----

_HIDDEN = (
    r"\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    r"\u2066-\u2069\ufeff\ufff9-\ufffb\U000E0000-\U000E007F"
)
TEXT = pattern(
    rf"^[^{_HIDDEN}]*$",
    Text("control, bidirectional or invisible characters are not allowed"),
    "control_characters",  # the stable code since the first release
)

# Any length, blank allowed: for a service that checks emptiness with its own message.
FreeText = Annotated[str, StringConstraints(pattern=TEXT)]
Printable = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=TEXT)]
Text20 = Annotated[Printable, StringConstraints(max_length=20)]
Text35 = Annotated[Printable, StringConstraints(max_length=35)]
Text40 = Annotated[Printable, StringConstraints(max_length=40)]
Text60 = Annotated[Printable, StringConstraints(max_length=60)]
Text100 = Annotated[Printable, StringConstraints(max_length=100)]
Text200 = Annotated[Printable, StringConstraints(max_length=200)]
Text300 = Annotated[Printable, StringConstraints(max_length=300)]
Text500 = Annotated[Printable, StringConstraints(max_length=500)]
Text1000 = Annotated[Printable, StringConstraints(max_length=1000)]

# ---- identifiers ----


COUNTRY = r"^[A-Z]{2}$"
CURRENCY = r"^[A-Z]{3}$"
LOCODE = r"^[A-Z]{2}[A-Z2-9]{3}$"
# A tax or trader identification number, the national one or a partner country's.
PARTY_ID = r"^[A-Z0-9][A-Z0-9./-]{0,34}$"
# A certificate of origin's reference as its issuer numbers it, such as TH-2026-000123.
CERTIFICATE_REF = r"^[A-Z0-9][A-Z0-9/-]{2,39}$"
# A commercial reference chosen by a trader or a bank: an invoice, a payment.
REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,59}$"
INCOTERM = "^(" + "|".join(sorted(INCOTERMS)) + ")$"


def _id(regex: str, message: str) -> StringConstraints:
    return StringConstraints(pattern=pattern(regex, message))


Country = Annotated[str, _id(COUNTRY, Text("must be two capital letters (ISO 3166 alpha-2)"))]
Currency = Annotated[str, _id(CURRENCY, Text("must be three capital letters (ISO 4217)"))]
Locode = Annotated[str, _id(LOCODE, Text("must be a five-character UN/LOCODE, such as VNHPH"))]
PartyId = Annotated[
    str,
    _id(
        PARTY_ID,
        Text("must be 1 to 35 capital letters, digits, '.', '/' or '-', such as 0101234567"),
    ),
]
CertificateRef = Annotated[
    str,
    _id(
        CERTIFICATE_REF,
        Text("must be 3 to 40 capital letters, digits, '/' or '-', such as TH-2026-000123"),
    ),
]
Reference = Annotated[
    str,
    _id(REFERENCE, Text("must be 1 to 60 letters, digits, '.', '/', '_' or '-', such as INV-001")),
]
HsLine = Annotated[str, _id(r"^\d{8}$", Text("must be eight digits (a national tariff line)"))]
HsCode = Annotated[str, _id(r"^\d{6}(\d{2})?$", Text("must be six or eight digits (an HS code)"))]
Unit = Annotated[
    str, _id(r"^[A-Z0-9]{2,3}$", Text("must be a UN/ECE Rec 20 unit code, such as PCE or KGM"))
]
Incoterm = Annotated[str, _id(INCOTERM, Text("must be an Incoterms 2020 code, such as CIF or FOB"))]
# A value an officer corrects: an HS code, a country, a quantity or an amount.
CorrectedValue = Annotated[
    str, _id(r"^[A-Za-z0-9.]{1,40}$", Text("must be a code or a number (letters, digits and '.')"))
]

# ---- numbers in query strings ----

# Offsets and sizes in query strings fit a database's 64-bit integer with room to spare: a
# larger one (9223372036854775808) overflowed in the driver and answered 500.
MAX_OFFSET = 2**31 - 1
