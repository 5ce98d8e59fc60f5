"""Transit's registers in the portals: the guarantees (an official registers one; its holder
reads it, with what each movement holds on it) and the traders registered for ACTS with their
authorisations (officials register and change them; a trader reads its own).

Its routes come before the movements' (`/transit/{mrn}`), which would otherwise take
`/transit/traders` for an MRN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import FieldError, InvalidInput, Text
from onewindow.kit.fields import PARTY_ID
from onewindow.transit import service, traders
from onewindow.transit.context import context
from onewindow.transit.schemas import GuaranteeCreate, TraderRead, TraderWrite
from onewindow.transit.views import DONE, DONE_QUERY, GRN

router = APIRouter(include_in_schema=False)


# ---- guarantees ----


@router.get("/transit/guarantees/new")
def new_guarantee(request: Request, user: web.PageUser) -> Response:
    fields = {"kind": "comprehensive", "currency": node_of(request).settings.currency}
    return _guarantee_form(request, user, fields)


@router.post("/transit/guarantees/new")
def guarantee_posted(request: Request, user: web.PageUser, form: web.Form) -> Response:
    node = node_of(request)
    try:
        data = web.validated(GuaranteeCreate, web.nested(form))
        with node.transaction() as session:
            grn = service.register_guarantee(session, user, data, context(node)).grn
    except InvalidInput as exc:
        return _guarantee_form(request, user, form, errors=web.errors_by_field(exc), status=422)
    return web.redirect(f"/transit/guarantees/{grn}?done=registered")


def _guarantee_form(
    request: Request,
    user: auth.Principal,
    fields: Mapping[str, str],
    *,
    errors: Mapping[str, FieldError] | None = None,
    status: int = 200,
) -> Response:
    values = {"fields": fields, "errors": errors or {}}
    return web.render(request, "transit/guarantee_form.html", values, status=status, user=user)


@router.get("/transit/guarantees/{grn}")
def guarantee(
    request: Request, user: web.PageUser, grn: str = GRN, done: str | None = DONE_QUERY
) -> Response:
    """A guarantee with what is left of it and what each movement holds or held on it: its
    holder's, or any for an official (the exposure per country for officials only)."""
    node = node_of(request)
    with node.transaction() as session:
        found = service.guarantee(session, user, grn)
        values = {
            "guarantee": service.read_guarantee(session, found),
            "reservations": service.reservations(session, found),
            "official": user.role in auth.OFFICIALS,
            "banner": DONE.get(done or ""),
        }
        return web.render(request, "transit/guarantee.html", values, user=user)


# ---- traders registered for ACTS ----

PARTY = Path(min_length=1, max_length=35, pattern=PARTY_ID)


@router.get("/transit/traders")
def trader_list(request: Request, user: web.PageUser, done: str | None = DONE_QUERY) -> Response:
    return _traders(request, user, {}, banner=DONE.get(done or ""))


@router.post("/transit/traders")
def trader_posted(request: Request, user: web.PageUser, form: web.Form) -> Response:
    """Register a trader or change its registration (the form of either page)."""
    node = node_of(request)
    party_id = form.get("party_id", "").strip()
    try:
        fields = {k: v for k, v in form.items() if k not in ("party_id", "premises")}
        document = web.nested(fields) | {"premises": _premises(form.get("premises", ""))}
        errors = [] if re.fullmatch(PARTY_ID, party_id) else [FieldError(
            "party_id", "format", Text("must be the trader's identification number, such as "
                                       "0105551234567"))]  # fmt: skip
        try:
            data = web.validated(TraderWrite, document)
        except InvalidInput as exc:
            raise InvalidInput(errors + [_on_premises(e) for e in exc.errors]) from None
        if errors:
            raise InvalidInput(errors)
        with node.transaction() as session:
            traders.register(session, user, party_id, data, node.clock)
    except InvalidInput as exc:
        return _traders(request, user, form, errors=web.errors_by_field(exc), status=422)
    return web.redirect(f"/transit/traders/{party_id}?done=trader")


@router.get("/transit/traders/{party_id}")
def trader_page(
    request: Request, user: web.PageUser, party_id: str = PARTY, done: str | None = DONE_QUERY
) -> Response:
    """A trader's registration: its own to a trader; to an official, with the form to change
    it."""
    node = node_of(request)
    with node.transaction() as session:
        read = TraderRead.model_validate(traders.get(session, user, party_id))
    official = user.role in auth.OFFICIALS
    values = {
        "trader": read,
        "official": official,
        "fields": _trader_fields(read),
        "changing": True,
        "errors": {},
        "banner": DONE.get(done or ""),
    }
    return web.render(request, "transit/trader.html", values, user=user)


def _traders(
    request: Request,
    user: auth.Principal,
    fields: Mapping[str, str],
    *,
    errors: Mapping[str, FieldError] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        found = [TraderRead.model_validate(t) for t in traders.listing(session, user, 500)]
    values = {"traders": found, "fields": fields, "errors": errors or {}, "banner": banner,
              "changing": False}  # fmt: skip
    return web.render(request, "transit/traders.html", values, status=status, user=user)


def _premises(text: str) -> list[dict[str, str]]:
    """The form's premises, one per line as `CODE = address`."""
    rows = []
    for line in text.splitlines():
        if line.strip():
            code, _, address = line.partition("=")
            rows.append({"code": code.strip(), "address": address.strip()})
    return rows


def _on_premises(error: FieldError) -> FieldError:
    """An error of one premises row is shown at the premises field, saying which line."""
    found = re.match(r"^premises\.(\d+)\.(code|address)$", error.path)
    if not found:
        return error
    line, part = int(found[1]) + 1, found[2]
    message = Text("line {line}, {part}: {why}", line=line, part=part, why=error.message)
    return FieldError("premises", error.code, message)


def _trader_fields(read: TraderRead) -> dict[str, str]:
    return {
        "party_id": read.party_id, "name": read.name, "status": read.status,
        "consignor": str(read.consignor).lower(), "consignee": str(read.consignee).lower(),
        "premises": "\n".join(f"{p.code} = {p.address}" for p in read.premises),
        "note": read.note or "",
    }  # fmt: skip
