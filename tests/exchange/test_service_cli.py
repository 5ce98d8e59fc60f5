"""`onewindow exchange` as an operator uses it, on a node set up by `federation init`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from onewindow.cli.main import app
from onewindow.exchange import documents, federation
from onewindow.kit.config import get_settings

runner = CliRunner()


@pytest.fixture
def th(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    federation.init(tmp_path / "fed", ["TH", "VN"], base_port=1)  # VN on port 2: never up
    monkeypatch.setenv("ONEWINDOW_CONFIG", str(tmp_path / "fed" / "TH" / "node.json"))
    monkeypatch.setenv("ONEWINDOW_EXCHANGE_TIMEOUT", "1")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_queue_look_deliver_fail_and_retry(
    th: Path, sample_form_d: Callable[[], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    as_json = th / "form_d.json"
    as_json.write_text(json.dumps(sample_form_d(), default=str))
    as_xml = th / "form_d.xml"
    as_xml.write_bytes(documents.to_xml("FORM_D", sample_form_d()))
    first = run(
        "exchange", "send", str(as_json), "--to", "VN", "--type", "FORM_D", "--id", "TH-1", "--json"
    )
    run(
        "exchange",
        "send",
        str(as_xml),
        "--to",
        "vn",
        "--type",
        "FORM_D",
        "--id",
        "TH-2",
        "--version",
        "2",
    )
    listed = run("exchange", "messages", "--json")
    assert {(m["document_id"], m["version"], m["status"]) for m in listed} == {
        ("TH-1", 1, "queued"),
        ("TH-2", 2, "queued"),
    }
    assert first["message_id"] in {m["message_id"] for m in listed}
    assert "queued" in run("exchange", "messages", "--direction", "out")
    partners = run("exchange", "partners", "--json")
    assert partners["ready"] and [p["country"] for p in partners["partners"]] == ["VN"]

    assert "2 attempt(s)" in run("exchange", "deliver")  # VN is not running
    waiting = run("exchange", "messages", "--json")
    assert all(m["status"] == "queued" and m["last_error"] for m in waiting)
    monkeypatch.setenv("ONEWINDOW_EXCHANGE_TTL", "0")
    run("exchange", "deliver")
    assert {m["status"] for m in run("exchange", "messages", "--json")} == {"failed"}
    assert "failed" in run("exchange", "messages")
    assert len(run("exchange", "retry", "--all-failed", "--json")["requeued"]) == 2
    stats = run("exchange", "stats", "--json")
    assert stats["totals"] == {"out": 2, "in": 0} and stats["counts"][0]["status"] == "queued"
    assert "sent 2, received 0" in run("exchange", "stats")


def test_mistakes_are_explained(th: Path, sample_form_d: Callable[[], dict[str, Any]]) -> None:
    doc = th / "form_d.json"
    doc.write_text(json.dumps(sample_form_d(), default=str))
    unknown = runner.invoke(
        app, ["exchange", "send", str(doc), "--to", "SG", "--type", "FORM_D", "--id", "X"]
    )
    assert unknown.exit_code == 2 and "not a partner" in " ".join(unknown.output.split())
    assert runner.invoke(app, ["exchange", "retry"]).exit_code == 2
    missing = runner.invoke(app, ["exchange", "retry", "00000000-0000-4000-8000-000000000000"])
    assert missing.exit_code == 2
    bad = runner.invoke(app, ["exchange", "messages", "--direction", "sideways"])
    assert bad.exit_code == 2
