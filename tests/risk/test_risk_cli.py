"""`onewindow risk` commands: output shapes, exit codes and messages, no tracebacks."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from onewindow.risk.cli import app

runner = CliRunner()


def _run(*args: str | Path):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_train_then_evaluate_prints_the_documented_json(
    kcs_files: tuple[Path, Path], tmp_path: Path
) -> None:
    train_csv, valid_csv = kcs_files
    out = tmp_path / "model"
    trained = _run("train", "--data", train_csv, "--format", "kcs", "--out", out, "--json")
    assert trained.exit_code == 0, trained.output
    summary = orjson.loads(trained.stdout)
    assert (
        summary["rows"] == 3000
        and "Fraud × Item Price × Tax Rate / 100" in summary["revenue_definition"]
    )
    result = _run("evaluate", "--model", out, "--data", valid_csv, "--format", "kcs", "--json")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)  # stdout is exactly one JSON document
    assert list(doc)[:3] == ["rows", "auc", "top"]
    assert doc["rows"] == 1000
    assert list(doc["top"]) == ["1", "2", "5", "10"]
    assert [doc["top"][n]["k"] for n in ("1", "2", "5", "10")] == [10, 20, 50, 100]
    assert doc["top"]["10"]["precision"] >= 0.85
    assert "Item Price" in doc["revenue_definition"]


def test_evaluate_without_json_prints_a_table(
    model_dir: Path, kcs_files: tuple[Path, Path]
) -> None:
    result = _run("evaluate", "--model", model_dir, "--data", kcs_files[1])
    assert result.exit_code == 0
    assert "precision" in result.stdout and "10 %" in result.stdout


def test_training_on_two_files_reads_both(kcs_files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "m"
    result = _run("train", "--data", kcs_files[0], "--data", kcs_files[1], "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["date_range"] == ["2020-01-01", "2020-05-30"]


def test_missing_column_exits_2_naming_it(
    kcs_files: tuple[Path, Path], tmp_path: Path, model_dir: Path
) -> None:
    frame = pd.read_csv(kcs_files[1], dtype=str).rename(columns={"HS6 Code": "HS Code"})
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    result = _run("evaluate", "--model", model_dir, "--data", bad, "--json")
    assert result.exit_code == 2
    problem = orjson.loads(result.stdout)
    assert problem["errors"][0]["path"] == "bad.csv.HS6 Code"
    assert "HS Code" in problem["errors"][0]["message"]
    plain = _run("evaluate", "--model", model_dir, "--data", bad)
    assert plain.exit_code == 2
    assert "HS6 Code" in plain.stderr and "Traceback" not in plain.output


def test_wrong_type_exits_2(kcs_writer: Callable, frame_factory: Callable, tmp_path: Path) -> None:
    frame = frame_factory(50, seed=20)
    path = kcs_writer(frame, tmp_path / "t.csv")
    text = path.read_text().splitlines()
    cells = text[3].split(",")
    cells[19] = "cheap"  # Item Price
    text[3] = ",".join(cells)
    path.write_text("\n".join(text) + "\n")
    result = _run("train", "--data", path, "--out", tmp_path / "m")
    assert result.exit_code == 2
    assert "value" in result.stderr and "row 3" in result.stderr and "'cheap'" in result.stderr
    assert not (tmp_path / "m").exists()


def test_empty_file_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = _run("train", "--data", empty, "--out", tmp_path / "m")
    assert result.exit_code == 2 and "empty" in result.stderr


def test_all_one_label_exits_2(
    kcs_writer: Callable, frame_factory: Callable, tmp_path: Path
) -> None:
    frame = frame_factory(100, seed=21)
    frame["label"] = 1.0
    path = kcs_writer(frame, tmp_path / "ones.csv")
    for args in (("train", "--out", tmp_path / "m"), ("simulate",)):
        result = _run(*args, "--data", path)
        assert result.exit_code == 2
        assert "label" in result.stderr and "both 0 and 1" in result.stderr


def test_unknown_format_exits_2(kcs_files: tuple[Path, Path], tmp_path: Path) -> None:
    result = _run("train", "--data", kcs_files[0], "--format", "xml", "--out", tmp_path / "m")
    assert result.exit_code == 2 and "--format" in result.stderr


def test_corrupted_model_exits_2(
    model_dir: Path, kcs_files: tuple[Path, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "stats.json").write_bytes(b"{}")
    result = _run("evaluate", "--model", broken, "--data", kcs_files[1], "--json")
    assert result.exit_code == 2
    assert orjson.loads(result.stdout)["errors"][0]["code"] == "checksum_mismatch"


@pytest.mark.parametrize("name", ["nowhere", "foreign"])
def test_missing_or_foreign_model_exits_2(
    name: str, kcs_files: tuple[Path, Path], tmp_path: Path
) -> None:
    folder = tmp_path / name
    if name == "foreign":
        folder.mkdir()
        (folder / "metadata.json").write_text('{"format": "sklearn-pickle"}')
    result = _run("evaluate", "--model", folder, "--data", kcs_files[1])
    assert result.exit_code == 2
    assert ("not_found" if name == "nowhere" else "not_an_artifact") in result.stderr


def test_simulate_json(kcs_writer: Callable, frame_factory: Callable, tmp_path: Path) -> None:
    path = kcs_writer(frame_factory(700, seed=22, days=28), tmp_path / "s.csv")
    result = _run("simulate", "--data", path, "--json", "--inspection-rate", "0.2")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["weeks"] == len(doc["per_week"]) >= 4
    assert set(doc["average"]) == {"precision", "norm_precision", "revenue", "norm_revenue"}
