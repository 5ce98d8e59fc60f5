"""The one error hierarchy of OneWindow. Each error has a stable `code` and an HTTP status.

OneWindowError
├── InvalidInput (422)        one or more FieldError, each with a path, code and message
├── NotAuthenticated (401)
├── Forbidden (403)
├── NotFound (404)
├── Conflict (409)
│   ├── InvalidTransition     an action not allowed in the current status
│   └── OfficerActed          a trader's change after an officer took the declaration in hand
├── PayloadTooLarge (413)
├── LedgerDamaged (503)       the ledger's stored log fails its self-check: nothing is signed
└── ConfigurationError (500)  the node is set up wrongly; never caused by a request
    └── InvalidSetting        a setting (ONEWINDOW_* or the config file) has a value not allowed
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


class Text(str):
    """A message in English that keeps its template and values, so that a page can show it in
    the reader's language: `Text("at most {days} days at a time", days=366)` is the string
    "at most 366 days at a time" everywhere (the API, logs, the CLI), and a page looks the
    template up in the catalogues (`make messages` finds it) and fills in the same values."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Text:
        text = super().__new__(cls, template.format(**values) if values else template)
        text.template, text.values = template, values
        return text


@dataclass(frozen=True)
class FieldError:
    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": str(self.message)}


class OneWindowError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:onewindow:error:{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class InvalidInput(OneWindowError):
    code = "invalid_input"
    status = 422
    title = "The input is not valid"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = errors
        summary = detail or "; ".join(f"{e.path}: {e.message}" for e in errors[:5])
        if len(errors) > 5:
            summary += f"; and {len(errors) - 5} more"
        super().__init__(summary)

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body["errors"] = [e.as_dict() for e in self.errors]
        return body


def invalid(path: str, code: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError(path, code, message)])


# What the patterns of the schemas mean, so that an error tells people the rule, not a regex.
_PATTERNS: dict[str, tuple[str, str]] = {}


def pattern(regex: str, message: str, code: str = "string_pattern_mismatch") -> str:
    """Register the meaning of a schema pattern; returns the pattern for the schema to use."""
    _PATTERNS[regex] = (code, message)
    return regex


def from_validation(errors: Sequence[Mapping[str, Any]], skip: str = "") -> list[FieldError]:
    """Pydantic's errors as field errors: a dotted path (without a leading `skip` part such as
    `body`), a stable code, and the registered meaning of a pattern instead of the regex."""
    out = []
    for e in errors:
        loc = [str(p) for p in e["loc"]]
        if loc and loc[0] == skip:
            loc = loc[1:]
        code, message = e["type"], _text(e["msg"], e.get("ctx") or {})
        if code == "string_pattern_mismatch":
            code, message = _PATTERNS.get(e.get("ctx", {}).get("pattern", ""), (code, message))
        out.append(FieldError(".".join(loc) or "body", code, message))
    return out


def _text(message: str, context: Mapping[str, Any]) -> str:
    """Pydantic's message as a Text whose template has its context's values taken out
    ("String should have at most {max_length} characters"), so pages can translate it; a
    validator's ValueError(Text(...)) stays a Text inside it. As it was if that fails."""
    template = message.replace("{", "{{").replace("}", "}}")
    values: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, Exception) and value.args and isinstance(value.args[0], Text):
            value = value.args[0]
        shown = str(value)
        if shown and shown in template and "{" not in shown and "}" not in shown:
            template = template.replace(shown, "{" + key + "}", 1)
            values[key] = value
    try:
        text = Text(template, **values)
    except (KeyError, IndexError, ValueError):
        return message
    return text if text == message else message


class NotAuthenticated(OneWindowError):
    code = "not_authenticated"
    status = 401
    title = "Authentication required"


class Forbidden(OneWindowError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class NotFound(OneWindowError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(OneWindowError):
    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Action not allowed in the current status"


class OfficerActed(Conflict):
    code = "officer_acted"
    title = "An officer has acted on this declaration"


class PayloadTooLarge(OneWindowError):
    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class PartnerError(OneWindowError):
    code = "partner_error"
    status = 502
    title = "A partner node did not give a usable answer"


class PartnerUnreachable(PartnerError):
    code = "partner_unreachable"


class PartnerRefused(PartnerError):
    code = "partner_refused"


class PartnerAnswerMalformed(PartnerError):
    code = "partner_answer_malformed"


class LedgerDamaged(OneWindowError):
    """The stored log no longer matches itself or its signed heads (rows altered or deleted
    outside OneWindow): a fault of this node, which signs nothing over it until repaired."""

    code = "ledger_damaged"
    status = 503
    title = "The ledger failed its self-check"


class ConfigurationError(OneWindowError):
    code = "configuration_error"
    status = 500
    title = "Node configuration error"


class InvalidSetting(ConfigurationError):
    """A setting's value is not allowed: the CLI prints one line naming it and exits 2."""

    code = "invalid_setting"
