"""The control rules hold on the command line too (`--as`): the CLI goes through the service."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from onewindow.cli.main import app
from onewindow.exchange.service import sync_partners
from onewindow.kit import auth
from onewindow.kit.config import PartnerConfig, get_settings
from onewindow.kit.node import Node
from onewindow.risk import create_profile

runner = CliRunner()
Doc = Callable[..., dict[str, Any]]


@pytest.fixture
def cli(node: Node, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """The real `onewindow` command line on the test node's database, with its users."""
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", node.settings.database_url)
    monkeypatch.setenv("ONEWINDOW_RANDOM_SHARE", "0")
    get_settings.cache_clear()
    with node.transaction() as s:
        auth.create_user(s, "saigon", auth.Role.TRADER, "0101234567")
        auth.create_user(s, "officer1", auth.Role.OFFICER, None)
        auth.create_user(s, "moc", auth.Role.ISSUING_AUTHORITY, None)
        create_profile(s, name="phones", lane="yellow", hs_prefix="8517", reason="phones")
        sync_partners(
            s, {"SG": PartnerConfig(endpoint="http://127.0.0.1/SG")}, now=node.clock.now()
        )

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args))

    yield run
    get_settings.cache_clear()


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_a_trader_cannot_cancel_an_acdd(cli: Callable[..., Any], doc: Doc, tmp_path: Path) -> None:
    export = doc(
        type="EX",
        country_of_export="VN",
        country_of_destination="SG",
        exporter={"id": "0101234567", "name": "Saigon Logistics JSC", "country": "VN"},
        importer={"name": "Lion Retail", "address": "1 Orchard Rd", "country": "SG"},
        transport={"mode": "1", "departure_date": "2026-11-10", "port_of_discharge": "SGSIN"},
    )
    del export["items"][0]["preference"]
    export["items"][0] |= {"hs_code": "84713020", "description": "Laptops"}  # green: released
    lodged = cli("declaration", "submit", write(tmp_path, "ex.json", export), "--json")
    assert lodged.exit_code == 0, lodged.output
    number = json.loads(lodged.stdout)["number"]
    assert json.loads(lodged.stdout)["status"] == "released"
    refused = cli("declaration", "acdd-cancel", number, "--as", "saigon", "--reason", "x")
    assert refused.exit_code == 2
    assert "forbidden" in refused.stderr and "officer" in refused.stderr
    done = cli("declaration", "acdd-cancel", number, "--as", "officer1", "--reason", "split")
    assert done.exit_code == 0, done.output
    assert "queued to SG" in done.stdout


def test_amendment_request_commands(cli: Callable[..., Any], doc: Doc, tmp_path: Path) -> None:
    lodged = cli("declaration", "submit", write(tmp_path, "d.json", doc()), "--as", "saigon")
    assert lodged.exit_code == 0, lodged.output
    assert "next step:" in lodged.stdout and "risk:" not in lodged.stdout
    number = json.loads(cli("declaration", "list", "--json", "--as", "saigon").stdout)[0]["number"]
    shown = cli("declaration", "show", number, "--json", "--as", "saigon")
    assert json.loads(shown.stdout)["risk"] is None
    full = cli("declaration", "show", number, "--json", "--as", "officer1")
    assert "profile phones: phones" in json.loads(full.stdout)["risk"]["reasons"]

    opened = cli("declaration", "open", number, "--as", "officer1", "--note", "in hand")
    assert opened.exit_code == 0, opened.output
    changed = doc()
    changed["items"][0]["description"] = "Smartphones, 64 GB"
    amended = cli(
        "declaration", "amend", number, write(tmp_path, "a.json", changed), "--as", "saigon"
    )
    assert amended.exit_code == 2 and "officer_acted" in amended.stderr

    asked = cli(
        "declaration",
        "request-amendment",
        number,
        write(tmp_path, "a.json", changed),
        "--reason",
        "memory size",
        "--as",
        "saigon",
        "--json",
    )
    assert asked.exit_code == 0, asked.output
    request_id = json.loads(asked.stdout)["id"]
    listed = cli("declaration", "amendment-requests", number, "--as", "saigon", "--json")
    assert [r["status"] for r in json.loads(listed.stdout)] == ["pending"]
    by_trader = cli(
        "declaration", "decide-amendment", number, str(request_id), "accept", "--as", "saigon"
    )
    assert by_trader.exit_code == 2 and "forbidden" in by_trader.stderr
    decided = cli(
        "declaration",
        "decide-amendment",
        number,
        str(request_id),
        "accept",
        "--note",
        "fine",
        "--as",
        "officer1",
    )
    assert decided.exit_code == 0, decided.output
    assert "accepted" in decided.stdout
    after = json.loads(cli("declaration", "show", number, "--json", "--as", "saigon").stdout)
    assert after["items"][0]["description"] == "Smartphones, 64 GB" and after["version"] == 2


def test_the_issuing_authority_is_refused_on_the_command_line(
    cli: Callable[..., Any], doc: Doc, tmp_path: Path
) -> None:
    path = write(tmp_path, "d.json", doc())
    submitted = cli("declaration", "submit", path, "--as", "moc")
    assert submitted.exit_code == 2 and "forbidden" in submitted.stderr
    number = json.loads(cli("declaration", "submit", path, "--json").stdout)["number"]
    for args in (
        ("show", number),
        ("history", number),
        ("list",),
        ("amendment-requests", number),
        ("clearance",),
    ):
        result = cli("declaration", *args, "--as", "moc")
        assert result.exit_code == 2, (args, result.output)
        assert "forbidden" in result.stderr
