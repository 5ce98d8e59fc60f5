"""Setting up a federation on disk: the root CA, and per member state a node key, its
certificate and the node.json that `onewindow serve --config` reads.

    DIR/ca.pem, DIR/ca-key.pem            the federation root (keep the key offline)
    DIR/XX/key.pem, DIR/XX/cert.pem       node XX's Ed25519 signing key and certificate
    DIR/XX/tls-key.pem, DIR/XX/tls-cert.pem   its TLS key and certificate (docs/adr/0004)
    DIR/XX/node.json                      country, currency, database, port, partners

Partners' endpoints are https: nodes talk mutual TLS, trusting the federation CA only.

Paths inside node.json are relative to it, so a federation directory can be moved whole.
Every change rewrites files atomically, and running nodes reload their node.json when it
changes: a member added, or a key rotated, without stopping anyone. A rotation first adds the
new certificate to every partner's trust, and only then switches the node to its new key;
the old certificate stays trusted (messages sealed before the rotation are still being
retried) until `retire-key` removes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from onewindow.kit import keys, tls
from onewindow.kit.authority import (
    Authority,
    create_authority,
    issue_node_certificate,
    issue_tls_certificate,
)
from onewindow.kit.certificates import certificate_pem, load_certificate
from onewindow.kit.errors import ConfigurationError, Conflict, InvalidInput, NotFound, invalid

# ASEAN member states and their currencies: the federation this was built for.
CURRENCIES = {
    "BN": "BND", "ID": "IDR", "KH": "KHR", "LA": "LAK", "MM": "MMK",
    "MY": "MYR", "PH": "PHP", "SG": "SGD", "TH": "THB", "VN": "VND",
}  # fmt: skip
NODE_FILE = "node.json"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_BASE_PORT = 8101
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Member:
    country: str
    directory: Path
    config: dict[str, Any]

    @property
    def config_file(self) -> Path:
        return self.directory / NODE_FILE

    @property
    def endpoint(self) -> str:
        scheme = "https" if self.config.get("tls_cert_file") else "http"
        return f"{scheme}://{self.config['host']}:{self.config['port']}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(temp, path)  # readers see the old file or the new one, never half of it


def write_pem(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write atomically; private keys are created readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def save_authority(authority: Authority, directory: Path) -> None:
    write_pem(directory / "ca.pem", certificate_pem(authority.certificate))
    write_pem(directory / "ca-key.pem", keys.private_key_pem(authority.private_key), private=True)


def load_authority(directory: Path) -> Authority:
    try:
        certificate = load_certificate(keys.read_pem(directory / "ca.pem"))
    except InvalidInput as exc:
        raise ConfigurationError(f"{directory / 'ca.pem'} is not a PEM certificate") from exc
    return Authority(certificate, keys.load_private_key(keys.read_pem(directory / "ca-key.pem")))


def _country(value: str) -> str:
    country = value.strip().upper()
    if country not in CURRENCIES:
        known = ", ".join(sorted(CURRENCIES))
        raise invalid("country", "unknown_member", f"{value!r} is not one of {known}")
    return country


def members(directory: Path) -> list[Member]:
    if not (directory / "ca.pem").exists():
        raise NotFound(f"no federation in {directory}: run `onewindow federation init` first")
    found = []
    for path in sorted(directory.glob(f"*/{NODE_FILE}")):
        config = json.loads(path.read_text())
        found.append(Member(config["country"], path.parent, config))
    return found


def _member(directory: Path, country: str) -> Member:
    for member in members(directory):
        if member.country == country:
            return member
    raise NotFound(f"{country} is not a member of the federation in {directory}")


def _partner_entry(member: Member) -> dict[str, Any]:
    return {"endpoint": member.endpoint, "certificates": [f"../{member.country}/cert.pem"]}


def _issue(
    authority: Authority, directory: Path, country: str, suffix: str, now: datetime | None
) -> str:
    """A new key and certificate for `country` in directory/key{suffix}.pem and
    cert{suffix}.pem; return the key id."""
    key = keys.generate_private_key()
    certificate = issue_node_certificate(authority, country, key.public_key(), now=now)
    write_pem(directory / f"key{suffix}.pem", keys.private_key_pem(key), private=True)
    write_pem(directory / f"cert{suffix}.pem", certificate_pem(certificate))
    return keys.key_id(certificate)


def _issue_tls(
    authority: Authority, directory: Path, country: str, host: str, now: datetime | None
) -> None:
    """The node's TLS key and certificate, for `host` (and the loopback names with it)."""
    hosts = [host, *(LOOPBACK if tls.is_loopback(host) else ())]
    key = keys.generate_private_key()
    certificate = issue_tls_certificate(authority, country, key.public_key(), hosts, now=now)
    write_pem(directory / "tls-key.pem", keys.private_key_pem(key), private=True)
    write_pem(directory / "tls-cert.pem", certificate_pem(certificate))


def _node_config(country: str, port: int, host: str) -> dict[str, Any]:
    return {
        "country": country,
        "currency": CURRENCIES[country],
        "database_url": "sqlite:///node.db",
        "host": host,
        "port": port,
        "key_file": "key.pem",
        "cert_file": "cert.pem",
        "ca_file": "../ca.pem",
        "tls_key_file": "tls-key.pem",
        "tls_cert_file": "tls-cert.pem",
        "partners": {},
    }


def init(
    directory: Path,
    countries: Sequence[str],
    *,
    base_port: int = DEFAULT_BASE_PORT,
    host: str = DEFAULT_HOST,
    now: datetime | None = None,
) -> list[Member]:
    """A new federation of `countries`, their nodes on consecutive ports from `base_port`."""
    chosen = [_country(c) for c in countries]
    if len(set(chosen)) != len(chosen) or len(chosen) < 1:
        raise invalid("countries", "invalid_members", "name each member state once")
    if (directory / "ca.pem").exists():
        raise Conflict(f"{directory} already holds a federation; use add-node to grow it")
    authority = create_authority(now=now)
    save_authority(authority, directory)
    created = []
    for offset, country in enumerate(chosen):
        node_dir = directory / country
        node_dir.mkdir(parents=True, exist_ok=True)
        _issue(authority, node_dir, country, "", now)
        _issue_tls(authority, node_dir, country, host, now)
        created.append(Member(country, node_dir, _node_config(country, base_port + offset, host)))
    for member in created:
        member.config["partners"] = {
            other.country: _partner_entry(other) for other in created if other is not member
        }
        _write_json(member.config_file, member.config)
    return created


def add_node(
    directory: Path,
    country: str,
    *,
    port: int | None = None,
    host: str = DEFAULT_HOST,
    now: datetime | None = None,
) -> Member:
    """A new member: its key, certificate and node.json, and every existing member's
    node.json updated to take it as a partner (running nodes reload them)."""
    country = _country(country)
    existing = members(directory)
    if any(m.country == country for m in existing):
        raise Conflict(f"{country} is already a member of the federation in {directory}")
    authority = load_authority(directory)
    used = [int(m.config["port"]) for m in existing]
    node_dir = directory / country
    node_dir.mkdir(parents=True, exist_ok=True)
    _issue(authority, node_dir, country, "", now)
    _issue_tls(authority, node_dir, country, host, now)
    config = _node_config(country, port or max(used, default=DEFAULT_BASE_PORT - 1) + 1, host)
    new = Member(country, node_dir, config)
    config["partners"] = {m.country: _current_entry(m) for m in existing}
    _write_json(new.config_file, config)
    for member in existing:
        member.config["partners"][country] = _partner_entry(new)
        _write_json(member.config_file, member.config)
    return new


def _current_entry(member: Member) -> dict[str, Any]:
    """How a newcomer reaches `member` and trusts its current certificate."""
    cert = member.config["cert_file"]
    return {"endpoint": member.endpoint, "certificates": [f"../{member.country}/{cert}"]}


def rotate_key(directory: Path, country: str, *, now: datetime | None = None) -> str:
    """A new key and certificate for `country`; return the new key id. Partners trust the
    new certificate first, then the node switches to it."""
    country = _country(country)
    member = _member(directory, country)
    authority = load_authority(directory)
    number = 2
    while (member.directory / f"key-{number}.pem").exists():
        number += 1
    kid = _issue(authority, member.directory, country, f"-{number}", now)
    for other in members(directory):
        entry = other.config["partners"].get(country)
        if other.country != country and entry is not None:
            entry["certificates"].append(f"../{country}/cert-{number}.pem")
            _write_json(other.config_file, other.config)
    member.config["key_file"], member.config["cert_file"] = (
        f"key-{number}.pem",
        f"cert-{number}.pem",
    )
    _write_json(member.config_file, member.config)
    return kid


def renew_tls(directory: Path, country: str, *, now: datetime | None = None) -> Path:
    """A new TLS key and certificate for `country`, replacing the old ones; its node.json and
    every partner's entry for it switched to TLS (a federation made before TLS gains it this
    way, member by member). Partners trust the CA, not the certificate: nothing else changes.
    The node serves with it from its next start."""
    country = _country(country)
    member = _member(directory, country)
    _issue_tls(load_authority(directory), member.directory, country, member.config["host"], now)
    member.config.update(tls_key_file="tls-key.pem", tls_cert_file="tls-cert.pem")
    _write_json(member.config_file, member.config)
    for other in members(directory):
        entry = other.config["partners"].get(country)
        if other.country != country and entry is not None and entry["endpoint"] != member.endpoint:
            entry["endpoint"] = member.endpoint
            _write_json(other.config_file, other.config)
    return member.directory / "tls-cert.pem"


def retire_key(directory: Path, country: str, key_id: str) -> int:
    """Stop trusting one of `country`'s older certificates; return how many partners did."""
    country = _country(country)
    member = _member(directory, country)
    current = load_certificate(keys.read_pem(member.directory / member.config["cert_file"]))
    if keys.key_id(current) == key_id:
        raise Conflict(f"{key_id} is {country}'s current key: rotate it before retiring it")
    changed = 0
    for other in members(directory):
        entry = other.config["partners"].get(country)
        if other.country == country or entry is None:
            continue
        kept = [
            c
            for c in entry["certificates"]
            if keys.key_id(load_certificate(keys.read_pem(other.directory / c))) != key_id
        ]
        if kept != entry["certificates"]:
            entry["certificates"] = kept
            _write_json(other.config_file, other.config)
            changed += 1
    if not changed:
        raise NotFound(f"no partner trusts a key {key_id} of {country}")
    return changed
