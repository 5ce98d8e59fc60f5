"""The CLI as a person uses it: exit codes, --json output, readable errors."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onewindow.cli.main import app
from onewindow.kit.config import get_settings

DATA = resources.files("onewindow") / "data"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ONEWINDOW_RANDOM_SHARE", "0")  # no random lane picks in these flows
    get_settings.cache_clear()
    for args in (
        ["tariff", "import", str(DATA / "sample_tariff.csv")],
        ["rates", "import", str(DATA / "sample_rates.csv")],
    ):
        assert runner.invoke(app, args).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def test_submit_json_is_one_document_with_number_channel_and_taxes(env: Path) -> None:
    assert (
        runner.invoke(app, ["origin", "record", str(DATA / "sample_certificate.json")]).exit_code
        == 0
    )
    result = runner.invoke(
        app, ["declaration", "submit", str(DATA / "sample_declaration.json"), "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["number"] == "VNHPH-2026-0000001" and body["channel"] == "green"
    assert body["totals"]["import_duty"] == "0" and body["totals"]["vat"] == "52700000"
    shown = runner.invoke(app, ["declaration", "show", body["number"]])
    assert shown.exit_code == 0 and "VNHPH-2026-0000001" in shown.stdout


def test_bad_declaration_exits_non_zero_with_the_field(env: Path) -> None:
    data = json.loads((DATA / "sample_declaration.json").read_text())
    data["items"][0]["unit"] = "BOXES"
    bad = env / "bad.json"
    bad.write_text(json.dumps(data))
    result = runner.invoke(app, ["declaration", "submit", str(bad)])
    assert result.exit_code == 2
    assert "items.0.unit" in result.stderr
    listed = runner.invoke(app, ["declaration", "list", "--json"])
    assert json.loads(listed.stdout) == []


def test_malformed_and_missing_files(env: Path) -> None:
    broken = env / "broken.json"
    broken.write_text("{nope")
    result = runner.invoke(app, ["declaration", "submit", str(broken)])
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    result = runner.invoke(app, ["declaration", "submit", str(env / "absent.json")])
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_bad_tariff_file_lists_rows_and_loads_nothing(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text(
        "code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to\n"
        "01012100,Horses,PCE,99,0,10,2030-01-01,\n1234,x,PCE,1,1,1,2022-01-01,\n"
    )
    result = runner.invoke(app, ["tariff", "import", str(bad)])
    assert result.exit_code == 2 and "line 3.code" in result.stderr
    shown = runner.invoke(app, ["tariff", "show", "01012100", "--date", "2030-06-01", "--json"])
    assert shown.exit_code == 2  # the good row of the bad file was not loaded


def test_release_before_payment_is_refused(env: Path) -> None:
    number = json.loads(
        runner.invoke(
            app, ["declaration", "submit", str(DATA / "sample_declaration.json"), "--json"]
        ).stdout
    )["number"]
    result = runner.invoke(app, ["declaration", "release", number])
    assert result.exit_code == 2 and "awaiting_payment" in result.stderr


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    for command in ("declaration", "tariff", "rates", "origin", "db", "serve", "demo"):
        assert command in result.stdout
