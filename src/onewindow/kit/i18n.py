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
from onewindow.kit.errors import Text

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
    """`text` in the current language (English if it has no translation). A kit.errors.Text
    is looked up by its template, then filled in with its values."""
    language = current()
    if language == DEFAULT:
        return str(text)
    if isinstance(text, Text):
        values = {k: gettext(v) if isinstance(v, Text) else v for k, v in text.values.items()}
        return catalogue(language).get(text.template, text.template).format(**values)
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


# Pydantic's messages for the schemas' checks, as kit.errors.from_validation makes them
# templates, marked for `make messages`.
VALIDATION = (
    N_("Field required"), N_("Extra inputs are not permitted"),
    N_("Input should be a valid string"), N_("Input should be a valid integer"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid number"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid decimal"), N_("Input should be a valid boolean"),
    N_("Input should be a valid boolean, unable to interpret input"),
    N_("Input should be a valid list"), N_("Input should be a valid dictionary"),
    N_("Input should be a valid dictionary or instance of {class_name}"),
    N_("Input should be a valid date"), N_("Input should be a valid date or datetime, {error}"),
    N_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    N_("Input should be a valid datetime, {error}"),
    N_("Input should be {expected}"), N_("Value error, {error}"),
    N_("String should have at least {min_length} character"),
    N_("String should have at least {min_length} characters"),
    N_("String should have at most {max_length} character"),
    N_("String should have at most {max_length} characters"),
    N_("String should match pattern '{pattern}'"),
    N_("Input should be greater than {gt}"), N_("Input should be greater than or equal to {ge}"),
    N_("Input should be less than {lt}"), N_("Input should be less than or equal to {le}"),
    N_("Decimal input should have no more than {max_digits} digits in total"),
    N_("Decimal input should have no more than {max_digits} digit in total"),
    N_("Decimal input should have no more than {decimal_places} decimal places"),
    N_("Decimal input should have no more than {decimal_places} decimal place"),
    N_("{field_type} should have at least {min_length} item after validation, not {actual_length}"),
    N_("{field_type} should have at least {min_length} items after validation, not {actual_length}"),  # noqa: E501
    N_("{field_type} should have at most {max_length} item after validation, not {actual_length}"),
    N_("{field_type} should have at most {max_length} items after validation, not {actual_length}"),
    N_("Invalid JSON: {error}"),
)  # fmt: skip


def number(value: Decimal | float | int, places: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=current(), decimal_quantization=True)


def moment(value: datetime) -> str:
    return value.strftime(_DATES[current()])
