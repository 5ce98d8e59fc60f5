"""The HTTP edge against a real server process: a client that leaves mid-body, a chunked body
over the limit. Raw sockets, because an HTTP client library would not misbehave on purpose."""

from __future__ import annotations

import select
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from tests.integration.conftest import NodeProcess

BODY_LIMIT = 5_000_000  # the node's default max_body_bytes


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    return sock


def _stop(node: NodeProcess) -> str:
    """Stop the node and return what it logged."""
    node.stop()
    return node.log.read_text(errors="replace")


@pytest.mark.parametrize(
    ("path", "media"),
    [("/api/v1/declarations", b"application/json"), ("/exchange/v1/messages", b"application/xml")],
)
def test_a_client_leaving_mid_body_costs_one_log_line(
    node_process: NodeProcess, path: str, media: bytes
) -> None:
    n = node_process
    for _ in range(3):
        with _connect(n.url) as sock:
            sock.sendall(
                b"POST %s HTTP/1.1\r\nHost: node\r\n" % path.encode()
                + b"Content-Type: %s\r\nContent-Length: 10000\r\n\r\n" % media
                + b'{"type": "IM", "pad": "'
                + b"x" * 4000
            )
            time.sleep(0.2)  # the server has read the first half when the client goes
    # The node still answers, and said one line per request, no traceback, no 500.
    assert httpx.get(n.url + "/api/v1/health", timeout=10).status_code == 200
    time.sleep(0.5)
    log = _stop(n)
    assert log.count(f"api.client_disconnected path={path}") == 3, log
    assert "Traceback" not in log and "api.unexpected_error" not in log, log


def test_a_chunked_body_over_the_limit_gets_413_while_it_is_read(node_process: NodeProcess) -> None:
    """50 MB chunked (no Content-Length): the 413 comes back while the client is still
    sending, long before the end. The server then reads and drops the rest (uvicorn, no memory
    kept), so the connection stays usable and the client is sure to see the answer."""
    n = node_process
    chunk = b"x" * 65536
    sent = 0
    with _connect(n.url) as sock:
        sock.sendall(
            b"POST /api/v1/declarations HTTP/1.1\r\nHost: node\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        while sent < 50_000_000 and not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        answer = sock.recv(65536)
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 413"), head
    assert "application/problem+json" in head
    assert sent < 50_000_000
    log = _stop(n)
    assert "Traceback" not in log, log
