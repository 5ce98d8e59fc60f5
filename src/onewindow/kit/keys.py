"""The node's signing key: one Ed25519 key in a PEM file, created on first use.

Generic on purpose: the ledger signs tree heads with it today, and the federation's X.509
certificates for this node will certify the same key later.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from onewindow.kit.config import ROOT
from onewindow.kit.errors import ConfigurationError

DEFAULT_KEY_PATH = ROOT / "var" / "keys" / "node-ed25519.pem"
KEY_ID_LENGTH = 16


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class NodeKey:
    private_key: Ed25519PrivateKey
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_id", key_id(self.private_key.public_key()))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        return verify(self.public_key, signature, data)

    def public_raw(self) -> bytes:
        return public_raw(self.public_key)

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def generate_key() -> NodeKey:
    return NodeKey(Ed25519PrivateKey.generate())


def verify(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True only for a valid signature; malformed signatures are just invalid."""
    if not isinstance(signature, bytes) or not isinstance(data, bytes):
        return False
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def public_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """A public key given as PEM, or as the 32 raw bytes; ValueError if it is neither."""
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not an Ed25519 public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an Ed25519 public key but {type(key).__name__}")
    return key


def load_key(path: Path) -> NodeKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the signing key {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError as exc:  # cryptography's way of saying "encrypted"
        raise ConfigurationError(
            f"{path} is an encrypted private key; the node needs it unencrypted, protected by "
            "file permissions",
            path=str(path),
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"{path} is not a PEM private key", path=str(path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return NodeKey(key)


def load_or_create_key(path: Path | None = None) -> NodeKey:
    """Load the key at `path` (default var/keys/node-ed25519.pem), creating it if missing.

    Creation is atomic and never overwrites: two processes starting together end up with
    the same key, because the loser of the race loads the winner's file."""
    path = Path(path or DEFAULT_KEY_PATH)
    if path.exists():
        return load_key(path)
    key = generate_key()
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)  # never replaces: fails if another process got there first
        except FileExistsError:
            return load_key(path)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the signing key {path}: {exc}") from exc
    return key
