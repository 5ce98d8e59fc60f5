"""`onewindow reference`: import, lists and show, readable and in JSON; a bad file exits 2 with
every problem coded and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from onewindow.cli.main import app
from onewindow.kit.config import get_settings

OFFICES = str(resources.files("onewindow") / "data" / "sample_offices.csv")
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run_json(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["reference", *args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_import_lists_show_in_json(env: Path) -> None:
    loaded = run_json("import", "offices", OFFICES, "--from", "2026-01-01")
    assert loaded == {
        "name": "offices", "valid_from": "2026-01-01",
        "added": 9, "changed": 0, "closed": 0, "unchanged": 0,
    }  # fmt: skip
    again = run_json("import", "offices", OFFICES, "--from", "2026-02-01")
    assert again["unchanged"] == 9 and again["added"] == 0
    summary = run_json("lists", "--date", "2026-03-01")
    assert [(s["name"], s["entries"]) for s in summary] == [
        ("offices", 9), ("packages", 0), ("documents", 0),
    ]  # fmt: skip
    shown = run_json("show", "offices", "--date", "2026-03-01")
    assert shown["on"] == "2026-03-01" and len(shown["entries"]) == 9
    assert shown["entries"][0]["attributes"] == {"kind": "port", "locode": "VNDAD"}
    assert run_json("show", "offices", "--date", "2025-12-31")["entries"] == []


def test_readable_tables(env: Path) -> None:
    runner.invoke(app, ["reference", "import", "offices", OFFICES, "--from", "2026-01-01"])
    shown = runner.invoke(app, ["reference", "show", "offices"], env={"COLUMNS": "160"})
    assert shown.exit_code == 0
    assert "Chi cục Hải quan cảng Cát Lái" in shown.stdout and "VNCLI" in shown.stdout
    assert "{" not in shown.stdout  # attributes in their own columns, not a dict
    lists = runner.invoke(app, ["reference", "lists"], env={"COLUMNS": "160"})
    assert "kind, locode" in lists.stdout and "2026-01-01" in lists.stdout


def test_a_bad_file_exits_2_with_coded_errors_and_writes_nothing(env: Path) -> None:
    bad = env / "offices.csv"
    bad.write_text(
        "code,description,kind,locode\nHP01,Hai Phong,port,VNHPH\nHP02,Hai Phong 2,dock,VNHPH\n"
        "HP01,Twice,port,VNHPX\n"
    )
    problem = run_json("import", "offices", str(bad), code=2)
    assert problem["code"] == "invalid_input"
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("line 3.kind", "literal_error"),
        ("line 4.code", "duplicate"),
    ]
    assert run_json("show", "offices")["entries"] == []
    readable = runner.invoke(app, ["reference", "import", "offices", str(bad)])
    assert readable.exit_code == 2 and "literal_error" in readable.output


def test_wrong_names_dates_and_files_exit_2(env: Path) -> None:
    assert run_json("show", "ports", code=2)["code"] == "not_found"
    assert run_json("import", "ports", OFFICES, code=2)["code"] == "not_found"
    for args in (["show", "offices", "--date", "soon"], ["import", "offices", "nope.csv"],
                 ["import", "offices", OFFICES, "--from", "soon"]):  # fmt: skip
        result = runner.invoke(app, ["reference", *args])
        assert result.exit_code == 2 and "error" in result.output, args
