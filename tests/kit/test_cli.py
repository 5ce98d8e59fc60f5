"""Every command that prints data takes `--json`; what the others print reads as a person
expects (whole ids, amounts in the currency's minor unit, files' rows and columns named)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from onewindow.cli.main import _load, app, commands
from onewindow.declarations.cli import render
from onewindow.declarations.schemas import DeclarationRead
from onewindow.kit.config import get_settings
from onewindow.kit.node import Node
from onewindow.origin.cli import shift_dates
from onewindow.origin.models import VerificationRequest

DATA = resources.files("onewindow") / "data"
runner = CliRunner()

# Commands that print no data: they run something until stopped.
NO_DATA = {("serve",), ("demo",)}


def _leaves() -> Iterator[tuple[tuple[str, ...], Any]]:
    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        children = getattr(command, "commands", None)
        if children is None:
            yield path, command
            return
        for name, child in children.items():
            yield from walk(child, (*path, name))

    for name, command in commands().items():
        yield from walk(_load(command.target, name), (name,))


def test_every_command_that_prints_data_takes_json() -> None:
    """A new command without `--json` fails here: add it, or say here why it prints no data."""
    leaves = dict(_leaves())
    assert len(leaves) > 50
    missing = [
        " ".join(path)
        for path, command in leaves.items()
        if path not in NO_DATA and not any("--json" in p.opts for p in command.params)
    ]
    assert missing == []


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ONEWINDOW_RANDOM_SHARE", "0")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_of_the_commands_that_lacked_it(env: Path) -> None:
    loaded = _json("tariff", "import", str(DATA / "sample_tariff.csv"))
    assert loaded["loaded"] == 28
    assert _json("rates", "import", str(DATA / "sample_rates.csv"))["loaded"] == 8
    lines = _json("tariff", "list", "8517")
    assert lines and lines[0]["code"].startswith("8517") and "mfn_rate" in lines[0]
    rates = _json("rates", "list")
    assert {"currency", "rate", "valid_from"} == set(rates[0])
    usd = _json("rates", "show", "USD", "--date", "2026-11-20")
    assert usd["currency"] == "USD" and usd["in"] == "VND"
    assert _json("db", "status")["revision"] == _json("db", "upgrade")["after"]
    runner.invoke(app, ["user", "add", "saigon", "--role", "trader", "--party", "0101234567"])
    assert [u["username"] for u in _json("user", "list")] == ["saigon"]
    assert (
        runner.invoke(app, ["origin", "record", str(DATA / "sample_certificate.json")]).exit_code
        == 0
    )
    number = _json("declaration", "submit", str(DATA / "sample_declaration.json"))["number"]
    history = _json("declaration", "history", number)
    assert history[0]["action"] == "declaration.registered"
    assert {"at", "actor", "action", "from_status", "to_status", "detail"} == set(history[0])
    # amounts in the currency's minor unit: VND has none
    (listed,) = _json("declaration", "list")
    assert listed["total_due"] == "52700000"
    table = runner.invoke(app, ["declaration", "list"]).stdout
    assert "52,700,000" in table and ".00" not in table and number in table  # not cut short
    federation = env / "fed"
    made = _json("federation", "init", "--countries", "TH,VN", "--dir", str(federation))
    assert [m["country"] for m in made] == ["TH", "VN"]
    assert [m["country"] for m in _json("federation", "list", "--dir", str(federation))] == [
        "TH", "VN",
    ]  # fmt: skip


def test_clearance_refuses_days_out_of_range_like_the_api(env: Path) -> None:
    for days in ("-1", "0", "3661"):
        result = runner.invoke(app, ["declaration", "clearance", "--days", days])
        assert result.exit_code == 2 and "--days" in result.output, result.output
    assert runner.invoke(app, ["declaration", "clearance", "--days", "1"]).exit_code == 0


def test_origin_show_is_readable_not_a_python_dict(env: Path) -> None:
    assert (
        runner.invoke(app, ["origin", "record", str(DATA / "sample_certificate.json")]).exit_code
        == 0
    )
    shown = runner.invoke(app, ["origin", "show", "TH-2026-000123"])
    assert shown.exit_code == 0
    assert "{" not in shown.stdout and "'reference'" not in shown.stdout
    assert "TH-2026-000123" in shown.stdout and "851713" in shown.stdout


def test_a_tariff_rate_that_is_not_a_number_names_row_and_column(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text(
        "code,description,unit,mfn_rate,atiga_rate,vat_rate,valid_from,valid_to\n"
        "85171300,Smartphones,PCE,abc,0,10,2022-13-01,\n"
    )
    result = runner.invoke(app, ["tariff", "import", str(bad), "--json"])
    assert result.exit_code == 2
    errors = {e["path"]: e["message"] for e in json.loads(result.stdout)["errors"]}
    assert errors["line 2.mfn_rate"] == "line 2, column mfn_rate: 'abc' is not a number"
    assert "is not a date (YYYY-MM-DD)" in errors["line 2.valid_from"]
    assert "class" not in json.dumps(errors)


def test_a_missing_key_file_is_refused_not_created(env: Path) -> None:
    missing = env / "keys" / "nope.pem"
    result = runner.invoke(app, ["ledger", "head", "--key", str(missing)])
    assert result.exit_code == 2 and "--key" in result.stderr
    assert not missing.exists()


def test_ledger_commands_read_the_key_file_setting_only(env: Path) -> None:
    """One name for the node's key: ONEWINDOW_KEY_FILE, the setting; the --key option has no
    variable of its own (it was ONEWINDOW_SIGNING_KEY)."""
    ledger = dict(_leaves())
    for path, command in ledger.items():
        for param in command.params:
            assert getattr(param, "envvar", None) in (None, []), (path, param.name)


def test_show_names_the_acdd_an_import_was_matched_to(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.invoke(app, ["tariff", "import", str(DATA / "sample_tariff.csv")])
    runner.invoke(app, ["rates", "import", str(DATA / "sample_rates.csv")])
    data = _json("declaration", "submit", str(DATA / "sample_declaration.json"))
    assert data["pre_arrival"] is None
    from_model = DeclarationRead.model_validate(data | {"pre_arrival": "SG:SGSIN-2026-0000007"})
    render(from_model)
    assert "SG export declaration SGSIN-2026-0000007" in capsys.readouterr().out


def test_the_sample_form_d_application_issues_any_day(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its dates are fixed (and long past); --dates-from-today moves them together."""
    monkeypatch.setenv("ONEWINDOW_COUNTRY", "TH")
    monkeypatch.setenv("ONEWINDOW_CURRENCY", "THB")
    get_settings.cache_clear()
    sample = str(DATA / "sample_form_d_application.json")
    issued = _json("origin", "issue", "--dates-from-today", sample)
    assert issued["status"] == "issued" and issued["reference"].startswith("TH-")


def test_shift_dates_keeps_the_intervals() -> None:
    application = json.loads((DATA / "sample_form_d_application.json").read_text())
    moved = shift_dates(application, date(2031, 2, 27))
    assert moved["transport"]["departure_date"] == "2031-02-27"
    assert moved["declaration"]["date"] == "2031-02-26"  # a day before, as in the sample
    assert moved["items"][0]["invoice"]["date"] == "2031-02-25"
    assert moved["exporter"] == application["exporter"]


def test_unreadable_files_are_named_in_words(env: Path) -> None:
    (env / "broken.json").write_text("{x")
    cases = [
        (["tariff", "import", "nope.csv"], "cannot read nope.csv: No such file or directory"),
        (["origin", "record", "nope.json"], "cannot read nope.json: No such file or directory"),
        (["origin", "issue", "broken.json"], "cannot read broken.json: not valid JSON"),
    ]
    for args, said in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and said in result.stderr, result.stderr
        assert "Errno" not in result.stderr


def test_verifications_show_the_whole_request_id(env: Path) -> None:
    """The id shown is the one `origin verify-answer` takes (it was cut to 8 characters)."""
    request_id = "VN-TH-2026-000123-7f3c2a9e41b6"
    node = Node.open()
    with node.transaction() as session:
        session.add(
            VerificationRequest(
                request_id=request_id, reference="TH-2026-000123", requesting_country="VN",
                issuer_country="TH", reason="check", status="open",
                requested_at=datetime.now(UTC),
            )
        )  # fmt: skip
    shown = runner.invoke(app, ["origin", "verifications"])
    assert shown.exit_code == 0 and request_id in shown.stdout
