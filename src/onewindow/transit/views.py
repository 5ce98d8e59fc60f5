"""Transit in the portals: the movements this node knows (as the office of departure, of
transit or of destination), a movement's page with the actions an official may take at its
status, the transit declaration (a form, or the API's JSON uploaded), and guarantees.

Every action is the API's: the same schema validates the form and the same service function
runs, in one transaction; a bad field comes back next to its field (422) with nothing
changed, and what the service refuses at the movement's status is the error page (409).
The page offers a form only where the role rules allow its route and the movement's role
and status let the service take it (`actions`); the service checks both again. A trader sees
only the movements it holds, and no official's figures (the guarantee's exposure per
country).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onewindow.kit import access, auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import Conflict, FieldError, InvalidInput, NotFound, Text, invalid
from onewindow.kit.i18n import N_
from onewindow.kit.node import Node
from onewindow.transit import alerts, enquiry, itinerary, offices, service
from onewindow.transit.context import context
from onewindow.transit.models import Movement
from onewindow.transit.mrn import FORMAT
from onewindow.transit.schemas import (
    Discharge,
    EventRead,
    MovementCreate,
    Office,
    Release,
    Unloading,
)

router = APIRouter(include_in_schema=False)
LINKS = [
    web.Link(N_("Transit"), "/transit"),
    web.Link(N_("Declare transit"), "/transit/new"),
    web.Link(N_("ACTS traders"), "/transit/traders"),
]
PAGE_SIZE = 50


def _reference() -> Any:
    """An MRN or GRN in the address (each route's own: FastAPI names it after its parameter)."""
    return Path(min_length=18, max_length=18, pattern=FORMAT.pattern)


MRN, GRN = _reference(), _reference()
DONE_QUERY = Query(None, max_length=20)
CANCEL = "/transit/{mrn}/cancellation"
TRIP = "/seals/trips/{reference}"  # the seals domain's page of a trip, with its map
ROLES = ("departure", "transit", "destination")
STATUSES = (
    service.ACCEPTED, service.RELEASED, service.NOT_RELEASED, service.CANCELLED, offices.EXPECTED,
    offices.CROSSED_HERE, offices.ARRIVED_HERE, offices.UNLOADED, offices.DISCREPANCIES,
    offices.DISCHARGED, enquiry.ENQUIRY, enquiry.RECOVERY,
)  # fmt: skip
# What the page says after an action, by the status it left the movement in.
DONE = {
    "declared": N_("The movement is accepted: its MRN is allocated and its guarantee holds "
                   "the amount."),
    "released": N_("The movement is released for transit; its record is sent to the offices "
                   "on its itinerary."),
    "not_released": N_("The movement is not released; its guarantee's reservation is given "
                       "back."),
    "cancelled": N_("The declaration is cancelled; its guarantee's reservation is given back."),
    "crossed": N_("The frontier crossing is recorded and sent to the office of departure."),
    "arrived": N_("The arrival is recorded and sent to the office of departure."),
    "unloaded": N_("The unloading remarks are recorded and the control results sent to the "
                   "office of departure."),
    "discharged": N_("The movement is written off; its guarantee's reservation is given back."),
    "recovery": N_("The guarantee is called for this movement."),
    "registered": N_("The guarantee is registered."),
    "trader": N_("The trader's registration is saved."),
}  # fmt: skip
# The NCTS messages as the events table names them.
EVENTS = {
    "IE001": N_("Anticipated arrival record received"),
    "IE029": N_("Released for transit"),
    "IE051": N_("Not released"),
    "IE014": N_("Declaration cancelled"),
    "IE118": N_("Frontier crossed"),
    "IE007": N_("Goods presented (arrival)"),
    "IE006": N_("Arrival advised"),
    "IE044": N_("Unloading remarks"),
    "IE018": N_("Control results"),
    "IE045": N_("Written off"),
    "IE140": N_("Enquiry started"),
    "IE142": N_("Enquiry"),
    "IE152": N_("Guarantee called (recovery)"),
}
# Words the pages show from data (statuses, roles, kinds), marked for `make messages`.
SHOWN = (
    N_("accepted"), N_("released"), N_("not released"), N_("cancelled"), N_("expected"),
    N_("crossed"), N_("arrived"), N_("unloaded"), N_("discrepancies"), N_("discharged"),
    N_("enquiry"), N_("recovery"), N_("departure"), N_("transit"), N_("destination"),
    N_("comprehensive"), N_("individual"), N_("valid"), N_("revoked"), N_("held"), N_("called"),
    N_("green"), N_("yellow"), N_("red"), N_("blue"), N_("registered"), N_("suspended"),
)  # fmt: skip
_LISTS = re.compile(r"^(seals|transit_offices|items)\.(\d+)(\..+)?$")
MINIMUM = {"seals": 2, "transit_offices": 1, "items": 1}
MAXIMUM = {"seals": 20, "transit_offices": 10, "items": 99}
FIRST_ROW = {"seals": "seals.0", "transit_offices": "transit_offices.0", "items": "items.0.hs_code"}


# ---- the movements ----


@router.get("/transit")
def movements(
    request: Request,
    user: web.PageUser,
    status: str | None = Query(None, max_length=20),
    role: str | None = Query(None, max_length=12),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    status, role = status or None, role or None  # the selects' "all" sends an empty value
    if status is not None and status not in STATUSES:
        message = Text("no status {status!r}: one of {statuses}", status=status,
                       statuses=", ".join(STATUSES))  # fmt: skip
        raise invalid("status", "unknown_status", message)
    if role is not None and role not in ROLES:
        message = Text("no role {role!r}: one of {roles}", role=role, roles=", ".join(ROLES))
        raise invalid("role", "unknown_role", message)
    node = node_of(request)
    with node.transaction() as session:
        found = service.search(session, user, status=status, limit=PAGE_SIZE + 1,
                               role=role, offset=(page - 1) * PAGE_SIZE)  # fmt: skip
        shown = [service.read_movement(session, m, user) for m in found[:PAGE_SIZE]]
    values = {
        "movements": shown,
        "more": len(found) > PAGE_SIZE,
        "page": page,
        "status": status,
        "role": role,
        "statuses": STATUSES,
        "roles": ROLES,
        "may_declare": web.may(user, "GET", "/transit/new"),
        "may_register": web.may(user, "GET", "/transit/guarantees/new"),
    }
    return web.render(request, "transit/list.html", values, user=user)


# ---- the transit declaration: a form, or the API's JSON ----


@router.get("/transit/new")
def new(request: Request, user: web.PageUser) -> Response:
    country = node_of(request).settings.country
    fields = {"holder_id": user.party_id or "", "departure_office": country,
              "items.0.currency": "USD"}  # fmt: skip
    return _form(request, user, fields)


@router.post("/transit/new")
def new_posted(request: Request, user: web.PageUser, form: web.Form) -> Response:
    """The form's buttons: another seal, office of transit or item (the page again, what was
    typed kept), the last item removed, or the declaration lodged."""
    action = form.pop("action", "declare")
    if action in ("seals", "transit_offices", "items", "remove"):
        rows = {name: rows_of(form, name) for name in MINIMUM}
        if action == "remove" and rows["items"] > 1:
            last = f"items.{rows['items'] - 1}."
            form = {k: v for k, v in form.items() if not k.startswith(last)}
            rows["items"] -= 1
        elif action in rows:
            rows[action] = min(rows[action] + 1, MAXIMUM[action])
        return _form(request, user, form, rows=rows)
    fields = compacted(form)
    try:
        document = web.nested(fields)
        mrn = _declare(node_of(request), user, document)
    except InvalidInput as exc:
        return _form(request, user, fields, errors=web.errors_by_field(exc), status=422)
    except (Conflict, NotFound) as exc:  # the guarantee: unknown, short, not computable
        error = FieldError("grn", exc.code, exc.detail)
        return _form(request, user, fields, errors={"grn": error}, status=exc.status)
    return web.redirect(f"/transit/{mrn}?done=declared")


@router.post("/transit/upload")
async def upload(request: Request, user: web.PageUser, form: web.Form) -> Response:
    """The JSON POST /api/v1/transit/movements takes, as a file: lodged as it is (with its
    monitoring, if it has one), or its errors shown."""
    content = web.uploaded(request, "file")
    try:
        document = json.loads(content) if content else None
    except ValueError as exc:
        error = FieldError(
            "file", "not_json", Text("the file is not JSON: {error}", error=str(exc))
        )
        return _form(request, user, {}, errors={"file": error}, status=400)
    if not isinstance(document, dict):
        message = Text("choose a JSON file holding one transit declaration, as the API takes it")
        return _form(request, user, {}, errors={"file": FieldError("file", "required", message)},
                     status=400)  # fmt: skip
    shown = web.flat({k: v for k, v in document.items() if k != "monitoring"})
    try:
        mrn = await run_in_threadpool(_declare, node_of(request), user, document)
    except InvalidInput as exc:
        message = Text("the file has {count} errors", count=len(exc.errors))
        errors = {"file": FieldError("file", "invalid_input", message)} | web.errors_by_field(exc)
        return _form(request, user, shown, errors=errors, status=422)
    except (Conflict, NotFound) as exc:
        error = FieldError("grn", exc.code, exc.detail)
        return _form(request, user, shown, errors={"grn": error}, status=exc.status)
    return web.redirect(f"/transit/{mrn}?done=declared")


def _declare(node: Node, user: auth.Principal, document: dict[str, Any]) -> str:
    data = web.validated(MovementCreate, document)
    with node.transaction() as session:
        return service.declare(session, user, data, context(node)).mrn


def rows_of(fields: Mapping[str, str], name: str) -> int:
    """How many rows of the list `name` the form has (blank ones too), at least its minimum."""
    found = {int(m.group(2)) for key in fields if (m := _LISTS.match(key)) and m.group(1) == name}
    return max(max(found, default=-1) + 1, MINIMUM[name])


def compacted(form: Mapping[str, str]) -> dict[str, str]:
    """The form with its blank seals, offices and items left out and the others numbered from
    0, so that the API's error paths (`seals.1`) name the rows as they are shown again."""
    out: dict[str, str] = {}
    rows: dict[str, dict[int, dict[str, str]]] = {name: {} for name in MINIMUM}
    for key, value in form.items():
        found = _LISTS.match(key)
        if found is None:
            out[key] = value
        else:
            name, n, rest = found.group(1), int(found.group(2)), found.group(3) or ""
            rows[name].setdefault(n, {})[rest] = value
    for name, numbered in rows.items():
        filled = [
            row for _, row in sorted(numbered.items()) if any(v.strip() for v in row.values())
        ]
        for n, row in enumerate(filled):
            out |= {f"{name}.{n}{rest}": value for rest, value in row.items()}
    return out


def _form(
    request: Request,
    user: auth.Principal,
    fields: Mapping[str, str],
    *,
    rows: Mapping[str, int] | None = None,
    errors: Mapping[str, FieldError] | None = None,
    status: int = 200,
) -> Response:
    shown: dict[str, FieldError] = {}
    for path, error in (errors or {}).items():  # a list's own error, at its first row
        at = FIRST_ROW.get(path, path)
        shown.setdefault(at, FieldError(at, error.code, error.message))
    values = {
        "fields": fields,
        "rows": rows or {name: rows_of(fields, name) for name in MINIMUM},
        "errors": shown,
        "country": node_of(request).settings.country,
    }
    return web.render(request, "transit/form.html", values, status=status, user=user)


# ---- one movement ----


@router.get("/transit/{mrn}")
def movement(
    request: Request, user: web.PageUser, mrn: str = MRN, done: str | None = DONE_QUERY
) -> Response:
    return page(request, user, mrn, banner=DONE.get(done or ""))


def actions(user: auth.Principal, movement: Movement, receives: bool = False) -> set[str]:
    """The forms the movement's page offers `user`: those whose route the role rules allow
    and that the service takes at this node's role in the movement and its status; to a
    trader, only as the movement's authorised consignee (`receives`)."""
    role, status = movement.role, movement.status
    holds = (
        role == "departure" and status == service.ACCEPTED and user.party_id == movement.holder_id
    )
    if user.role not in auth.OFFICIALS and not receives:
        return {"cancellation"} if holds and web.may(user, "POST", CANCEL) else set()
    offered = set()
    if role == "departure":
        offered |= {"cancellation"} if status == service.ACCEPTED else set()
        offered |= {"release"} if status == service.ACCEPTED else set()
        offered |= {"discharge"} if status == offices.DISCREPANCIES else set()
        offered |= {"recovery"} if status == enquiry.ENQUIRY else set()
    else:
        if role == "transit" and status == offices.EXPECTED:
            offered.add("crossing")
        if status in (offices.EXPECTED, offices.CROSSED_HERE, enquiry.ENQUIRY):
            offered.add("arrival")
        offered |= {"unloading"} if status == offices.ARRIVED_HERE else set()
    return {a for a in offered if web.may(user, "POST", f"/transit/{{mrn}}/{a}")}


def sees_trip(user: auth.Principal) -> bool:
    """The seals domain's trip page may be opened by `user` (it checks its own rule too)."""
    rule = access.api_rule("GET", TRIP)
    return rule is None or rule.allows(user.role)


def page(
    request: Request,
    user: auth.Principal,
    mrn: str,
    *,
    errors: Mapping[str, FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    """The movement as `user` may see it, with the forms `user` may use now; after a refused
    action, with its errors and what was typed."""
    node = node_of(request)
    official = user.role in auth.OFFICIALS
    with node.transaction() as session:
        found = service.get(session, user, mrn)
        read = service.read_movement(session, found, user)
        events = [EventRead.model_validate(e) for e in service.events(session, found)]
        currency = (
            service.guarantee(session, user, found.grn).currency
            if found.role == "departure"
            else None
        )
        items = list(found.document.get("items", []))
        consignee = found.document.get("consignee")
        premises = found.document.get("departure_premises")
        note = found.note  # why not released, how written off, the diverted notice...
        passed_on = alerts.received(session, mrn, node.settings.country) if official else []
        receiving = not official and offices.receives(session, user, found)
        allowed = actions(user, found, receiving)
    if not official:
        read = read.model_copy(update={"exposure": None})
    notices = [e.detail["notice"] for e in events if e.detail and e.detail.get("notice")]
    shown = {
        "movement": read,
        "events": events,
        "names": EVENTS,
        "items": items,
        "consignee": consignee,
        "premises": premises,
        "currency": currency,
        "allowed": allowed,
        "here": node.settings.country,
        # what the forms suggest: the declared office of this country
        "crossing_office": _declared_here(read.transit_offices, node.settings.country),
        "arrival_office": _declared_here([read.destination_office], node.settings.country),
        "notices": notices,
        "alerts": passed_on,
        "note": note if note not in notices else None,
        "trip": TRIP.format(reference=mrn) if read.monitored and sees_trip(user) else None,
        "guarantee_page": web.may(user, "GET", "/transit/guarantees/{grn}"),
        "errors": errors or {},
        "values": values or {},
        "banner": banner,
    }
    return web.render(request, "transit/movement.html", shown, status=status, user=user)


def _declared_here(declared: list[str], country: str) -> str:
    return next((o for o in declared if itinerary.office_country(o) == country), "")


Run = Callable[[Session, auth.Principal, str, Any, Any], Movement]


def act(
    request: Request,
    user: auth.Principal,
    mrn: str,
    form: dict[str, str],
    prefix: str,
    model: type[BaseModel],
    run: Run,
    whole: str = "",
) -> Response:
    """Validate the form's `prefix.` fields as the API's `model`, run the service with it,
    and show the movement again: with what was done said, or with the errors next to the
    fields (422) and nothing changed. An error of the whole model is shown at `whole`."""
    node = node_of(request)
    try:
        document = web.nested(form).get(prefix) or {}
        data = web.validated(model, document)
        with node.transaction() as session:
            done = run(session, user, mrn, data, context(node)).status
    except InvalidInput as exc:
        errors: dict[str, FieldError] = {}
        for error in exc.errors:
            path = f"{prefix}.{whole if error.path == 'body' and whole else error.path}"
            errors.setdefault(path, FieldError(path, error.code, error.message))
        return page(request, user, mrn, errors=errors, values=form, status=422)
    return web.redirect(f"/transit/{mrn}?done={done}")


@router.post("/transit/{mrn}/release")
def release(request: Request, user: web.PageUser, form: web.Form, mrn: str = MRN) -> Response:
    return act(request, user, mrn, form, "release", Release, service.decide_release, "reason")


@router.post("/transit/{mrn}/cancellation")
def cancellation(request: Request, user: web.PageUser, form: web.Form, mrn: str = MRN) -> Response:
    def run(s: Session, u: auth.Principal, m: str, data: Discharge, ctx: Any) -> Movement:
        return service.cancel(s, u, m, data.note, ctx)

    return act(request, user, mrn, form, "cancellation", Discharge, run)


@router.post("/transit/{mrn}/crossing")
def crossing(request: Request, user: web.PageUser, form: web.Form, mrn: str = MRN) -> Response:
    def run(s: Session, u: auth.Principal, m: str, data: Office, ctx: Any) -> Movement:
        return offices.cross(s, u, m, data.office, ctx)

    return act(request, user, mrn, form, "crossing", Office, run)


@router.post("/transit/{mrn}/arrival")
def arrival(request: Request, user: web.PageUser, form: web.Form, mrn: str = MRN) -> Response:
    def run(s: Session, u: auth.Principal, m: str, data: Office, ctx: Any) -> Movement:
        return offices.arrive(s, u, m, data.office, ctx)

    return act(request, user, mrn, form, "arrival", Office, run)


@router.post("/transit/{mrn}/unloading")
def unloading(request: Request, user: web.PageUser, form: web.Form, mrn: str = MRN) -> Response:
    return act(request, user, mrn, form, "unloading", Unloading, offices.unload)


@router.post("/transit/{mrn}/discharge")
def discharge(request: Request, user: web.PageUser, form: web.Form, mrn: str = MRN) -> Response:
    def run(s: Session, u: auth.Principal, m: str, data: Discharge, ctx: Any) -> Movement:
        return offices.discharge(s, u, m, data.note, ctx)

    return act(request, user, mrn, form, "discharge", Discharge, run)


@router.post("/transit/{mrn}/recovery")
def recovery(request: Request, user: web.PageUser, form: web.Form, mrn: str = MRN) -> Response:
    def run(s: Session, u: auth.Principal, m: str, data: Discharge, ctx: Any) -> Movement:
        return enquiry.recover(s, u, m, data.note, ctx)

    return act(request, user, mrn, form, "recovery", Discharge, run)
