"""Bad settings: one line naming the setting and what it allows, exit 2, never a traceback,
whichever command meets them first (`serve` included)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onewindow.cli.main import _load, app, commands, report
from onewindow.kit.config import get_settings, settings_class
from onewindow.kit.errors import InvalidSetting, OneWindowError

BIN = Path(sys.executable).parent / "onewindow"
runner = CliRunner()

# (variables, the setting the error must name, a word of what is allowed)
BAD = [
    ({"ONEWINDOW_COUNTRY": "XX"}, "ONEWINDOW_COUNTRY", "ISO 3166"),
    ({"ONEWINDOW_CURRENCY": "XYZ"}, "ONEWINDOW_CURRENCY", "ISO 4217"),
    ({"ONEWINDOW_RED_TARGET": "2"}, "ONEWINDOW_RED_TARGET", "less than or equal to 1"),
    ({"ONEWINDOW_RANDOM_SHARE": "-0.1"}, "ONEWINDOW_RANDOM_SHARE", "greater than or equal to 0"),
    (
        {"ONEWINDOW_RED_TARGET": "0.6", "ONEWINDOW_YELLOW_TARGET": "0.5"},
        "ONEWINDOW_RED_TARGET + ONEWINDOW_YELLOW_TARGET",
        "at most 1",
    ),
    ({"ONEWINDOW_PORT": "99999"}, "ONEWINDOW_PORT", "65535"),
    ({"ONEWINDOW_PORT": "http"}, "ONEWINDOW_PORT", "integer"),
    ({"ONEWINDOW_MAX_ITEMS": "0"}, "ONEWINDOW_MAX_ITEMS", "greater than or equal to 1"),
    ({"ONEWINDOW_CONFIG": "nope.json"}, "ONEWINDOW_CONFIG", "No such file"),
    ({"ONEWINDOW_DATABASE_URL": "mysql://u:secret@db/ow"}, "ONEWINDOW_DATABASE_URL", "sqlite"),
    ({"ONEWINDOW_PARTNERS": "not json"}, "ONEWINDOW_PARTNERS", "JSON"),
]


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_")}
    return env | {"ONEWINDOW_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}"}


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _one_line_naming(done: subprocess.CompletedProcess[str], name: str, allowed: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert name in lines[0] and allowed in lines[0], lines[0]


def test_bad_settings_in_real_processes(clean_env: dict[str, str], tmp_path: Path) -> None:
    """The installed command, as a person runs it: serve and others, each a bad setting."""
    (tmp_path / "a-file").write_text("")
    node = tmp_path / "node.json"
    node.write_text('{"country": "VN", "red_target": "1.5"}')
    unwritable = f"sqlite:///{tmp_path / 'a-file' / 'node.db'}"
    cases = [
        (["serve"], {"ONEWINDOW_COUNTRY": "XX"}, "ONEWINDOW_COUNTRY", "ISO 3166"),
        (["serve"], {"ONEWINDOW_CONFIG": "nope.json"}, "ONEWINDOW_CONFIG", "No such file"),
        (["serve"], {"ONEWINDOW_DATABASE_URL": unwritable}, "ONEWINDOW_DATABASE_URL", "writ"),
        (["serve", "--config", str(node)], {}, "red_target", "less than or equal to 1"),
        (["declaration", "list"], {"ONEWINDOW_RED_TARGET": "2"}, "ONEWINDOW_RED_TARGET", "1"),
        (["db", "status"], {"ONEWINDOW_DATABASE_URL": "mysql://u:secret@db/ow"},
         "ONEWINDOW_DATABASE_URL", "postgresql://"),
    ]  # fmt: skip
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(lambda c: _run(c[0], clean_env | c[1], tmp_path), cases))
    for (_, _, name, allowed), result in zip(cases, done, strict=True):
        _one_line_naming(result, name, allowed)
    assert "secret" not in done[-1].stderr


def _commands_without_arguments() -> list[list[str]]:
    """Every command of the tree that can be called with no argument at all."""
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is not None:
            for name, child in children.items():
                walk(child, [*path, name])
            return
        if not any(p.required for p in command.params):  # type: ignore[attr-defined]
            found.append(path)

    for name, command in commands().items():
        walk(_load(command.target, name), [name])
    return [p for p in found if p != ["demo"]]  # the demo sets its nodes up from its own files


@pytest.mark.parametrize(("variables", "name", "allowed"), BAD)
def test_every_command_refuses_a_bad_setting_in_one_line(
    variables: dict[str, str], name: str, allowed: str, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    """In process, for speed: an error the command does not handle itself reaches `main()`,
    which prints `report()`'s one line (the real process is tested above)."""
    commands = _commands_without_arguments()
    assert ["serve"] in commands and ["user", "list"] in commands and len(commands) > 15
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("ONEWINDOW_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{tmp_path / 'node.db'}")
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    for args in commands:
        get_settings.cache_clear()
        result = runner.invoke(app, args)
        if isinstance(result.exception, OneWindowError):
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                code = report(result.exception)
            result_line, exit_code = stderr.getvalue(), code
        else:
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                args, repr(result.exception))  # fmt: skip
            result_line, exit_code = result.stderr, result.exit_code
        assert exit_code == 2, (args, result_line)
        if result_line.startswith(("error (invalid_input)", "error: ")):
            continue  # it refused its own arguments before it opened the node
        assert len(result_line.strip().splitlines()) == 1, (args, result_line)
        assert name in result_line and allowed in result_line, (args, result_line)
    get_settings.cache_clear()


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWINDOW_COUNTRY", "xx")
    get_settings.cache_clear()
    try:
        with pytest.raises(InvalidSetting, match=r"^ONEWINDOW_COUNTRY: 'XX' is not an ISO 3166"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_valid_settings_still_load() -> None:
    s = settings_class()(
        country="th", currency="thb", database_url="sqlite://", red_target="1", yellow_target="0"
    )
    assert (s.country, s.currency) == ("TH", "THB")
    pg = settings_class()(database_url="postgresql://u@h/db?options=-csearch_path%3Dx")
    assert pg.database_url.startswith("postgresql+psycopg://u@h/db")
