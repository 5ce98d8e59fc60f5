"""`onewindow ledger` as a person uses it: JSON that verifies, errors with exit code 2."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onewindow.kit import keys
from onewindow.kit.config import get_settings
from onewindow.ledger import merkle
from onewindow.ledger.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ONEWINDOW_KEY_FILE", str(tmp_path / "keys" / "node.pem"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_append_head_prove_consistency(env: Path) -> None:
    assert run("append-demo", "--count", "6")["tree_size"] == 6
    head = run("head")
    key = keys.load_key(env / "keys" / "node.pem")
    assert head["key_id"] == key.key_id
    signature = base64.b64decode(head["signature"])
    assert key.verify(signature, head["signed_message"].encode())
    assert run("head")["signed_at"] == head["signed_at"]  # nothing new: the same head

    proof = run("prove", "DEMO-00000004")
    root = bytes.fromhex(head["root_hash"])
    steps = [bytes.fromhex(p) for p in proof["proof"]]
    assert merkle.verify_inclusion(proof["leaf_data"].encode(), 4, 6, steps, root)
    assert proof["signed_head"]["signature"] == head["signature"]
    assert len(run("prove", "DEMO-00000004", "--all")) == 1

    run("append-demo", "--count", "3")
    c = run("consistency", "6", "9")
    assert c["old_root"] == head["root_hash"]
    steps = [bytes.fromhex(p) for p in c["proof"]]
    assert merkle.verify_consistency(6, 9, root, bytes.fromhex(c["new_root"]), steps)

    text = runner.invoke(app, ["prove", "DEMO-00000001"])
    assert text.exit_code == 0 and "leaf 1 of 9" in text.stdout


def test_errors_exit_2(env: Path) -> None:
    run("append-demo", "--count", "2")
    missing = runner.invoke(app, ["prove", "NOPE"])
    assert missing.exit_code == 2 and "not in the ledger" in missing.output
    too_far = runner.invoke(app, ["consistency", "1", "5", "--json"])
    assert too_far.exit_code == 2
    assert json.loads(too_far.stdout)["errors"][0]["path"] == "new_size"
    backwards = runner.invoke(app, ["consistency", "2", "1"])
    assert backwards.exit_code == 2 and "must not exceed" in backwards.output


def test_unusable_key_is_a_clear_error(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = env / "bad.pem"
    bad.write_text("nonsense")
    monkeypatch.setenv("ONEWINDOW_KEY_FILE", str(bad))
    result = runner.invoke(app, ["head"])
    assert result.exit_code == 1
    assert "is not a PEM private key" in " ".join(result.output.split())
