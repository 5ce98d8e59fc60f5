"""How envelopes travel to a partner: a small Protocol, the HTTP implementation, and a
loopback fake for tests.

One POST to `{endpoint}/exchange/v1/messages` carries one envelope (`application/xml`) or
several (`multipart/mixed`, RFC 2046, one `application/xml` part per envelope); the answer is
the signed receipt, or a `multipart/mixed` of receipts in the same order, where a part that is
not XML (a problem document) means the partner gave no receipt for that envelope. Batching
matters: one round trip and one partner transaction for a hundred documents instead of one
each. The framing is parsed strictly and never trusted further than its byte counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import httpx

from onewindow.kit import tls
from onewindow.kit.config import PartnerConfig, get_settings
from onewindow.kit.errors import invalid

PATH = "/exchange/v1/messages"
XML = "application/xml"
MULTIPART = "multipart/mixed"
MAX_PARTS = 1000
_CRLF = b"\r\n"


class TransportError(Exception):
    """An attempt failed before any receipt came back: the partner may or may not have the
    message, and the retry (same message id) settles which."""


class Transport(Protocol):
    def post(self, endpoint: str, envelopes: Sequence[bytes]) -> list[bytes | None]:
        """The receipt for each envelope, in order (None where the partner gave none).
        TransportError when the partner could not be reached or answered nonsense."""
        ...

    def close(self) -> None: ...


# ---- multipart/mixed framing ----


def encode(parts: Sequence[tuple[str, bytes]]) -> tuple[bytes, str]:
    """The body and its Content-Type for parts given as (content type, bytes)."""
    while True:
        boundary = f"ow-{uuid.uuid4().hex}"
        delimiter = b"--" + boundary.encode()
        if not any(delimiter in content for _, content in parts):
            break
    chunks = []
    for content_type, content in parts:
        chunks += [delimiter, _CRLF, b"Content-Type: ", content_type.encode(), _CRLF, _CRLF]
        chunks += [content, _CRLF]
    chunks += [delimiter, b"--", _CRLF]
    return b"".join(chunks), f'{MULTIPART}; boundary="{boundary}"'


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def boundary_of(content_type: str | None) -> str | None:
    """The boundary parameter of a multipart Content-Type, or None."""
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip().strip('"')
            # RFC 2046: 1 to 70 characters, and never ending in a space.
            if 0 < len(value) <= 70 and value.isascii() and not value.endswith(" "):
                return value
    return None


def decode(body: bytes, content_type: str | None) -> list[tuple[str, bytes]]:
    """The (content type, bytes) parts of a multipart/mixed body. InvalidInput
    (`malformed_multipart`) for anything that does not follow the framing above."""
    boundary = boundary_of(content_type)
    if media_type(content_type) != MULTIPART or boundary is None:
        raise _malformed("a multipart/mixed Content-Type with a boundary is required")
    delimiter = _CRLF + b"--" + boundary.encode()
    sections = (_CRLF + body).split(delimiter)
    if len(sections) > MAX_PARTS + 2:
        raise _malformed(f"at most {MAX_PARTS} parts are allowed")
    if sections[0].strip():
        raise _malformed("the body does not start with the boundary")
    parts: list[tuple[str, bytes]] = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            return parts
        if not section.startswith(_CRLF):
            raise _malformed("a boundary line is not followed by a line break")
        head, separator, content = section[2:].partition(_CRLF + _CRLF)
        if not separator:
            if not section[2:].startswith(_CRLF):
                raise _malformed("a part has no blank line after its headers")
            head, content = b"", section[4:]
        parts.append((_part_type(head), content))
    raise _malformed("the closing boundary is missing")


def _part_type(head: bytes) -> str:
    for line in head.split(_CRLF):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type":
            return media_type(value.decode("latin-1"))
    return "text/plain"  # RFC 2046's default for a part without a Content-Type


def _malformed(message: str) -> Exception:
    return invalid("body", "malformed_multipart", message)


def receipts_from(parts: Sequence[tuple[str, bytes]]) -> list[bytes | None]:
    return [content if content_type == XML else None for content_type, content in parts]


# ---- implementations ----


class HttpTransport:
    """Envelopes over HTTPS (mutual TLS with the federation CA, the partner's certificate
    naming the partner: see onewindow.kit.tls) with httpx; one client, kept-alive connections,
    thread-safe. `partners` gives the current partners, so that the certificate expected at an
    endpoint follows the configuration; by default both come from the node's settings."""

    def __init__(
        self,
        timeout: float = 30.0,
        connections: int = 16,
        transport: httpx.BaseTransport | None = None,  # httpx.MockTransport in tests
        *,
        security: tls.ClientSecurity | None = None,
        partners: Callable[[], Mapping[str, PartnerConfig]] | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        if transport is None:
            security = security or tls.ClientSecurity.of(get_settings())
            transport = tls.NodeTransport(security, partners or _configured, limits)
        self._client = httpx.Client(timeout=timeout, limits=limits, transport=transport)

    def post(self, endpoint: str, envelopes: Sequence[bytes]) -> list[bytes | None]:
        body, content_type = encode([(XML, e) for e in envelopes])
        url = endpoint.rstrip("/") + PATH
        try:
            response = self._client.post(url, content=body, headers={"Content-Type": content_type})
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise TransportError(f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            parts = decode(response.content, response.headers.get("content-type"))
        except Exception as exc:
            raise TransportError(f"unreadable answer: {exc}") from exc
        if len(parts) != len(envelopes):
            raise TransportError(f"{len(parts)} receipts for {len(envelopes)} envelopes")
        return receipts_from(parts)

    def close(self) -> None:
        self._client.close()


def _configured() -> Mapping[str, PartnerConfig]:
    return get_settings().partners


Receiver = Callable[[Sequence[bytes]], list[bytes | None]]


class LoopbackTransport:
    """In-process delivery for tests: each endpoint is a function taking envelopes and
    answering receipts. An endpoint in `down` (or unknown) fails like a refused connection;
    `lose_answers` makes the partner process the batch and the answer get lost."""

    def __init__(self, routes: dict[str, Receiver] | None = None) -> None:
        self.routes: dict[str, Receiver] = dict(routes or {})
        self.down: set[str] = set()
        self.lose_answers = False
        self.posts: list[tuple[str, int]] = []

    def post(self, endpoint: str, envelopes: Sequence[bytes]) -> list[bytes | None]:
        self.posts.append((endpoint, len(envelopes)))
        route = self.routes.get(endpoint)
        if route is None or endpoint in self.down:
            raise TransportError(f"connection refused: {endpoint}")
        receipts = route(list(envelopes))
        if self.lose_answers:
            raise TransportError("the connection dropped before the answer")
        return receipts

    def close(self) -> None:
        pass
