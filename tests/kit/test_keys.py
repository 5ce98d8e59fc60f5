"""The node's signing key: created once, reloaded, refused when unusable."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from onewindow.kit import keys
from onewindow.kit.errors import ConfigurationError


def test_created_once_then_loaded(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keys" / "node.pem"
    first = keys.load_or_create_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{16}", first.key_id)
    again = keys.load_or_create_key(path)
    assert again.key_id == first.key_id
    assert again.public_raw() == first.public_raw()
    assert [p.name for p in path.parent.iterdir()] == ["node.pem"]  # no temporary left over


def test_sign_and_verify() -> None:
    key = keys.generate_key()
    signature = key.sign(b"tree head")
    assert key.verify(signature, b"tree head")
    assert not key.verify(signature, b"tree heads")
    assert not key.verify(signature[:-1] + bytes([signature[-1] ^ 1]), b"tree head")
    assert not key.verify(b"short", b"tree head")
    assert not keys.verify(keys.generate_key().public_key, signature, b"tree head")
    assert not keys.verify(key.public_key, "not bytes", b"tree head")  # type: ignore[arg-type]


def test_public_key_round_trips() -> None:
    key = keys.generate_key()
    for form in (key.public_raw(), key.public_pem().encode()):
        assert keys.key_id(keys.load_public_key(form)) == key.key_id
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        keys.load_public_key(b"-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n")
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = ec_public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        keys.load_public_key(pem)


def test_unusable_key_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ConfigurationError, match="not a PEM private key"):
        keys.load_or_create_key(garbage)
    other = tmp_path / "ec.pem"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ConfigurationError, match="not an Ed25519 key"):
        keys.load_or_create_key(other)
    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(
        keys.generate_key().private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(ConfigurationError, match="encrypted"):
        keys.load_or_create_key(encrypted)
    with pytest.raises(ConfigurationError, match="cannot read"):
        keys.load_key(tmp_path / "missing.pem")
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(ConfigurationError, match="cannot create"):
        keys.load_or_create_key(blocked / "node.pem")
