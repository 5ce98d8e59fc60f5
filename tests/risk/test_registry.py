"""The model registry: register, activate, roll back; corrupted or foreign artifacts refused;
the node scores with the active model; the API lists the models to officials only."""

from __future__ import annotations

import logging
import random
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient

from onewindow.app import create_app
from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.generator import declaration
from onewindow.declarations.tasks import writer
from onewindow.kit.auth import SYSTEM
from onewindow.kit.db import Base
from onewindow.kit.errors import Conflict, InvalidInput, NotFound
from onewindow.kit.node import Node
from onewindow.risk import NoModel, Selectivity, Targets, registry
from onewindow.risk.artifact import save
from onewindow.risk.lanes import lanes
from onewindow.risk.learning import Settings, train


@pytest.fixture(scope="module")
def second_model(history: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another artifact (a smaller model, so another version) for activate and rollback."""
    directory = tmp_path_factory.mktemp("second") / "artifact"
    save(train(history, settings=Settings(n_estimators=30)), directory)
    return directory


def _register(node: Node, source: Path, store: Path) -> str:
    with node.transaction() as s:
        return registry.register(s, source, store, by="analyst", now=node.clock.now()).version


def _activate(node: Node, version: str) -> Any:
    with node.transaction() as s:
        return registry.activate(s, version, by="supervisor", now=node.clock.now())


def _active(node: Node) -> str | None:
    with node.transaction() as s:
        found = registry.active_model(s)
        return found.version if found is not None else None


def test_activate_and_roll_back(
    node: Node, model_dir: Path, second_model: Path, tmp_path: Path
) -> None:
    store = tmp_path / "models"
    first = _register(node, model_dir, store)
    second = _register(node, second_model, store)
    assert first != second and (store / first / "metadata.json").is_file()
    assert _active(node) is None
    with node.transaction() as s:
        listed = registry.list_models(s)
        assert [m.version for m in listed] == [second, first]
        assert listed[1].rows == 3000 and listed[1].data_from == date(2020, 1, 1)
        assert listed[1].metrics["internal_validation"]["top"]["10"]["precision"] > 0.5

    assert _activate(node, first).previous_version is None
    row = _activate(node, second)
    assert (row.previous_version, row.activated_by) == (first, "supervisor")
    assert _active(node) == second
    with node.transaction() as s:
        assert registry.rollback(s, by="supervisor", now=node.clock.now()).version == first
    assert _active(node) == first
    with node.transaction() as s, pytest.raises(Conflict, match="nothing to roll back"):
        registry.rollback(s, by="supervisor", now=node.clock.now())
    with node.transaction() as s, pytest.raises(NotFound):
        registry.activate(s, "20990101T000000Z-00000000", by="x", now=node.clock.now())
    with node.transaction() as s, pytest.raises(Conflict, match="already registered"):
        registry.register(s, model_dir, store, by="analyst", now=node.clock.now())


def test_rollback_without_an_active_model_is_refused(node: Node) -> None:
    with node.transaction() as s, pytest.raises(Conflict, match="no risk model is active"):
        registry.rollback(s, by="supervisor", now=node.clock.now())


def test_a_corrupted_artifact_is_refused_and_the_active_one_stays(
    node: Node, model_dir: Path, second_model: Path, tmp_path: Path
) -> None:
    store = tmp_path / "models"
    good = _register(node, model_dir, store)
    _activate(node, good)
    bad = _register(node, second_model, store)
    classifier = store / bad / "classifier.txt"
    classifier.write_text(classifier.read_text().replace("Tree=0", "Tree=0\n", 1))
    with pytest.raises(InvalidInput) as refused:
        _activate(node, bad)
    assert refused.value.errors[0].code == "checksum_mismatch"
    assert "classifier.txt" in refused.value.errors[0].path
    assert _active(node) == good


def test_a_foreign_directory_is_not_registered(node: Node, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "model.pkl").write_bytes(b"\x80\x04not ours")
    with pytest.raises(InvalidInput) as refused:
        _register(node, foreign, tmp_path / "models")
    assert refused.value.errors[0].code == "not_an_artifact"
    assert not (tmp_path / "models").exists()


def test_the_node_scores_with_the_active_model_and_survives_a_damaged_one(
    node: Node, model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lanes(node).selectivity = Selectivity(Targets(0.0, 0.0, 0.0), rng=random.Random(1))
    assert lanes(node).reload() is None and isinstance(lanes(node).selectivity.scorer, NoModel)
    version = _register(node, model_dir, tmp_path / "models")
    _activate(node, version)
    assert lanes(node).reload() == version
    docs = [declaration(random.Random(4), date(2026, 11, 18)) for _ in range(3)]
    with node.transaction() as s:
        numbers = service.lodge(s, SYSTEM, docs, context(node))
        scored = [service.get(s, SYSTEM, n) for n in numbers]
    assert all(d.risk_score is not None and 0 <= d.risk_score <= 1 for d in scored)
    assert all(f"scored by model {version}" in d.risk_reasons for d in scored)
    # A restarted node's thresholds start from the scores this model has already given.
    assert lanes(node).reload() == version and len(lanes(node).selectivity.window) == 0
    with node.transaction() as s:
        service.lodge(s, SYSTEM, docs[:1], context(node))
    assert len(lanes(node).selectivity.window) == 3 + 1

    shutil.rmtree(tmp_path / "models" / version)  # the store lost the file after activation
    lanes(node).reload()
    with caplog.at_level(logging.ERROR, "onewindow.risk"), node.transaction() as s:
        numbers = service.lodge(s, SYSTEM, docs[:1], context(node))
        unscored = service.get(s, SYSTEM, numbers[0])
    assert unscored.risk_score is None and unscored.channel == "green"
    assert "risk.model_unavailable" in caplog.text


def test_the_api_lists_models_to_officials_only(
    node: Node, tokens: dict[str, str], model_dir: Path, tmp_path: Path
) -> None:
    version = _register(node, model_dir, tmp_path / "models")
    _activate(node, version)
    client = TestClient(create_app(node))
    seen = client.get(
        "/api/v1/risk/models", headers={"Authorization": f"Bearer {tokens['officer']}"}
    )
    assert seen.status_code == 200, seen.text
    [model] = seen.json()
    assert model["version"] == version and model["active"] is True and "path" not in model
    refused = client.get(
        "/api/v1/risk/models", headers={"Authorization": f"Bearer {tokens['trader']}"}
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/risk/models").status_code == 401


def test_activation_through_the_api_reaches_the_running_node(
    node: Node, tokens: dict[str, str], model_dir: Path, tmp_path: Path
) -> None:
    lanes(node).selectivity = Selectivity(Targets(0.0, 0.0, 0.0), rng=random.Random(1))
    lanes(node).reload()
    version = _register(node, model_dir, tmp_path / "models")
    client = TestClient(create_app(node))
    url = f"/api/v1/risk/models/{version}/activation"
    officer = client.post(url, headers={"Authorization": f"Bearer {tokens['officer']}"})
    assert officer.status_code == 403 and _active(node) is None
    done = client.post(url, headers={"Authorization": f"Bearer {tokens['supervisor']}"})
    assert done.status_code == 200 and done.json()["active"] is True
    assert not isinstance(lanes(node).selectivity.scorer, NoModel)  # no restart needed
    missing = client.post(
        "/api/v1/risk/models/nope/activation",
        headers={"Authorization": f"Bearer {tokens['supervisor']}"},
    )
    assert missing.status_code == 404


def test_a_model_activated_by_another_process_reaches_the_running_api(
    node: Node, tokens: dict[str, str], model_dir: Path, tmp_path: Path
) -> None:
    lanes(node).selectivity = Selectivity(Targets(0.0, 0.0, 0.0), rng=random.Random(1))
    lanes(node).reload()
    app = create_app(node)
    writer(node).model_check = 0.0  # ask the registry before every batch
    client = TestClient(app)
    version = _register(node, model_dir, tmp_path / "models")
    _activate(node, version)  # as `onewindow risk activate` does, outside the server
    assert isinstance(lanes(node).selectivity.scorer, NoModel)
    lodged = client.post(
        "/api/v1/declarations",
        json=declaration(random.Random(3), date(2026, 11, 20)),
        headers={"Authorization": f"Bearer {tokens['officer']}"},
    )
    assert lodged.status_code == 201, lodged.text
    assert lodged.json()["risk"]["score"] is not None
    assert lanes(node).model is not None and lanes(node).model[0] == version


def test_migration_matches_the_registry_table(node: Node) -> None:
    with node.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if "risk_models" in repr(d)] == []
