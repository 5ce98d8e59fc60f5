"""The declaration lifecycle as data: which action may happen in which status, by whom.

registered ─(channel)─► green ──────────────► awaiting_payment ─(pay)─► paid ─(release)─► released
                        yellow ► document_check ─(accept)─┘ ▲
                                     └─(inspect)─► inspection ─(findings)─┘
Any status before `paid` may be amended (taxes reassessed) or cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from onewindow.auth import Role
from onewindow.errors import InvalidTransition

REGISTERED = "registered"
DOCUMENT_CHECK = "document_check"
INSPECTION = "inspection"
AWAITING_PAYMENT = "awaiting_payment"
PAID = "paid"
RELEASED = "released"
CANCELLED = "cancelled"

BEFORE_PAYMENT = frozenset({REGISTERED, DOCUMENT_CHECK, INSPECTION, AWAITING_PAYMENT})
OFFICIALS = (Role.OFFICER, Role.SUPERVISOR, Role.ADMINISTRATOR)
ANYONE = (Role.TRADER, *OFFICIALS)


@dataclass(frozen=True)
class Action:
    name: str
    allowed_from: frozenset[str]
    roles: tuple[Role, ...]


ACTIONS = {
    a.name: a
    for a in (
        Action("document_check", frozenset({DOCUMENT_CHECK}), OFFICIALS),
        Action("inspection", frozenset({INSPECTION}), OFFICIALS),
        Action("pay", frozenset({AWAITING_PAYMENT}), ANYONE),
        Action("release", frozenset({PAID}), OFFICIALS),
        Action("amend", BEFORE_PAYMENT, ANYONE),
        Action("cancel", BEFORE_PAYMENT, ANYONE),
    )
}


_LANE_STATUS = {"yellow": DOCUMENT_CHECK, "red": INSPECTION}


def lane_status(channel: str) -> str:
    """Where a newly assessed declaration goes for its channel."""
    return _LANE_STATUS.get(channel, AWAITING_PAYMENT)


def check(action: str, status: str) -> Action:
    spec = ACTIONS[action]
    if status not in spec.allowed_from:
        allowed = ", ".join(sorted(spec.allowed_from))
        raise InvalidTransition(
            f"cannot {action.replace('_', ' ')} a declaration that is {status}; "
            f"allowed when: {allowed}",
            current_status=status,
            action=action,
        )
    return spec
