"""Keys: the node's Ed25519 signing key in a PEM file, created on first use, and the key
types the federation certifies (Ed25519, or ECDSA P-256 where a member state's rules want it).

The ledger signs tree heads with the node key, and the federation's X.509 certificates
(`onewindow.kit.certificates`) certify the same key: both know a key by the same key id, the
first 16 hex digits of SHA-256 over its SubjectPublicKeyInfo DER.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from onewindow.kit.config import ROOT
from onewindow.kit.errors import ConfigurationError

SigningKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey

DEFAULT_KEY_PATH = ROOT / "var" / "keys" / "node-ed25519.pem"
KEY_ID_LENGTH = 16
ED25519 = "Ed25519"
ECDSA_P256 = "ECDSA-P256-SHA256"
ALGORITHMS = (ED25519, ECDSA_P256)


def key_id(key: PublicKey | x509.Certificate) -> str:
    """First 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER (of a certificate's
    key, given a certificate)."""
    public = key.public_key() if isinstance(key, x509.Certificate) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:KEY_ID_LENGTH]


# ---- the node's Ed25519 key ----


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


def read_pem(path: Path, what: str = "") -> bytes:
    """A PEM file's bytes (a key's or certificates'); ConfigurationError saying `what` the
    file should hold when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        name = f"{what} {path}" if what else str(path)
        raise ConfigurationError(f"cannot read {name}: {exc.strerror}") from exc


def load_key(path: Path) -> NodeKey:
    pem = read_pem(path, "the signing key")
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
    pem = private_key_pem(key.private_key)
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


# ---- the key types the federation certifies ----


def generate_private_key(algorithm: str = ED25519) -> SigningKey:
    if algorithm == ED25519:
        return Ed25519PrivateKey.generate()
    if algorithm == ECDSA_P256:
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")


def algorithm_of(key: SigningKey | PublicKey) -> str:
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return ED25519
    ecdsa = isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey)
    if ecdsa and isinstance(key.curve, ec.SECP256R1):
        return ECDSA_P256
    raise ValueError(f"unsupported key {type(key).__name__}: use Ed25519 or ECDSA P-256")


def sign_bytes(private_key: SigningKey, data: bytes) -> tuple[str, bytes]:
    """The algorithm name and the signature of `data`."""
    algorithm = algorithm_of(private_key)
    if isinstance(private_key, Ed25519PrivateKey):
        return algorithm, private_key.sign(data)
    return algorithm, private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_bytes(public_key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    """True only for a valid signature made with `algorithm`, which must be the key's own:
    the sender does not get to choose how its signature is checked."""
    try:
        if algorithm != algorithm_of(public_key):
            return False
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def private_key_pem(key: SigningKey) -> bytes:
    """Unencrypted PKCS#8: the file's permissions protect it."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"not an unencrypted PEM private key: {exc}") from exc
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ConfigurationError(f"a {type(key).__name__} cannot be a node key")
