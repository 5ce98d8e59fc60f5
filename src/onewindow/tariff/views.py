"""The tariff in the portals: the HS code look-up that declaration forms use as you type."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from onewindow.kit import web
from onewindow.kit.api_deps import node_of
from onewindow.kit.i18n import N_
from onewindow.tariff import service

router = APIRouter(include_in_schema=False)
LINKS = [web.Link(N_("Tariff"), "/tariff/lookup")]


@router.get("/tariff/lookup")
def lookup(request: Request, user: web.PageUser, q: str = Query("", max_length=100)) -> Response:
    """The lines in force today that match `q`, as <option>s for a datalist (or, without
    JavaScript, a page of them)."""
    node = node_of(request)
    found = []
    if q.strip():
        with node.transaction() as session:
            found = service.look_up(session, q.strip(), node.clock.now().date())
    fragment = request.headers.get("x-requested-with") == "fetch"
    name = "tariff/options.html" if fragment else "tariff/lookup.html"
    return web.render(request, name, {"q": q, "lines": found}, user=user)
