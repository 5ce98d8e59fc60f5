"""Risk in the portals: a supervisor activates a registered model and rolls back (the running
node scores with it at once), writes a rule profile (bad criteria named next to their field,
nothing saved) and expires it; officials and analysts read; traders see nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.pages import post

from onewindow.app import create_app
from onewindow.kit import auth, i18n, web
from onewindow.kit.audit import AuditEvent
from onewindow.kit.node import Node
from onewindow.risk import RiskProfile, registry
from onewindow.risk.artifact import save
from onewindow.risk.lanes import lanes
from onewindow.risk.learning import Settings, train


@pytest.fixture(scope="module")
def small_model(history: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second artifact (fewer trees, so another version), trained without a search: it
    has no internal validation to show."""
    directory = tmp_path_factory.mktemp("small") / "artifact"
    save(train(history, settings=Settings(n_estimators=30)), directory)
    return directory


@pytest.fixture
def client(node: Node) -> TestClient:
    return TestClient(create_app(node), raise_server_exceptions=False)


def register(node: Node, source: Path, store: Path) -> str:
    with node.transaction() as s:
        return registry.register(s, source, store, by="analyst", now=node.clock.now()).version


def active(node: Node) -> str | None:
    with node.transaction() as s:
        found = registry.active_model(s)
        return found.version if found is not None else None


def profiles(node: Node) -> list[RiskProfile]:
    with node.transaction() as s:
        return list(s.scalars(select(RiskProfile)))


def test_a_supervisor_activates_a_model_and_rolls_back(
    node: Node,
    client: TestClient,
    tokens: dict[str, str],
    model_dir: Path,
    small_model: Path,
    tmp_path: Path,
) -> None:
    first = register(node, model_dir, tmp_path / "models")
    second = register(node, small_model, tmp_path / "models")
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    page = client.get("/risk/models")
    assert page.status_code == 200 and "No model is active" in page.text
    assert first in page.text and second in page.text
    assert "Precision top 5 %" in page.text
    # The searched model shows its internal validation: AUC and precision at each top-n %.
    assert re.search(r'<td class="number">0\.\d{3}<br><span class="muted">recall', page.text)

    done = post(client, f"/risk/models/{first}/activation", {}, "/risk/models")
    assert done.status_code == 303 and done.headers["location"] == "/risk/models?done=activated"
    assert active(node) == first
    assert lanes(node).model is not None and lanes(node).model[0] == first  # no restart
    shown = client.get(done.headers["location"]).text
    assert "The model is active" in shown and f"<strong>{first}</strong>" in shown
    assert "Roll back" not in shown  # nothing was active before it

    post(client, f"/risk/models/{second}/activation", {}, "/risk/models")
    assert active(node) == second and lanes(node).model[0] == second  # type: ignore[index]
    assert f"Roll back to {first}" in client.get("/risk/models").text
    back = post(client, "/risk/models/rollback", {}, "/risk/models")
    assert back.status_code == 303 and active(node) == first
    assert lanes(node).model[0] == first  # type: ignore[index]
    with node.transaction() as s:
        actors = s.scalars(
            select(AuditEvent.action).where(AuditEvent.actor == "super1").order_by(AuditEvent.id)
        ).all()
    assert actors == ["risk.model_activated", "risk.model_activated", "risk.model_rolled_back"]

    missing = post(client, "/risk/models/nope/activation", {})
    assert missing.status_code == 404 and "<html" in missing.text and active(node) == first


def test_who_may_read_and_who_may_change_models(
    node: Node, client: TestClient, tokens: dict[str, str], model_dir: Path, tmp_path: Path
) -> None:
    version = register(node, model_dir, tmp_path / "models")
    client.cookies.set(web.COOKIE, tokens["officer"])
    read = client.get("/risk/models")
    assert read.status_code == 200 and version in read.text
    assert "/activation" not in read.text  # no button for a role that may not press it
    refused = client.post(f"/risk/models/{version}/activation",
                          data={"csrf_token": web.csrf(tokens["officer"])})  # fmt: skip
    assert refused.status_code == 403 and active(node) is None
    client.cookies.set(web.COOKIE, tokens["trader"])
    assert client.get("/risk/models").status_code == 403
    assert client.get("/risk/profiles").status_code == 403
    home = client.get("/").text
    assert "/risk/" not in home  # nor in a trader's navigation


def test_a_supervisor_writes_a_profile_and_expires_it(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    page = "/risk/profiles"
    good = {"name": "phones-th", "lane": "yellow", "reason": "phones from TH undervalued"}

    none = post(client, page, good, page)  # no criterion at all
    assert none.status_code == 422 and 'href="#criteria"' in none.text
    assert 'id="criteria-error"' in none.text and 'value="phones-th"' in none.text
    bad = post(client, page, {**good, "origin": "XX", "hs_prefix": "85a"}, page)
    assert bad.status_code == 422
    assert 'href="#origin"' in bad.text and 'href="#hs_prefix"' in bad.text
    value = post(client, page, {**good, "min_value_per_kg": "lots"}, page)
    assert value.status_code == 422 and 'id="min_value_per_kg-error"' in value.text
    lane = post(client, page, {**good, "lane": "purple", "origin": "TH"}, page)
    assert lane.status_code == 422 and 'href="#lane"' in lane.text
    assert profiles(node) == []  # nothing saved

    made = post(client, page, {**good, "origin": "TH", "hs_prefix": "8517",
                               "max_value_per_kg": "12.5"}, page)  # fmt: skip
    assert made.status_code == 303, made.text
    [profile] = profiles(node)
    assert profile.active and profile.origin == "TH" and profile.hs_prefix == "8517"
    listed = client.get(made.headers["location"]).text
    assert "The profile is in force" in listed and "value per kg at most 12.5" in listed
    again = post(client, page, {**good, "origin": "TH"}, page)
    assert again.status_code == 409 and 'href="#name"' in again.text and len(profiles(node)) == 1

    client.cookies.set(web.COOKIE, tokens["officer"])
    assert "phones-th" in client.get(page).text  # officials read the profiles
    refused = client.post(f"{page}/{profile.id}/expiry",
                          data={"csrf_token": web.csrf(tokens["officer"])})  # fmt: skip
    assert refused.status_code == 403 and profiles(node)[0].active

    client.cookies.set(web.COOKIE, tokens["supervisor"])
    gone = post(client, f"{page}/{profile.id}/expiry", {}, page)
    assert gone.status_code == 303 and not profiles(node)[0].active
    assert "expired" in client.get(gone.headers["location"]).text
    with node.transaction() as s:
        events = s.execute(
            select(AuditEvent.action, AuditEvent.actor).where(
                AuditEvent.entity_type == "risk_profile"
            ).order_by(AuditEvent.id)
        ).all()  # fmt: skip
        assert [tuple(e) for e in events] == [
            ("risk.profile_created", "super1"),
            ("risk.profile_expired", "super1"),
        ]
        assert s.scalar(select(func.count()).select_from(RiskProfile)) == 1  # kept on record
    missing = post(client, f"{page}/999/expiry", {})
    assert missing.status_code == 404


def test_refusals_are_in_vietnamese_for_a_vietnamese_reader(
    node: Node, client: TestClient, tokens: dict[str, str]
) -> None:
    client.cookies.set(web.COOKIE, tokens["supervisor"])
    client.cookies.set(i18n.COOKIE, "vi")
    page = "/risk/profiles"
    good = {"name": "phones-th", "lane": "yellow", "reason": "phones from TH undervalued"}
    none = post(client, page, good, page)
    assert none.status_code == 422 and "hồ sơ rủi ro cần ít nhất một tiêu chí" in none.text
    bad = post(client, page, {**good, "origin": "XX", "hs_prefix": "85a"}, page)
    assert "không phải là mã ISO 3166 alpha-2" in bad.text
    assert "phần đầu mã HS gồm 2 đến 8 chữ số" in bad.text
    lane = post(client, page, {**good, "lane": "purple", "origin": "TH"}, page)
    assert "luồng phải là một trong yellow, red, blue" in lane.text
    assert post(client, page, {**good, "origin": "TH"}, page).status_code == 303
    again = post(client, page, {**good, "origin": "TH"}, page)
    assert again.status_code == 409 and "đã có hồ sơ rủi ro tên" in again.text
    missing = post(client, f"{page}/999/expiry", {})
    assert missing.status_code == 404 and "không có hồ sơ rủi ro 999" in missing.text
    nothing = post(client, "/risk/models/rollback", {})  # no model is active: no button
    assert nothing.status_code == 409
    assert "chưa áp dụng mô hình rủi ro nào, nên không có gì để quay lại" in nothing.text


def test_an_analyst_reads_but_changes_nothing(node: Node, client: TestClient) -> None:
    with node.transaction() as s:
        token = auth.create_user(s, "analyst1", auth.Role.ANALYST, None)
    client.cookies.set(web.COOKIE, token)
    read = client.get("/risk/profiles")
    assert read.status_code == 200 and 'action="/risk/profiles"' not in read.text
    refused = client.post("/risk/profiles", data={"csrf_token": web.csrf(token), "name": "x"})
    assert refused.status_code == 403 and profiles(node) == []
