"""Mutual TLS between nodes, against real TLS servers on loopback (uvicorn in a thread, with
`onewindow.kit.tls`'s options): the gateway's and the witness's clients check the partner's
certificate before sending anything; the server's partner routes need a partner's client
certificate; plain HTTP only to loopback unless allowed."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from onewindow.cli import main as cli
from onewindow.cli import serve as serve_command
from onewindow.exchange import federation, transport
from onewindow.exchange.transport import HttpTransport, TransportError
from onewindow.kit import tls
from onewindow.kit.config import PartnerConfig, Settings, get_settings, load
from onewindow.kit.errors import ConfigurationError, PartnerUnreachable
from onewindow.ledger.remote import HttpFetcher


@dataclass
class Fed:
    directory: Path
    outsiders: Path

    def settings(self, country: str) -> Settings:
        return load(self.directory / country / "node.json")

    def files(self, country: str, kind: str = "tls-", outside: bool = False) -> tuple[str, str]:
        """(certificate, key) of a node: its TLS pair, or with kind="" its signing pair."""
        home = (self.outsiders if outside else self.directory) / country
        return str(home / f"{kind}cert.pem"), str(home / f"{kind}key.pem")


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Fed:
    root = tmp_path_factory.mktemp("tls")
    federation.init(root / "fed", ["TH", "VN", "SG", "MY"])
    federation.init(root / "outsiders", ["VN", "TH"])  # same countries, another CA
    return Fed(root / "fed", root / "outsiders")


@dataclass
class Partner:
    """A TLS server on loopback standing in for a node; `seen` holds what reached the app."""

    url: str
    seen: list[tuple[str, bytes, bytes | None]] = field(default_factory=list)


def _app(seen: list[tuple[str, bytes, bytes | None]]) -> Starlette:
    async def messages(request: Request) -> Response:
        body = await request.body()
        peer = request.scope.get("state", {}).get(tls.PEER_CERTIFICATE)
        seen.append((request.url.path, body, peer))
        parts = transport.decode(body, request.headers.get("content-type"))
        answer, content_type = transport.encode([("application/xml", b"<r/>")] * len(parts))
        return Response(answer, headers={"Content-Type": content_type})

    async def head(request: Request) -> JSONResponse:
        seen.append((request.url.path, b"", None))
        return JSONResponse({"tree_size": 0})

    return Starlette(
        routes=[
            Route(transport.PATH, messages, methods=["POST"]),
            Route("/api/v1/ledger/head", head),
            Route("/api/v1/health", head),
        ]
    )


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(options: dict[str, Any], partners: tuple[str, ...] = ("TH",)) -> Partner:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        scheme = "https" if options else "http"
        partner = Partner(f"{scheme}://127.0.0.1:{sock.getsockname()[1]}")
        app: Any = _app(partner.seen)
        if options:
            app = tls.PartnersOnly(app, (transport.PATH,), lambda: partners)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", **options)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.02)
        return partner

    try:
        yield start
    finally:
        for server, thread in servers:
            server.should_exit = True
            thread.join(10)


def _options(fed: Fed, cert: tuple[str, str]) -> dict[str, Any]:
    return {
        "ssl_certfile": cert[0],
        "ssl_keyfile": cert[1],
        "ssl_ca_certs": str(fed.directory / "ca.pem"),
        "ssl_cert_reqs": ssl.CERT_OPTIONAL,
        "http": tls.PeerProtocol,
    }


def _sender(fed: Fed, partner: Partner, country: str = "VN") -> HttpTransport:
    """TH's gateway client, with `partner` configured as `country`'s endpoint."""
    security = tls.ClientSecurity.of(fed.settings("TH"))
    partners = {country: PartnerConfig(endpoint=partner.url)}
    return HttpTransport(5, security=security, partners=lambda: partners)


# ---- the client: the gateway's and the witness's ----


def test_envelopes_travel_over_mutual_tls(fed: Fed, serve: Any) -> None:
    vn = serve(tls.server_options(fed.settings("VN")))
    sender = _sender(fed, vn)
    try:
        assert sender.post(vn.url, [b"<a/>", b"<b/>"]) == [b"<r/>", b"<r/>"]
    finally:
        sender.close()
    ((path, body, peer),) = vn.seen
    assert path == transport.PATH and b"<b/>" in body
    assert tls.check_peer(peer, tls.CLIENT_AUTH, {"TH"}) == "TH"  # TH's TLS certificate


@pytest.mark.parametrize(
    ("server", "reason"),
    [
        ("SG", "the certificate is for SG, not VN"),  # another partner's certificate
        ("outsider", "CERTIFICATE_VERIFY_FAILED"),  # VN's name, from another CA
        ("signing", "CERTIFICATE_VERIFY_FAILED"),  # VN's signing key: no TLS names nor purpose
    ],
)
def test_the_gateway_sends_nothing_to_a_server_that_is_not_the_partner(
    fed: Fed, serve: Any, server: str, reason: str
) -> None:
    cert = {
        "SG": fed.files("SG"),
        "outsider": fed.files("VN", outside=True),
        "signing": fed.files("VN", kind=""),
    }[server]
    impostor = serve(_options(fed, cert))
    sender = _sender(fed, impostor)
    try:
        with pytest.raises(TransportError, match=reason):
            sender.post(impostor.url, [b"<secret/>"])
    finally:
        sender.close()
    assert impostor.seen == []  # refused after the handshake, before the request


def test_the_witness_checks_the_partners_certificate_too(fed: Fed, serve: Any) -> None:
    th = serve(tls.server_options(fed.settings("TH")))
    security = tls.ClientSecurity.of(fed.settings("VN"))
    as_th = {"TH": PartnerConfig(endpoint=th.url)}
    with HttpFetcher(security=security, partners=as_th) as fetcher:
        assert fetcher.head(th.url) == {"tree_size": 0}
    as_sg = {"SG": PartnerConfig(endpoint=th.url)}
    fetcher = HttpFetcher(security=security, partners=as_sg)
    with fetcher, pytest.raises(PartnerUnreachable, match="for TH, not SG"):
        fetcher.head(th.url)
    assert [path for path, _, _ in th.seen] == ["/api/v1/ledger/head"]


def test_plain_http_only_to_loopback_unless_allowed(
    fed: Fed, serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plain = serve({})
    sender = HttpTransport(5, security=tls.ClientSecurity(), partners=dict)
    with caplog.at_level(logging.WARNING, "onewindow.tls"):
        assert sender.post(plain.url, [b"<a/>"]) == [b"<r/>"]
    assert "tls.plain_http" in caplog.text
    with pytest.raises(TransportError, match="refusing plain HTTP"):
        sender.post("http://192.0.2.7:8101", [b"<a/>"])  # refused before any connection
    tls.plain_http(httpx.URL("http://192.0.2.7:8101"), allowed=True)  # the setting allows it
    with pytest.raises(TransportError, match="no TLS certificate"):
        sender.post("https://192.0.2.7:8101", [b"<a/>"])
    sender.close()


# ---- the server: partner routes ----


def _client(fed: Fed, cert: tuple[str, str] | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(fed.directory / "ca.pem"))
    if cert is not None:
        context.load_cert_chain(*cert)
    return httpx.Client(verify=context, timeout=5)


def test_partner_routes_need_a_partners_client_certificate(fed: Fed, serve: Any) -> None:
    vn = serve(tls.server_options(fed.settings("VN")), partners=("TH", "SG"))
    body, content_type = transport.encode([("application/xml", b"<a/>")])

    def post(cert: tuple[str, str] | None) -> httpx.Response:
        with _client(fed, cert) as client:
            headers = {"Content-Type": content_type}
            return client.post(vn.url + transport.PATH, content=body, headers=headers)

    refused = {
        "no certificate": post(None),
        "not a partner": post(fed.files("MY")),  # from the CA, but MY is not VN's partner
        "a signing certificate": post(fed.files("TH", kind="")),
    }
    for case, answer in refused.items():
        assert answer.status_code == 403, case
        assert answer.headers["content-type"] == "application/problem+json", case
        assert answer.json()["code"] == "partner_certificate_required", case
    # Another CA: the server ends the handshake (in TLS 1.3 the client learns it on reading).
    with pytest.raises(httpx.TransportError):
        post(fed.files("TH", outside=True))
    assert vn.seen == []
    assert post(fed.files("TH")).status_code == 200
    assert post(fed.files("SG")).status_code == 200
    with _client(fed, None) as client:  # traders and officials: no certificate needed
        assert client.get(vn.url + "/api/v1/health").status_code == 200
        assert client.post(vn.url + "//exchange/v1/messages/").status_code == 403


def test_a_node_refuses_tls_files_that_do_not_fit(fed: Fed) -> None:
    vn = fed.settings("VN")
    with pytest.raises(ConfigurationError, match="for TH, not VN"):
        tls.server_options(fed.settings("TH").model_copy(update={"country": "VN"}))
    with pytest.raises(ConfigurationError, match="not a node's TLS"):
        tls.server_options(
            vn.model_copy(update={"tls_cert_file": vn.cert_file, "tls_key_file": vn.key_file})
        )
    with pytest.raises(ConfigurationError, match="does not match"):
        tls.ClientSecurity.of(vn.model_copy(update={"tls_key_file": vn.key_file}))
    with pytest.raises(ConfigurationError, match="ca_file"):
        tls.ClientSecurity.of(vn.model_copy(update={"ca_file": None}))


@pytest.fixture
def plain_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'node.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_serve_refuses_plain_http_beyond_loopback(
    plain_node: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = CliRunner().invoke(cli.app, ["serve", "--host", "0.0.0.0", "--no-deliver"])
    assert refused.exit_code == 2
    assert "refusing to serve plain HTTP on 0.0.0.0" in " ".join(refused.output.split())
    served: list[uvicorn.Config] = []

    def run(config: uvicorn.Config, announce: Callable[[], None]) -> bool:
        served.append(config)
        announce()
        return True

    monkeypatch.setattr(serve_command, "_run", run)
    monkeypatch.setenv("ONEWINDOW_ALLOW_PLAIN_HTTP", "true")
    get_settings.cache_clear()
    allowed = CliRunner().invoke(cli.app, ["serve", "--host", "0.0.0.0", "--no-deliver"])
    assert allowed.exit_code == 0, allowed.output
    assert "warning: plain HTTP" in allowed.output and served[0].ssl_certfile is None
