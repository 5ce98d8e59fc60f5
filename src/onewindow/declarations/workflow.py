"""The declaration lifecycle as data: which action may happen in which status, by whom.

registered ─(channel)─► green ──────────────► awaiting_payment ─(pay)─► paid ─(release)─► released
                        yellow ► document_check ─(accept)─┘ ▲
                                     └─(inspect)─► inspection ─(findings)─┘
Any status before `paid` may be amended (taxes reassessed, risk assessed again) or cancelled;
once an officer has acted on a declaration its trader may only ask for an amendment.
"""

from __future__ import annotations

from dataclasses import dataclass

from onewindow.kit.auth import Role
from onewindow.kit.errors import InvalidTransition, Text
from onewindow.kit.i18n import N_

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
    doing: Text  # what the action does to a declaration, for messages: "cannot <doing> a ..."


ACTIONS = {
    a.name: a
    for a in (
        Action("open", frozenset({DOCUMENT_CHECK, INSPECTION}), OFFICIALS, Text("take in hand")),
        Action(
            "document_check",
            frozenset({DOCUMENT_CHECK}),
            OFFICIALS,
            Text("decide the document check of"),
        ),
        Action(
            "inspection", frozenset({INSPECTION}), OFFICIALS, Text("record inspection findings on")
        ),
        Action("pay", frozenset({AWAITING_PAYMENT}), ANYONE, Text("pay for")),
        Action("release", frozenset({PAID}), OFFICIALS, Text("release")),
        Action("amend", BEFORE_PAYMENT, ANYONE, Text("amend")),
        Action("cancel", BEFORE_PAYMENT, ANYONE, Text("cancel")),
        Action("request_amendment", BEFORE_PAYMENT, ANYONE, Text("request an amendment of")),
        Action(
            "decide_amendment", BEFORE_PAYMENT, OFFICIALS, Text("decide an amendment request on")
        ),
    )
}


_LANE_STATUS = {"yellow": DOCUMENT_CHECK, "red": INSPECTION}

# What a trader does next, by status: the lane is theirs to know, the reasons are not.
NEXT_STEP = {
    REGISTERED: N_("Wait for the channel to be assigned."),
    DOCUMENT_CHECK: N_(
        "Customs checks the documents: keep the supporting documents ready and "
        "wait for the officer's decision."
    ),
    INSPECTION: N_("Present the goods for physical inspection at the customs office."),
    AWAITING_PAYMENT: N_("Pay the amount due (or lodge a guarantee covering it)."),
    PAID: N_("Wait for an officer to release the goods."),
    RELEASED: N_("Nothing: the goods are released."),
    CANCELLED: N_("Nothing: the declaration is cancelled."),
}


def lane_status(channel: str) -> str:
    """Where a newly assessed declaration goes for its channel."""
    return _LANE_STATUS.get(channel, AWAITING_PAYMENT)


def next_step(status: str) -> str:
    return NEXT_STEP.get(status, N_("Ask the customs office."))


def check(action: str, status: str) -> Action:
    spec = ACTIONS[action]
    if status not in spec.allowed_from:
        allowed = " or ".join(sorted(spec.allowed_from))
        raise InvalidTransition(
            Text(
                "cannot {doing} a declaration that is {status}; allowed when it is {allowed}",
                doing=spec.doing,
                status=status,
                allowed=allowed,
            ),
            current_status=status,
            action=action,
        )
    return spec
