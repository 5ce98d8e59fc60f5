"""The running gateway's view of the federation: this node's signing key and certificate,
the trust store, and the partners with their endpoints, reloaded whenever the node's
configuration file changes.

A new member joining or a partner rotating its key rewrites node.json files
(`onewindow federation add-node`, `rotate-key`); a running node picks the change up on its next
send or receive (one stat() per call) without a restart. A file that cannot be read or does
not verify leaves the last good view in place, so a half-finished edit never stops the
exchange. On every change the partner table is synchronised too, so that `send` knows the
new partners.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from onewindow.exchange import service
from onewindow.exchange.envelope import Signer
from onewindow.exchange.trust import TrustStore
from onewindow.kit import certificates, db, keys
from onewindow.kit.config import PartnerConfig, Settings, load
from onewindow.kit.errors import ConfigurationError, InvalidInput

log = logging.getLogger("onewindow.exchange")


@dataclass(frozen=True)
class View:
    """One consistent reading of the configuration. `problem` says why the exchange cannot
    run (no certificate configured, a key that does not match…); then signer and trust are
    None and the gateway answers 503."""

    country: str
    signer: Signer | None
    trust: TrustStore | None
    partners: Mapping[str, PartnerConfig]
    key_ids: Mapping[str, list[str]] = field(default_factory=dict)
    problem: str | None = None
    generation: int = 0

    @property
    def ready(self) -> bool:
        return self.signer is not None and self.trust is not None

    def endpoint(self, country: str) -> str | None:
        partner = self.partners.get(country)
        return partner.endpoint if partner else None


class ViewSource(Protocol):
    def current(self) -> View: ...


class StaticGateway:
    """A view that never changes: for tests, and for a gateway embedded in another program."""

    def __init__(self, view: View) -> None:
        self.view = view

    def current(self) -> View:
        return self.view


def _read_view(settings: Settings, generation: int) -> View:
    """Load key, certificates and partners. ConfigurationError if any is wrong."""
    if settings.cert_file is None or settings.ca_file is None:
        problem = "the exchange is not configured (no cert_file and ca_file for this node)"
        return View(settings.country, None, None, settings.partners, {}, problem, generation)
    try:
        ca = certificates.load_certificate(keys.read_pem(settings.ca_file))
        certificate = certificates.load_certificate(keys.read_pem(settings.cert_file))
        key = keys.load_private_key(keys.read_pem(settings.key_file))
        signer = Signer(key, certificate)
        certificates.verify_node_certificate(certificate, ca, country=settings.country, now=_now())
        trust = TrustStore(ca)
        key_ids: dict[str, list[str]] = {}
        for country, partner in settings.partners.items():
            for path in partner.certificates:
                for cert in certificates.load_certificates(keys.read_pem(path)):
                    if certificates.certificate_country(cert) != country:
                        raise ConfigurationError(f"{path} is not a certificate of {country}")
                    key_ids.setdefault(country, []).append(trust.add(cert))
    except InvalidInput as exc:
        raise ConfigurationError(f"federation files of {settings.country}: {exc.detail}") from exc
    return View(settings.country, signer, trust, settings.partners, key_ids, None, generation)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class Gateway:
    """The current View, reloaded when the configuration file changes."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session] | None = None,
        *,
        loader: Callable[[Path], Settings] = load,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self._loader = loader
        self._lock = threading.Lock()
        self._stamp = _stamp(settings.config_file)
        try:
            self._view = _read_view(settings, 1)
        except ConfigurationError as exc:
            self._view = View(settings.country, None, None, settings.partners, {}, exc.detail, 1)
        self._synced = 0

    def current(self) -> View:
        """The view to use now; reloads and synchronises partners first if anything changed."""
        with self._lock:
            path = self.settings.config_file
            stamp = _stamp(path)
            if path is not None and stamp is not None and stamp != self._stamp:
                self._stamp = stamp
                self._reload(path)
            view = self._view
            if self.sessions is not None and self._synced != view.generation:
                self._sync(view)
            return view

    def _sync(self, view: View) -> None:
        assert self.sessions is not None
        try:
            with db.transaction(self.sessions) as session:
                service.sync_partners(session, view.partners, now=_now(), key_ids=view.key_ids)
        except SQLAlchemyError as exc:  # another process synchronising at the same moment
            log.warning("exchange.partner_sync_failed error=%s", exc)
            return  # tried again on the next call
        self._synced = view.generation

    def _reload(self, path: Path) -> None:
        generation = self._view.generation + 1
        try:
            settings = self._loader(path)
            if settings.country != self.settings.country:
                raise ConfigurationError(f"{path} is now for {settings.country}")
            view = _read_view(settings, generation)
        except ConfigurationError as exc:
            log.error("exchange.reload_failed file=%s error=%s", path, exc.detail)
            return
        self.settings, self._view = settings, view
        log.info("exchange.reloaded partners=%s", ",".join(sorted(view.partners)))
