"""What the ledger hashes and signs, byte for byte, so that anyone can recompute it. Pure.

Leaf data is the entry as canonical JSON: an object with exactly the keys below, sorted,
no whitespace, UTF-8, integers as integers (RFC 8785 JCS gives the same bytes for these
values). For example:

    {"document_id":"VN-2025-000001","document_sha256":"9f86…","document_type":"form_d",
     "issuer_country":"VN","kind":"issued","logged_at":"2025-01-02T03:04:05.000000Z","v":1,
     "version":1}

`logged_at` is UTC with exactly six fractional digits and a `Z`. The Merkle leaf hash is then
SHA-256(0x00 ‖ leaf data), as RFC 9162 prescribes.

A signed tree head signs a C2SP tlog-checkpoint body with one extension line:

    <origin>\\n<tree size>\\n<base64 root hash>\\ntime <logged_at-style UTC time>\\n
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import orjson

from onewindow.kit.codes import is_country
from onewindow.kit.errors import FieldError

LEAF_FORMAT = 1
KINDS = ("issued", "received", "revoked", "status_change")
MAX_VERSION = 2**31 - 1

_DOCUMENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
# Printable, no surrounding spaces: an identifier people read and type.
_DOCUMENT_ID = re.compile(
    r"[^\x00-\x20\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]{0,98}[^\x00-\x20\x7f-\x9f])?"
)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ORIGIN = re.compile(r"[\x21-\x7e]{1,200}")


@dataclass(frozen=True)
class LeafEntry:
    document_type: str
    document_id: str
    version: int
    issuer_country: str
    document_sha256: str  # lowercase hex SHA-256 of the canonical document
    logged_at: datetime
    kind: str


@lru_cache(maxsize=1024)  # a batch of entries usually shares one time; formatting is slow
def format_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@lru_cache(maxsize=512)
def _known_country(code: str) -> bool:
    return is_country(code)


def is_valid(entry: LeafEntry) -> bool:
    """The quick yes for the common case; `check_entry` says what is wrong otherwise."""
    try:
        return bool(
            _DOCUMENT_TYPE.fullmatch(entry.document_type)
            and _DOCUMENT_ID.fullmatch(entry.document_id)
            and _SHA256.fullmatch(entry.document_sha256)
            and type(entry.version) is int
            and 1 <= entry.version <= MAX_VERSION
            and entry.kind in KINDS
            and _known_country(entry.issuer_country)
            and isinstance(entry.logged_at, datetime)
            and entry.logged_at.utcoffset() is not None
        )
    except TypeError:  # a field of the wrong type (regex on a non-string, unhashable value)
        return False


def check_entry(entry: object, path: str = "entry") -> list[FieldError]:
    """Every reason the entry cannot be logged; empty when it can."""
    if not isinstance(entry, LeafEntry):
        return [FieldError(path, "type", f"expected a LeafEntry, not {type(entry).__name__}")]
    if is_valid(entry):
        return []
    errors: list[FieldError] = []

    def bad(field: str, code: str, message: str) -> None:
        errors.append(FieldError(f"{path}.{field}", code, message))

    if not (isinstance(entry.document_type, str) and _DOCUMENT_TYPE.fullmatch(entry.document_type)):
        bad("document_type", "pattern", "1-40 letters, digits, '.', '_' or '-'")
    if not (isinstance(entry.document_id, str) and _DOCUMENT_ID.fullmatch(entry.document_id)):
        bad("document_id", "pattern", "1-100 printable characters, no surrounding spaces")
    version = entry.version
    if not (isinstance(version, int) and not isinstance(version, bool)):
        bad("version", "type", "must be an integer")
    elif not 1 <= version <= MAX_VERSION:
        bad("version", "range", f"must be between 1 and {MAX_VERSION}")
    country = entry.issuer_country
    if not (isinstance(country, str) and len(country) == 2 and country.isupper()):
        bad("issuer_country", "pattern", "an ISO 3166 alpha-2 code in capitals")
    elif not _known_country(country):
        bad("issuer_country", "unknown_country", f"{country!r} is not an ISO 3166 country")
    if not (isinstance(entry.document_sha256, str) and _SHA256.fullmatch(entry.document_sha256)):
        bad("document_sha256", "pattern", "64 lowercase hexadecimal digits")
    if not isinstance(entry.logged_at, datetime) or entry.logged_at.utcoffset() is None:
        bad("logged_at", "timezone", "must be a datetime with a time zone")
    if entry.kind not in KINDS:
        bad("kind", "choice", f"must be one of {', '.join(KINDS)}")
    return errors


def leaf_data(entry: LeafEntry) -> bytes:
    """The canonical bytes of a (checked) entry: what the Merkle leaf hashes."""
    return orjson.dumps(
        {
            "document_id": entry.document_id,
            "document_sha256": entry.document_sha256,
            "document_type": entry.document_type,
            "issuer_country": entry.issuer_country,
            "kind": entry.kind,
            "logged_at": format_time(entry.logged_at),
            "v": LEAF_FORMAT,
            "version": entry.version,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def check_origin(origin: str) -> str:
    if not (isinstance(origin, str) and _ORIGIN.fullmatch(origin)):
        raise ValueError(f"a log origin is 1-200 printable ASCII characters, not {origin!r}")
    return origin


def ledger_origin(country: str) -> str:
    """The name this node's log signs under; partners key their witness records by it."""
    return f"onewindow/{country}/ledger"


def tree_head_message(origin: str, tree_size: int, root_hash: bytes, signed_at: datetime) -> bytes:
    """The exact bytes a tree head signature covers."""
    check_origin(origin)
    root = base64.b64encode(root_hash).decode()
    return f"{origin}\n{tree_size}\n{root}\ntime {format_time(signed_at)}\n".encode()
