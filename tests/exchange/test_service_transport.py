"""The multipart framing of batches, and HTTP failures turned into TransportError."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from onewindow.exchange import transport
from onewindow.exchange.transport import HttpTransport, TransportError
from onewindow.kit.errors import InvalidInput

parts = st.lists(
    st.tuples(st.sampled_from(["application/xml", "application/problem+json"]), st.binary()),
    max_size=8,
)


@given(parts)
def test_framing_round_trips(found: list[tuple[str, bytes]]) -> None:
    body, content_type = transport.encode(found)
    assert transport.decode(body, content_type) == found


@given(st.binary(max_size=300))
def test_any_body_decodes_or_is_refused(body: bytes) -> None:
    try:
        transport.decode(body, 'multipart/mixed; boundary="b"')
    except InvalidInput as exc:
        assert exc.errors[0].code == "malformed_multipart"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--b\r\n\r\nx\r\n--b--", "multipart/mixed"),  # no boundary parameter
        (b"--b\r\n\r\nx\r\n--b--", "text/plain; boundary=b"),
        (b"--b\r\n\r\nx\r\n", "multipart/mixed; boundary=b"),  # never closed
        (b"preamble--b\r\n\r\nx\r\n--b--", "multipart/mixed; boundary=b"),
        (b"--bX\r\n\r\nx\r\n--b--", "multipart/mixed; boundary=b"),
        (b"--b\r\nContent-Type: a\r\nno blank line\r\n--b--", "multipart/mixed; boundary=b"),
        (b"--b\r\n\r\n\r\n" * 1002 + b"--b--", "multipart/mixed; boundary=b"),
        (b"--b--", "multipart/mixed; boundary=" + "b" * 71),
    ],
)
def test_broken_framing_is_refused(body: bytes, content_type: str) -> None:
    with pytest.raises(InvalidInput):
        transport.decode(body, content_type)


def test_headerless_parts_and_quoted_boundaries_are_read() -> None:
    body = b"--a b\r\n\r\n<x/>\r\n--a b--\r\n"
    assert transport.decode(body, 'multipart/mixed; charset=x; boundary="a b"') == [
        ("text/plain", b"<x/>")
    ]


def _client(handler: httpx.MockTransport) -> HttpTransport:
    return HttpTransport(timeout=1, transport=handler)


def test_http_answers_become_receipts_or_transport_errors() -> None:
    def partner(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/exchange/v1/messages"
        count = len(transport.decode(request.content, request.headers["content-type"]))
        answers = [("application/xml", b"<r/>")] + [("application/problem+json", b"{}")] * (
            count - 1
        )
        body, content_type = transport.encode(answers)
        return httpx.Response(200, content=body, headers={"Content-Type": content_type})

    assert _client(httpx.MockTransport(partner)).post("http://p/", [b"a", b"b"]) == [b"<r/>", None]

    one, content_type = transport.encode([("application/xml", b"<r/>")])
    cases = {
        "HTTP 503": httpx.Response(503, text="busy"),
        "unreadable answer": httpx.Response(200, content=b"<r/>"),
        "1 receipts for 2": httpx.Response(
            200, content=one, headers={"Content-Type": content_type}
        ),
    }
    for expected, response in cases.items():
        client = _client(httpx.MockTransport(lambda request, r=response: r))
        with pytest.raises(TransportError, match=expected):
            client.post("http://p", [b"a", b"b"])

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(TransportError, match="ConnectError"):
        _client(httpx.MockTransport(refused)).post("http://p", [b"a"])
