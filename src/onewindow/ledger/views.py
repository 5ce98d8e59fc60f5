"""The ledger in the portals: this node's tree head and self-check, the partners it witnesses
(the last head it cosigned, when it last saw one, their status) and the alarms witnessing
raised, with their acknowledgement.

What GET /api/v1/ledger/{witnesses,alarms} and `onewindow ledger` show; acknowledging is
`alarms.acknowledge`, as POST /api/v1/ledger/witnesses/{country}/acknowledgement does it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.kit.i18n import N_
from onewindow.ledger import alarms, selfcheck, service, witness
from onewindow.ledger.schemas import AlarmRead, LedgerHealth, PartnerAcknowledgement
from onewindow.ledger.tasks import damage_recorded

router = APIRouter(include_in_schema=False)
LINKS = [web.Link(N_("Ledger"), "/ledger")]
DONE = {"acknowledged": N_("The partner's open alarms are acknowledged, with your note.")}
# Words the page shows from data (the self-check's status and scope), marked for `make messages`.
SHOWN = (
    N_("ok"), N_("failed"), N_("unchecked"), N_("unknown"), N_("full"), N_("tail"),
    N_("serving"), N_("signing"),
)  # fmt: skip


@router.get("/ledger")
def ledger(
    request: Request, user: web.PageUser, done: str | None = Query(None, max_length=20)
) -> Response:
    return _page(request, user, banner=DONE.get(done or ""))


def _page(
    request: Request,
    user: auth.Principal,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, FieldError] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    endpoints = {country: p.endpoint for country, p in node.settings.partners.items()}
    with damage_recorded(node) as session:
        head = service.head(session)
        signed = service.latest_signed_head(session)
        health = LedgerHealth.of(selfcheck.latest(session))
        witnesses = [witness.to_read(s) for s in witness.witness_status(session, endpoints)]
        found = [AlarmRead.of(row) for row in alarms.list_alarms(session)]
    context = {
        "country": node.settings.country,
        "head": head,
        "signed": signed,
        "health": health,
        "witnesses": witnesses,
        "alarms": found,
        "open_partners": [(w.partner, w.partner) for w in witnesses if w.open_alarms],
        "may_acknowledge": web.may(user, "POST", "/ledger/acknowledgement"),
        "values": values or {},
        "errors": errors or {},
        "banner": banner,
    }
    return web.render(request, "ledger/ledger.html", context, status=status, user=user)


@router.post("/ledger/acknowledgement")
def acknowledge(request: Request, user: web.PageUser, form: web.Form) -> Response:
    """Acknowledge a partner's open alarms with a note; they stay on record."""
    node = node_of(request)
    try:
        body = web.validated(PartnerAcknowledgement, web.nested(form))
        with node.transaction() as session:
            alarms.acknowledge(session, user, body.partner, body.note, node.clock.now())
    except InvalidInput as exc:
        return _page(request, user, values=form, errors=web.errors_by_field(exc), status=422)
    return web.redirect("/ledger?done=acknowledged")
