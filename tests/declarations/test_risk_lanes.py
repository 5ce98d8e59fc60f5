"""The risk engine in the node, end to end: officers' findings become labels, `onewindow risk
retrain --activate` learns from them, and lodged declarations then get red and yellow lanes
near the targets, each with its explanation stored."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click
import click.testing
import pytest
import typer
import typer.testing

from onewindow.cli.main import app
from onewindow.declarations import repository, service
from onewindow.declarations.context import context
from onewindow.declarations.generator import declaration
from onewindow.declarations.schemas import Correction, InspectionFindings
from onewindow.kit.auth import SYSTEM, Principal, Role
from onewindow.kit.config import get_settings
from onewindow.kit.node import Node
from onewindow.risk import Selectivity, Targets
from onewindow.risk.lanes import lanes as lanes_of

OFFICER = Principal("officer1", Role.OFFICER)
RISKY_IMPORTER = "0309999999"  # Hanoi Trading Co. in the generator


def invoke(*args: str) -> Any:
    """Run the real `onewindow` command line in-process."""
    # The root is a typer app with a lazy group today; a plain click group would do as well.
    if isinstance(app, typer.Typer):
        return typer.testing.CliRunner().invoke(app, list(args))
    assert isinstance(app, click.Command)
    return click.testing.CliRunner().invoke(app, list(args))


def _risky(doc: dict[str, Any]) -> bool:
    """The planted pattern: this importer's smartphones are mostly undervalued."""
    phones = any(i["hs_code"].startswith("8517") for i in doc["items"])
    return doc["importer"]["id"] == RISKY_IMPORTER and phones


def _history(node: Node, days: int, per_day: int) -> None:
    """Declarations over several days, every one inspected, findings by the planted pattern."""
    lanes_of(node).selectivity = Selectivity(Targets(1.0, 0.0, 1.0), rng=random.Random(1))
    rng = random.Random(11)
    for _ in range(days):
        docs = [declaration(rng, date(2026, 11, 1)) for _ in range(per_day)]
        with node.transaction() as s:
            for number, doc in zip(
                service.lodge(s, SYSTEM, docs, context(node)), docs, strict=True
            ):
                if rng.random() < (0.85 if _risky(doc) else 0.03):
                    raised = f"{float(doc['items'][0]['customs_value']) * 1.4:.2f}"
                    findings = InspectionFindings(
                        result="irregularity",
                        corrections=[Correction(item=1, field="customs_value", value=raised)],
                    )
                else:
                    findings = InspectionFindings(result="compliant")
                service.record_inspection(s, OFFICER, number, findings, context(node))
        node.clock.advance(days=1)  # type: ignore[attr-defined]


@pytest.fixture
def cli_env(node: Node, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI opens the same database as the test's node."""
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", node.settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_retrain_from_the_node_then_lanes_hold_with_explanations(
    node: Node, cli_env: None, tmp_path: Path
) -> None:
    _history(node, days=12, per_day=30)
    store = tmp_path / "models"

    trained = invoke("risk", "retrain", "--activate", "--models-dir", str(store), "--json")
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout)
    version = summary["version"]
    assert summary["active"] is True and summary["registered"] == str(store / version)
    assert summary["labelled"] == summary["rows"] > 700
    assert "due after − due before" in summary["revenue_definition"]
    listed = json.loads(invoke("risk", "models", "--json").stdout)
    assert [(m["version"], m["active"], m["data_format"]) for m in listed] == [
        (version, True, "native")
    ]

    lanes_of(node).selectivity = Selectivity(Targets(0.05, 0.15, 0.10), rng=random.Random(3))
    assert lanes_of(node).reload() == version
    rng = random.Random(99)
    lanes: list[str] = []
    risky_red = risky = 0
    for _ in range(6):
        docs = [declaration(rng, date(2026, 11, 18)) for _ in range(250)]
        with node.transaction() as s:
            numbers = service.lodge(s, SYSTEM, docs, context(node))
            stored = {d.number: d for d in repository.by_numbers(s, numbers)}
            for number, doc in zip(numbers, docs, strict=True):
                decl = stored[number]
                lanes.append(decl.channel)
                assert decl.risk_score is not None
                assert f"scored by model {version}" in decl.risk_reasons
                assert any(": +" in r or ": -" in r for r in decl.risk_reasons), decl.risk_reasons
                if _risky(doc):
                    risky += 1
                    risky_red += decl.channel == "red"
    total = len(lanes)
    assert 0.035 <= lanes.count("red") / total <= 0.07
    assert 0.12 <= lanes.count("yellow") / total <= 0.18
    # The model learned the planted pattern: those declarations go to red far above 5 %.
    assert risky_red / risky > 0.3

    # Train on the earlier days, measure on the later ones (the stream above is unlabelled).
    out = tmp_path / "from-db"
    again = invoke("risk", "train", "--from-db", "--until", "2026-11-29", "--out", str(out))
    assert again.exit_code == 0, again.output
    measured = invoke(
        "risk", "evaluate", "--model", str(out), "--from-db", "--since", "2026-11-29", "--json"
    )
    assert measured.exit_code == 0, measured.output
    report = json.loads(measured.stdout)
    assert 0 < report["rows"] < summary["labelled"] and list(report["top"]) == ["1", "2", "5", "10"]
    # About one declaration in eight is irregular; the model learned from the values as
    # declared (not the inspectors' corrections), so it must find them at well over that rate.
    top = report["top"]["10"]
    base_rate = top["precision"] * top["k"] / top["recall"] / report["rows"]
    assert report["top"]["5"]["precision"] > 2.5 * base_rate
    empty = invoke("risk", "evaluate", "--model", str(out), "--from-db", "--since", "2030-01-01")
    assert empty.exit_code == 2 and "no declarations in the period" in " ".join(
        empty.stderr.split()
    )


def test_activate_and_rollback_commands(node: Node, cli_env: None, tmp_path: Path) -> None:
    _history(node, days=4, per_day=25)
    store = str(tmp_path / "models")
    first = json.loads(invoke("risk", "retrain", "--models-dir", store, "--json").stdout)
    assert first["active"] is False
    activated = invoke("risk", "activate", first["version"], "--json")
    assert activated.exit_code == 0, activated.output
    _history(node, days=2, per_day=25)  # new findings: the next model differs
    second = json.loads(
        invoke("risk", "retrain", "--activate", "--models-dir", store, "--json").stdout
    )
    assert second["version"] != first["version"]
    back = invoke("risk", "rollback", "--json")
    assert back.exit_code == 0 and json.loads(back.stdout)["version"] == first["version"]
    refused = invoke("risk", "rollback")
    assert refused.exit_code == 2 and "nothing to roll back" in " ".join(refused.stderr.split())
    unknown = invoke("risk", "activate", "nope", "--json")
    assert unknown.exit_code == 2 and json.loads(unknown.stdout)["code"] == "not_found"
    table = invoke("risk", "models")
    assert table.exit_code == 0 and first["version"] in table.stdout


def test_retrain_without_findings_says_why(node: Node, cli_env: None, tmp_path: Path) -> None:
    lanes_of(node).selectivity = Selectivity(Targets(0.0, 0.0, 0.0), rng=random.Random(1))
    docs = [declaration(random.Random(5), date(2026, 11, 18)) for _ in range(5)]
    with node.transaction() as s:
        service.lodge(s, SYSTEM, docs, context(node))
    result = invoke("risk", "retrain", "--models-dir", str(tmp_path / "models"), "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["errors"][0]["code"] == "no_labels"
    assert not (tmp_path / "models").exists()
