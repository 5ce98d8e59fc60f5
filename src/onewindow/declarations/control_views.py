"""The customs officer's pages: the work queue (yellow and red declarations waiting for an
officer, oldest first, by office, with the clearance time running), and the actions on the
declaration page (`declarations/_control.html`): taking a declaration in hand, the document
check, inspection findings with corrected values, release, and deciding an amendment request.

Each action is the API's: the same schema validates the form and the same service function
runs, through `views.act`; a refused one shows the declaration again with the errors next to
their fields (422) and nothing changed. Several forms share the page, so each names its
fields under its own prefix (`inspection.note`, `check.note`).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from onewindow.declarations import service
from onewindow.declarations.lodging import Context
from onewindow.declarations.models import AmendmentRequest
from onewindow.declarations.schemas import (
    AmendmentDecision,
    DocumentCheck,
    InspectionFindings,
    Opening,
)
from onewindow.declarations.views import NUMBER, act
from onewindow.declarations.views import page as declaration_page
from onewindow.kit import auth, i18n, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.i18n import N_

router = APIRouter(include_in_schema=False)
CONTROL_LINKS = [web.Link(N_("Queue"), "/queue")]
QUEUE_SIZE = 50
REQUEST_ID = Path(ge=1, le=2**31 - 1)
# Correction rows: `inspection.corrections.<row>.<item|field|value>`.
_CORRECTION = re.compile(r"^inspection\.corrections\.(\d+)\.(.+)$")
MORE_ROWS = 3  # rows the "more rows" button adds, without JavaScript
MAX_ROWS = 99
# The time waited, as officers say it ("2 d 1 h 5 min"), in the page's language.
DAYS, HOURS, MINUTES = N_("%(n)s d"), N_("%(n)s h"), N_("%(n)s min")
# Words the control sections show from data: results, corrected fields, ledger entries.
SHOWN = (
    N_("accept"), N_("inspect"), N_("compliant"), N_("irregularity"), N_("hs code"),
    N_("origin"), N_("quantity"), N_("customs value"), N_("net mass kg"), N_("status change"),
    N_("issued"), N_("revoked"),
)  # fmt: skip


# ---- the queue ----


@router.get("/queue")
def queue(
    request: Request,
    user: web.PageUser,
    office: str | None = Query(None, max_length=5),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    office = office or None  # the select's "all offices" sends an empty value
    node = node_of(request)
    with node.transaction() as session:
        offices = service.queue_offices(session, user)
        found = service.queue(
            session,
            user,
            now=node.clock.now(),
            office=office,
            limit=QUEUE_SIZE + 1,
            offset=(page - 1) * QUEUE_SIZE,
        )
    values = {
        "entries": [(e, e.waiting_seconds) for e in found[:QUEUE_SIZE]],
        "waited": waited,  # called as the page is drawn, in its language
        "offices": offices,
        "office": office,
        "page": page,
        "more": len(found) > QUEUE_SIZE,
        "first": (page - 1) * QUEUE_SIZE,
    }
    return web.render(request, "declarations/queue.html", values, user=user)


def waited(seconds: float) -> str:
    """The time a declaration has waited, as officers say it: "3 h 12 min", "2 d 1 h 5 min"."""
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(DAYS, days)] if days else []
    if days or hours:
        parts.append((HOURS, hours))
    parts.append((MINUTES, minutes))
    return " ".join(i18n.gettext(unit) % {"n": n} for unit, n in parts)


# ---- the actions on a declaration ----


@router.post("/declarations/{number}/opening")
def opening(request: Request, user: web.PageUser, form: web.Form, number: str = NUMBER) -> Response:
    return act(request, user, number, form, Opening, service.open_control, "opened",
               prefix="opening")  # fmt: skip


@router.post("/declarations/{number}/document-check")
def document_check(
    request: Request, user: web.PageUser, form: web.Form, number: str = NUMBER
) -> Response:
    return act(request, user, number, form, DocumentCheck, service.document_check, "checked",
               prefix="check")  # fmt: skip


@router.post("/declarations/{number}/inspection")
def inspection(
    request: Request, user: web.PageUser, form: web.Form, number: str = NUMBER
) -> Response:
    """The findings; or, with the "more rows" button, the page again with more blank
    correction rows and what was typed kept (nothing recorded)."""
    rows = form.pop("inspection.rows", "")
    more = form.pop("action", "") == "more"
    fields = compacted(form)
    if more:
        shown = min(int(rows) if rows.isdigit() else 0, MAX_ROWS)
        grown = {"inspection.rows": str(min(shown + MORE_ROWS, MAX_ROWS))}
        return declaration_page(request, user, number, values=fields | grown)
    return act(request, user, number, fields, InspectionFindings, service.record_inspection,
               "inspected", prefix="inspection")  # fmt: skip


def compacted(form: dict[str, str]) -> dict[str, str]:
    """The form with its blank correction rows left out and the others numbered from 0, so
    that the API's error paths (`corrections.0.value`) name the rows as shown again."""
    rows: dict[int, dict[str, str]] = {}
    out: dict[str, str] = {}
    for name, value in form.items():
        found = _CORRECTION.match(name)
        if found is None:
            out[name] = value
        else:
            rows.setdefault(int(found.group(1)), {})[found.group(2)] = value
    filled = [row for _, row in sorted(rows.items()) if any(v.strip() for v in row.values())]
    for n, row in enumerate(filled):
        out |= {f"inspection.corrections.{n}.{key}": value for key, value in row.items()}
    return out


@router.post("/declarations/{number}/release")
def release(request: Request, user: web.PageUser, form: web.Form, number: str = NUMBER) -> Response:
    return act(request, user, number, form, None, service.release, "released")


@router.post("/declarations/{number}/amendment-requests/{request_id}/decision")
def decide_amendment(
    request: Request,
    user: web.PageUser,
    form: web.Form,
    number: str = NUMBER,
    request_id: int = REQUEST_ID,
) -> Response:
    def run(
        session: Session, actor: auth.Principal, number: str, data: AmendmentDecision, ctx: Context
    ) -> AmendmentRequest:
        return service.decide_amendment(session, actor, number, request_id, data, ctx)

    return act(request, user, number, form, AmendmentDecision, run, "decided",
               prefix="amendment")  # fmt: skip
