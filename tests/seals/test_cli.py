"""`onewindow seals`: a platform's key and a device's secret printed once (only the key's
hash kept), trips and alerts listed, in JSON too; bad input a clear error and exit 2."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from tests.seals.conftest import trip_body
from typer.testing import CliRunner

from onewindow.cli.main import app
from onewindow.kit.config import get_settings
from onewindow.kit.node import Node
from onewindow.seals import SealPlatform, TripCreate, register_trip

runner = CliRunner()


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["seals", *args])
    return result.exit_code, result.output


def test_platform_and_device_credentials_shown_once(host: None) -> None:
    code, out = run("platform", "add", "ACME", "--json")
    assert code == 0, out
    key = orjson.loads(out)["secret"]
    assert key.startswith("owp_")
    with Node.open().transaction() as s:
        stored = s.scalar(select(SealPlatform.key_sha256))
    assert stored == hashlib.sha256(key.encode()).hexdigest()  # the hash, never the key
    code, out = run("device", "add", "SEAL-1", "--platform", "ACME")
    assert code == 0 and "shown once" in out
    code, out = run("device", "add", "SEAL-2", "--platform", "NOPE", "--json")
    assert code == 2 and orjson.loads(out)["errors"][0]["code"] == "unknown_platform"
    code, out = run("device", "add", "bad id!")
    assert code == 2 and "device" in out
    code, out = run("platform", "list", "--json")
    assert [p["name"] for p in orjson.loads(out)] == ["ACME"] and key not in out
    code, out = run("device", "list", "--json")
    assert [(d["id"], d["platform"]) for d in orjson.loads(out)] == [("SEAL-1", "ACME")]


def test_trips_alerts_and_the_sweep(host: None) -> None:
    run("device", "add", "SEAL-1")
    node = Node.open()
    with node.transaction() as s:
        register_trip(s, TripCreate.model_validate(trip_body()), now=node.clock.now(), actor="t")
    code, out = run("trips", "--json")
    assert code == 0 and [t["reference"] for t in orjson.loads(out)] == ["26TH000000000001A1"]
    # nothing heard since it was registered, moments ago: no silence yet
    code, out = run("sweep", "--json")
    assert code == 0 and orjson.loads(out) == {"alerts": 0}
    code, out = run("alerts", "--json")
    assert code == 0 and orjson.loads(out) == []
    code, out = run("alerts", "--trip", "26TH000000000009A1", "--json")
    assert code == 2 and orjson.loads(out)["code"] == "not_found"
    code, out = run("trips")
    assert code == 0 and "26TH000000000001A1" in out
