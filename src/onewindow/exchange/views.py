"""Exchange in the portals: messages with the partner nodes, counted by partner, document
type, direction and status; the list, filtered in the address; failed ones queued again.

What GET /api/v1/exchange/{stats,messages} and `onewindow exchange` show; retrying is
`service.retry`, as `onewindow exchange retry` does it (audited under the user's name).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from onewindow.exchange import repository, service
from onewindow.exchange.models import IN_STATUSES, OUT_STATUSES
from onewindow.exchange.schemas import MessageFilter, MessageRead, StatsRead
from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import FieldError, InvalidInput
from onewindow.kit.i18n import N_

router = APIRouter(include_in_schema=False)
LINKS = [web.Link(N_("Messages"), "/exchange/messages")]
PAGE_SIZE = 50
STATUSES = tuple(dict.fromkeys(OUT_STATUSES + IN_STATUSES))
FILTERS = ("partner", "status", "direction")
MESSAGE_ID = Path(min_length=1, max_length=36)
DONE = {
    "retried": N_("The message is queued again: it is sealed anew and sent with the next round.")
}
# Words the page shows from data (statuses, filters), marked for `make messages`.
SHOWN = (
    N_("queued"), N_("sent"), N_("delivered"), N_("processed"), N_("rejected"), N_("failed"),
    N_("received"), N_("superseded"), N_("partner"), N_("status"), N_("direction"),
)  # fmt: skip


@router.get("/exchange/messages")
def messages(
    request: Request,
    user: web.PageUser,
    partner: str | None = Query(None, max_length=20),
    status: str | None = Query(None, max_length=20),
    direction: str | None = Query(None, max_length=20),
    page: int = Query(1, ge=1, le=10_000),
    done: str | None = Query(None, max_length=20),
) -> Response:
    asked = {"partner": partner, "status": status, "direction": direction}
    filters = web.validated(MessageFilter, {k: v for k, v in asked.items() if v})
    return _page(request, user, filters, page, banner=DONE.get(done or ""))


def _page(
    request: Request,
    user: auth.Principal,
    filters: MessageFilter,
    page: int = 1,
    *,
    errors: Mapping[str, FieldError] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        stats = StatsRead.of(repository.stats(session))
        partners = [p.country for p in repository.partners(session)]
        rows = repository.messages(
            session, **filters.model_dump(), limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
    found = [MessageRead.of(r) for r in rows]
    chosen = filters.model_dump(exclude_none=True)
    context = {
        "stats": stats,
        "partners": sorted(set(partners) | {c.partner for c in stats.counts}),
        "statuses": STATUSES,
        "filters": chosen,
        "messages": found[:PAGE_SIZE],
        "page": page,
        "more": len(found) > PAGE_SIZE,
        "query": urlencode(chosen),
        "may_retry": web.may(user, "POST", "/exchange/messages/{message_id}/retry"),
        "errors": errors or {},
        "banner": banner,
    }
    return web.render(request, "exchange/messages.html", context, status=status, user=user)


@router.post("/exchange/messages/{message_id}/retry")
def retry(
    request: Request, user: web.PageUser, form: web.Form, message_id: str = MESSAGE_ID
) -> Response:
    """Queue a failed outgoing message again; back to the list as it was filtered."""
    node = node_of(request)
    try:  # the list's filters, to go back to; ones that do not hold are dropped
        back = web.validated(MessageFilter, {k: form[k] for k in FILTERS if form.get(k)})
    except InvalidInput:
        back = MessageFilter()
    try:
        with node.transaction() as session:
            service.retry(session, [message_id], now=node.clock.now(), by=user.name)
    except InvalidInput as exc:
        return _page(request, user, back, errors=web.errors_by_field(exc), status=422)
    query = urlencode(back.model_dump(exclude_none=True) | {"done": "retried"})
    return web.redirect(f"/exchange/messages?{query}")
