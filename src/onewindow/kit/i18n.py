"""The portals' languages: English, in which the pages are written, and Vietnamese.

Each package with pages keeps its translations in `locale/<language>.po` (the kit's own and
each installed domain's), read with Babel when first needed; `make messages` extracts the
texts marked `_("...")` in templates and Python into them. A text without a translation is
shown in English. Numbers and amounts follow the language's conventions (52,700,000 VND in
English, 52.700.000 VND in Vietnamese), and so do dates.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from onewindow.kit import domain

LANGUAGES = {"en": "English", "vi": "Tiếng Việt"}
DEFAULT = "en"
COOKIE = "ow_lang"
_DATES = {"en": "%Y-%m-%d %H:%M UTC", "vi": "%d/%m/%Y %H:%M UTC"}
_current: ContextVar[str] = ContextVar("language", default=DEFAULT)
_catalogues: dict[tuple[str, tuple[int, ...]], dict[str, str]] = {}


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language a person chose (the cookie), else the first their browser asks for that
    the portals speak, else English."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def use(language: str) -> None:
    """Render what follows in `language` (the pages set it per request)."""
    _current.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


def _folders() -> list[Path]:
    folders = [Path(__file__).parent / "locale"]
    for each in domain.installed():
        folders.append(Path(str(resources.files(each.package))) / "locale")
    return folders


def catalogue(language: str) -> dict[str, str]:
    """Every installed package's translations into `language`, merged; fuzzy ones left out."""
    key = (language, tuple(id(each) for each in domain.installed()))
    found = _catalogues.get(key)
    if found is None:
        found = {}
        for folder in _folders():
            path = folder / f"{language}.po"
            if path.is_file():
                with path.open("rb") as f:
                    for message in read_po(f):
                        if message.id and message.string and not message.fuzzy:
                            found[str(message.id)] = str(message.string)
        _catalogues[key] = found
    return found


def gettext(text: str) -> str:
    """`text` in the current language (English if it has no translation)."""
    language = current()
    if language == DEFAULT:
        return text
    return catalogue(language).get(text, text)


def N_(text: str) -> str:
    """Marks a text to translate where it is shown, not where it is defined."""
    return text


# The roles' names as the header shows them, marked for `make messages`.
ROLES = (
    N_("trader"), N_("officer"), N_("supervisor"), N_("administrator"),
    N_("issuing authority"), N_("analyst"),
)  # fmt: skip


# The titles of kit.errors, which error pages show, marked for `make messages`.
ERROR_TITLES = (
    N_("The input is not valid"), N_("Authentication required"), N_("Not allowed"),
    N_("Not found"), N_("Conflict with the current state"),
    N_("Action not allowed in the current status"), N_("An officer has acted on this declaration"),
    N_("Payload too large"), N_("A partner node did not give a usable answer"),
    N_("The ledger failed its self-check"), N_("Node configuration error"),
)  # fmt: skip


def number(value: Decimal | float | int, places: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=current(), decimal_quantization=True)


def moment(value: datetime) -> str:
    return value.strftime(_DATES[current()])
