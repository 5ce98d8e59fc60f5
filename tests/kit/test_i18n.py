"""The portals in Vietnamese: the switch, the catalogues complete for every text marked in the
translated packages, and numbers and dates written as the language writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError

from onewindow.app import create_app
from onewindow.kit import auth, i18n, web
from onewindow.kit.errors import Text, from_validation
from onewindow.kit.node import Node

SRC = Path(__file__).resolve().parents[2] / "src" / "onewindow"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def marked(package: Path) -> set[str]:
    keywords = {"_": None, "N_": None, "Text": None}
    return {m[2] for m in extract_from_dir(str(package), METHODS, keywords) if m[2]}


@pytest.mark.parametrize("po", sorted(SRC.glob("*/locale/vi.po")), ids=lambda p: p.parts[-3])
def test_every_marked_text_has_a_vietnamese_translation(po: Path) -> None:
    with po.open("rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string and not m.fuzzy}
    missing = marked(po.parents[1]) - translated
    assert not missing, f"run `make messages` and translate in {po}: {sorted(missing)}"


def test_numbers_and_dates_follow_the_language() -> None:
    moment = datetime(2026, 11, 20, 8, 5, tzinfo=UTC)
    i18n.use("vi")
    try:
        assert web.money(Decimal("52700000"), "VND") == "52.700.000 VND"
        assert web.money(Decimal("1234.5"), "USD") == "1.234,50 USD"
        assert web.when(moment) == "20/11/2026 08:05 UTC"
        assert i18n.gettext("Sign in") == "Đăng nhập"
    finally:
        i18n.use("en")
    assert web.money(Decimal("52700000"), "VND") == "52,700,000 VND"
    assert web.when(moment) == "2026-11-20 08:05 UTC"
    assert i18n.gettext("Sign in") == "Sign in"


def test_the_switch_keeps_the_choice_and_goes_back(node: Node) -> None:
    client = TestClient(create_app(node), raise_server_exceptions=False)
    assert "<h1>Sign in</h1>" in client.get("/sign-in").text
    switched = client.get("/language/vi?next=/sign-in", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/sign-in"
    page = client.get("/sign-in").text
    assert '<html lang="vi">' in page and "<h1>Đăng nhập</h1>" in page
    assert 'href="/language/en?next=/sign-in"' in page  # the way back
    missing = client.get("/language/xx")  # an error page speaks the language too
    assert missing.status_code == 404 and "<h1>Không tìm thấy</h1>" in missing.text
    away = client.get("/language/en?next=https://evil.example/", follow_redirects=False)
    assert away.headers["location"] == "/"


def test_the_browser_language_is_the_default(node: Node) -> None:
    with node.transaction() as s:
        token = auth.create_user(s, "saigon", auth.Role.TRADER, "0101234567")
    client = TestClient(create_app(node), raise_server_exceptions=False)
    client.cookies.set(web.COOKIE, token)
    page = client.get("/declarations", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert "<h1>Tờ khai</h1>" in page.text and "Đăng xuất" in page.text
    english = client.get("/declarations", headers={"Accept-Language": "fr-FR,en;q=0.5"})
    assert "<h1>Declarations</h1>" in english.text


def test_an_error_message_is_english_for_the_api_and_translated_on_a_page() -> None:
    class Form(BaseModel):
        name: str = Field(max_length=5)

    message = Text("at most {days} days at a time", days=366)
    assert message == "at most 366 days at a time"  # the API, the logs and the CLI
    with pytest.raises(ValidationError) as caught:
        Form(name="Saigon Port")
    (error,) = from_validation(caught.value.errors())
    assert error.message == "String should have at most 5 characters"  # pydantic's own
    i18n.use("vi")
    try:
        assert i18n.gettext(error.message) == "Chỉ được có tối đa 5 ký tự"
        untranslated = Text("no such {thing}", thing="port")
        assert i18n.gettext(untranslated) == "no such port"  # English when not in a catalogue
    finally:
        i18n.use("en")
