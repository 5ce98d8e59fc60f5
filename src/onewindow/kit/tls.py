"""Mutual TLS between the nodes of a federation (docs/adr/0004-mutual-tls-between-nodes.md).

Every node has a TLS key and certificate of its own, beside its signing key: issued by the
federation root, naming the node's country as signing certificates do (subject countryName and
a `urn:onewindow:node:XX` URI), its host names and addresses, and the serverAuth and clientAuth
purposes. OpenSSL checks the chain and the host name during the handshake; this module adds
what OpenSSL cannot know:

- a client talks to a partner only if the partner's certificate names that partner's country,
  checked right after the handshake and before a byte of the request is sent;
- a server answers a partner route (the gateway) only to a client certificate that names a
  partner of this node (`PartnersOnly`: 403 otherwise). Clients without a certificate (traders
  and officials with their bearer tokens) reach everything else.

Plain HTTP is for tests and loopback: a node warns when it serves it or talks it, and refuses
to talk it to a partner elsewhere unless the `allow_plain_http` setting says so.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import ssl
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from onewindow.kit.certificates import named_country
from onewindow.kit.config import PartnerConfig, Settings
from onewindow.kit.errors import ConfigurationError

log = logging.getLogger("onewindow.tls")
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
# Where PeerProtocol leaves the client's certificate (DER) in each request's scope["state"].
PEER_CERTIFICATE = "onewindow.tls.peer_certificate"
_warned: set[str] = set()


class PeerRefused(Exception):
    """The other side's certificate is from the federation but not for this conversation."""


# ---- certificates ----


def check_peer(
    der: bytes | None, purpose: x509.ObjectIdentifier, expected: Collection[str] | None
) -> str:
    """The country of a peer's certificate, which OpenSSL has already chained to the CA.
    PeerRefused unless it is a TLS certificate for `purpose` (a node's signing certificate is
    not) naming one of the `expected` countries (any country when None)."""
    if not der:
        raise PeerRefused("no certificate from the federation CA was presented")
    try:
        certificate = x509.load_der_x509_certificate(der)
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (ValueError, x509.ExtensionNotFound):
        usages = None
    if usages is None or purpose not in usages:
        what = "server" if purpose == SERVER_AUTH else "client"
        raise PeerRefused(f"the certificate is not a node's TLS {what} certificate")
    country = named_country(certificate)
    if country is None:
        raise PeerRefused("the certificate does not name one node country")
    if expected is not None and country not in expected:
        raise PeerRefused(
            f"the certificate is for {country}, not {' or '.join(sorted(expected)) or 'a partner'}"
        )
    return country


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _readable(path: Path | None, setting: str) -> Path:
    if path is None:
        raise ConfigurationError(f"TLS needs the {setting} setting")
    if not path.is_file():
        raise ConfigurationError(f"{setting}: cannot read {path}")
    return path


# ---- client side ----


@dataclass(frozen=True)
class ClientSecurity:
    """How this node talks to partners: an SSL context trusting the federation CA only and
    presenting this node's TLS certificate (None: this node has no TLS certificate), and
    whether plain HTTP to a partner that is not on loopback is allowed."""

    context: ssl.SSLContext | None = None
    allow_plain_http: bool = False

    @classmethod
    def of(cls, settings: Settings) -> ClientSecurity:
        if settings.tls_cert_file is None:
            return cls(None, settings.allow_plain_http)
        ca = _readable(settings.ca_file, "ca_file")
        cert = _readable(settings.tls_cert_file, "tls_cert_file")
        key = _readable(settings.tls_key_file, "tls_key_file")
        context = ssl.create_default_context(cafile=str(ca))  # the federation CA, nothing else
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        try:
            context.load_cert_chain(str(cert), str(key))
        except ssl.SSLError as exc:
            raise ConfigurationError(f"tls_key_file {key} does not match {cert}: {exc}") from exc
        return cls(context, settings.allow_plain_http)


def country_at(partners: Mapping[str, PartnerConfig], url: httpx.URL) -> str | None:
    """The partner whose configured endpoint is at `url`'s scheme, host and port."""
    for country, partner in partners.items():
        endpoint = httpx.URL(partner.endpoint)
        if (endpoint.scheme, endpoint.host, endpoint.port) == (url.scheme, url.host, url.port):
            return country
    return None


class NodeTransport(httpx.BaseTransport):
    """httpx's transport with the federation's rules: https with ClientSecurity's context and
    the partner's country checked after the handshake; plain http to loopback with a warning,
    elsewhere only if allowed. `partners` gives the current partners (they change on reload):
    a server at an endpoint no partner has must still be a node of the federation."""

    def __init__(
        self,
        security: ClientSecurity,
        partners: Callable[[], Mapping[str, PartnerConfig]],
        limits: httpx.Limits = httpx.Limits(),
    ) -> None:
        self.security, self._partners = security, partners
        verify: ssl.SSLContext | bool = security.context or True
        self._inner = httpx.HTTPTransport(verify=verify, limits=limits)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme == "https":
            if self.security.context is None:
                message = f"{url.host}: no TLS certificate for this node (tls_cert_file)"
                raise httpx.ConnectError(message, request=request)
            country = country_at(self._partners(), url)
            expected = None if country is None else (country,)
            request.extensions = {**request.extensions, "trace": _expecting(expected, request)}
        elif url.scheme == "http":
            plain_http(url, self.security.allow_plain_http, request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def _expecting(expected: Collection[str] | None, request: httpx.Request) -> Callable[..., None]:
    """httpcore's trace hook: runs when the TLS handshake is done, before the request."""

    def trace(event: str, info: dict[str, Any]) -> None:
        if event != "connection.start_tls.complete":
            return
        stream = info["return_value"]
        ssl_object = stream.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(True) if ssl_object is not None else None
        try:
            check_peer(der, SERVER_AUTH, expected)
        except PeerRefused as exc:
            stream.close()
            log.warning("tls.partner_refused url=%s reason=%s", request.url, exc)
            raise httpx.ConnectError(f"{request.url.host}: {exc}", request=request) from None

    return trace


def plain_http(url: httpx.URL, allowed: bool, request: httpx.Request | None = None) -> None:
    """Warn once per partner about plain HTTP; refuse it beyond loopback unless allowed."""
    origin = f"{url.scheme}://{url.host}:{url.port}"
    if not is_loopback(url.host) and not allowed:
        message = (
            f"refusing plain HTTP to {origin}: use its https endpoint, or set allow_plain_http "
            "(ONEWINDOW_ALLOW_PLAIN_HTTP=true) to accept an unencrypted link"
        )
        raise httpx.ConnectError(message, request=request)
    if origin not in _warned:
        _warned.add(origin)
        log.warning(
            "tls.plain_http partner=%s: the link is not encrypted nor authenticated", origin
        )


# ---- server side ----


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS options for this node ({} without a TLS certificate): the client's
    certificate is optional at the TLS layer, verified against the federation CA when given."""
    if settings.tls_cert_file is None:
        return {}
    ClientSecurity.of(settings)  # the same files, checked now rather than at the first request
    cert = x509.load_pem_x509_certificate(settings.tls_cert_file.read_bytes())
    try:
        country = check_peer(cert.public_bytes(Encoding.DER), SERVER_AUTH, (settings.country,))
        check_peer(cert.public_bytes(Encoding.DER), CLIENT_AUTH, (country,))
    except PeerRefused as exc:
        raise ConfigurationError(f"tls_cert_file {settings.tls_cert_file}: {exc}") from exc
    return {
        "ssl_certfile": str(settings.tls_cert_file),
        "ssl_keyfile": str(settings.tls_key_file),
        "ssl_ca_certs": str(settings.ca_file),
        "ssl_cert_reqs": ssl.CERT_OPTIONAL,
        "http": PeerProtocol,
    }


class PeerProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, handing the client's certificate to the app: ASGI has no
    standard place for it in uvicorn, so it goes into the connection's copy of the state
    every request's scope["state"] is made from."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(True) if ssl_object is not None else None
        self.app_state = {**self.app_state, PEER_CERTIFICATE: der}


class PartnersOnly:
    """Partner routes (paths under `prefixes`) only for a client certificate naming a current
    partner: 403 problem+json for anyone else, before the app reads a byte of the body."""

    def __init__(
        self, app: ASGIApp, prefixes: Collection[str], partners: Callable[[], Collection[str]]
    ) -> None:
        self.app, self.prefixes, self.partners = app, tuple(prefixes), partners

    def guarded(self, path: str) -> bool:
        path = re.sub("/+", "/", path).rstrip("/")
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.guarded(scope["path"]):
            der = (scope.get("state") or {}).get(PEER_CERTIFICATE)
            try:
                check_peer(der, CLIENT_AUTH, set(self.partners()))
            except PeerRefused as exc:
                client = (scope.get("client") or ("?",))[0]
                log.warning(
                    "tls.client_refused path=%s client=%s reason=%s", scope["path"], client, exc
                )
                await _forbidden(send, f"a partner route: {exc}")
                return
        await self.app(scope, receive, send)


async def _forbidden(send: Send, detail: str) -> None:
    code = "partner_certificate_required"
    body = orjson.dumps({"type": f"urn:onewindow:error:{code}", "title": "Forbidden",
                         "status": 403, "code": code, "detail": detail})  # fmt: skip
    headers = [(b"content-type", b"application/problem+json"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
