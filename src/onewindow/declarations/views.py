"""Declarations in the portals: the dashboard, lodging (a form that grows item by item, with
the duties checked before submitting, or the API's JSON uploaded), the declaration page,
paying, amending or asking for an amendment, cancelling, and the release note.

Every action calls the service the API calls; a bad field comes back next to the field (422),
with nothing saved. What a role may do on a declaration is `service.actions`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onewindow import exchange, origin
from onewindow.declarations import service, workflow
from onewindow.declarations.assessment import Plan
from onewindow.declarations.context import context, head_signer
from onewindow.declarations.readmodel import amendment_read, audit_read, to_read
from onewindow.declarations.schemas import AmendmentRequestCreate, Cancellation, Payment
from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import FieldError, InvalidInput, Text, invalid
from onewindow.kit.i18n import N_
from onewindow.kit.node import Node

router = APIRouter(include_in_schema=False)
LINKS = [
    web.Link(N_("Declarations"), "/declarations"),
    web.Link(N_("Lodge"), "/declarations/new"),
]
PAGE_SIZE = 50
STATUSES = (
    workflow.REGISTERED,
    workflow.DOCUMENT_CHECK,
    workflow.INSPECTION,
    workflow.AWAITING_PAYMENT,
    workflow.PAID,
    workflow.RELEASED,
    workflow.CANCELLED,
)
DONE = {
    "lodged": N_("The declaration is lodged."),
    "paid": N_("The payment is recorded."),
    "amended": N_("The declaration is amended and assessed again."),
    "requested": N_("Your amendment request is with customs."),
    "cancelled": N_("The declaration is cancelled."),
    # the officers' actions (control_views)
    "opened": N_("You have taken the declaration in hand."),
    "checked": N_("The document check is recorded."),
    "inspected": N_("The inspection findings are recorded."),
    "released": N_("The goods are released."),
    "decided": N_("The amendment request is decided."),
}
TRANSPORT_MODES = [
    ("1", N_("1 Sea")), ("2", N_("2 Rail")), ("3", N_("3 Road")), ("4", N_("4 Air")),
    ("5", N_("5 Post")), ("7", N_("7 Fixed installation")), ("8", N_("8 Inland waterway")),
    ("9", N_("9 Own propulsion")), ("0", N_("0 Not known")),
]  # fmt: skip
# Words the pages show from data (statuses, lanes, taxes), marked for `make messages`.
SHOWN = (
    N_("registered"), N_("document check"), N_("inspection"), N_("awaiting payment"),
    N_("paid"), N_("released"), N_("cancelled"), N_("green"), N_("yellow"), N_("red"),
    N_("blue"), N_("IMPORT DUTY"), N_("VAT"), N_("pending"), N_("accepted"), N_("refused"),
    N_("not received"),
)  # fmt: skip
# What the history shows of each audited action (its name without "declaration.").
HISTORY = (
    N_("registered"), N_("channel green"), N_("channel yellow"), N_("channel red"),
    N_("channel blue"), N_("amended"), N_("amendment requested"), N_("amendment accepted"),
    N_("amendment refused"), N_("document check opened"), N_("inspection opened"),
    N_("document check accept"), N_("document check inspect"), N_("inspection compliant"),
    N_("inspection irregularity"), N_("paid"), N_("released"), N_("cancelled"),
    N_("acdd cancelled"),
)  # fmt: skip
NUMBER = Path(max_length=20, pattern=r"^[A-Z0-9-]+$")
_ITEM = re.compile(r"^items\.(\d+)\.")


# ---- the dashboard ----


@router.get("/declarations")
def dashboard(
    request: Request,
    user: web.PageUser,
    status: str | None = Query(None, max_length=20),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    if status is not None and status not in STATUSES:
        message = Text("no status {status!r}: one of {statuses}", status=status, statuses=STATUSES)
        raise invalid("status", "unknown_status", message)
    node = node_of(request)
    with node.transaction() as session:
        counts = service.counts(session, user)
        found = service.search(
            session, user, status=status, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
    context_ = {
        "counts": counts,
        "statuses": STATUSES,
        "status": status,
        "declarations": found[:PAGE_SIZE],
        "page": page,
        "more": len(found) > PAGE_SIZE,
        "total": sum(counts.values()),
    }
    return web.render(request, "declarations/list.html", context_, user=user)


# ---- lodging, amending, asking for an amendment: one form ----


@router.get("/declarations/new")
def new(request: Request, user: web.PageUser) -> Response:
    fields = {"type": "IM", "declarant.id": user.party_id or ""}
    return _form(request, user, fields)


@router.post("/declarations/new")
def new_posted(request: Request, user: web.PageUser, form: web.Form) -> Response:
    return _posted(request, user, form)


@router.get("/declarations/{number}/amendment")
def amendment(request: Request, user: web.PageUser, number: str = NUMBER) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        decl = service.get(session, user, number)
        allowed = service.actions(user, decl)
        fields = web.flat(decl.document)
    if not allowed & {"amend", "request_amendment"}:
        message = Text("{number} can no longer be amended", number=number)
        raise invalid("number", "not_amendable", message)
    return _form(request, user, fields, number=number, asking="request_amendment" in allowed)


@router.post("/declarations/{number}/amendment")
def amendment_posted(
    request: Request, user: web.PageUser, form: web.Form, number: str = NUMBER
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        allowed = service.actions(user, service.get(session, user, number))
    return _posted(request, user, form, number, asking="request_amendment" in allowed)


def _items(fields: Mapping[str, str]) -> int:
    found = [int(m.group(1)) for name in fields if (m := _ITEM.match(name))]
    return max(found, default=0) + 1


def _form(
    request: Request,
    user: auth.Principal,
    fields: Mapping[str, str],
    *,
    items: int | None = None,
    errors: Mapping[str, FieldError] | None = None,
    number: str | None = None,
    asking: bool = False,
    status: int = 200,
) -> Response:
    values = {
        "fields": fields,
        "items": items or _items(fields),
        "errors": errors or {},
        "number": number,
        "asking": asking,
        "modes": TRANSPORT_MODES,
        "action": f"/declarations/{number}/amendment" if number else "/declarations/new",
    }
    return web.render(request, "declarations/form.html", values, status=status, user=user)


def _posted(
    request: Request,
    user: auth.Principal,
    form: dict[str, str],
    number: str | None = None,
    asking: bool = False,
) -> Response:
    """The form's buttons: add or remove an item, check the answers, go back to change them,
    or submit what was checked."""
    action = form.pop("action", "check")
    reason = form.pop("reason", "")
    sent = form.pop("document", "")
    show = partial(_form, request, user, number=number, asking=asking)
    if action in ("add", "remove"):
        items = _items(form)
        if action == "remove" and items > 1:
            form = {k: v for k, v in form.items() if not k.startswith(f"items.{items - 1}.")}
        items = items + 1 if action == "add" else max(items - 1, 1)
        return show(form | {"reason": reason}, items=items)
    node = node_of(request)
    if action == "edit":
        return show(web.flat(_loaded(sent)) | {"reason": reason})
    if action == "submit":
        document = _loaded(sent)
        try:
            done = _submit(node, user, document, number, reason if asking else None)
        except InvalidInput as exc:
            fields = web.flat(document) | {"reason": reason}
            return show(fields, errors=web.errors_by_field(exc), status=422)
        target = number or done
        return web.redirect(f"/declarations/{target}?done={_done(number, asking)}")
    document = _with_scheme(web.nested(form))
    errors: dict[str, FieldError] = {}
    if asking and not reason.strip():
        errors["reason"] = FieldError("reason", "required", Text("say why it must change"))
    try:
        with node.transaction() as session:
            plan = service.preview(session, user, document, context(node))
    except InvalidInput as exc:
        errors = web.errors_by_field(exc) | errors
    if errors:
        return show(form | {"reason": reason}, errors=errors, status=422)
    values = {
        "plan": plan,
        "rows": plan_rows(plan),
        "document": json.dumps(document),
        "currency": node.settings.currency,
        "number": number,
        "asking": asking,
        "reason": reason,
        "action": f"/declarations/{number}/amendment" if number else "/declarations/new",
    }
    return web.render(request, "declarations/check.html", values, user=user)


def _with_scheme(document: dict[str, Any]) -> dict[str, Any]:
    """A Form D reference claims ATIGA, the only preference scheme: the form does not ask."""
    for item in document.get("items", []):
        if isinstance(item, dict) and isinstance(item.get("preference"), dict):
            item["preference"].setdefault("scheme", "ATIGA")
    return document


def _done(number: str | None, asking: bool) -> str:
    return "requested" if asking else "amended" if number else "lodged"


def _loaded(sent: str) -> dict[str, Any]:
    try:
        document = json.loads(sent)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        message = Text("the checked declaration was lost: start again")
        raise invalid("document", "not_json", message)
    return document


def _submit(
    node: Node,
    user: auth.Principal,
    document: dict[str, Any],
    number: str | None,
    reason: str | None,
) -> str:
    ctx = context(node)
    with node.transaction() as session:
        if number is None:
            return service.lodge(session, user, [document], ctx)[0]
        if reason is not None:
            body = web.validated(AmendmentRequestCreate, {"reason": reason, "document": document})
            service.request_amendment(session, user, number, body, ctx)
        else:
            service.amend(session, user, number, document, ctx)
        return number


@router.post("/declarations/upload")
async def upload(request: Request, user: web.PageUser, form: web.Form) -> Response:
    """The JSON the API takes, as a file: lodged as it is, or its errors shown."""
    content = web.uploaded(request, "file")
    try:
        document = json.loads(content) if content else None
    except ValueError as exc:
        error = FieldError(
            "file", "not_json", Text("the file is not JSON: {error}", error=str(exc))
        )
        return _form(request, user, {}, errors={"file": error}, status=400)
    if not isinstance(document, dict):
        message = Text("choose a JSON file holding one declaration, as the API takes it")
        error = FieldError("file", "required", message)
        return _form(request, user, {}, errors={"file": error}, status=400)
    try:
        number = await run_in_threadpool(_submit, node_of(request), user, document, None, None)
    except InvalidInput as exc:
        errors = web.errors_by_field(exc)
        message = Text("the file has {count} errors", count=len(exc.errors))
        summary = FieldError("file", "invalid_input", message)
        return _form(request, user, web.flat(document), errors={"file": summary} | errors,
                     status=422)  # fmt: skip
    return web.redirect(f"/declarations/{number}?done=lodged")


# ---- one declaration ----


@router.get("/declarations/{number}")
def declaration(
    request: Request,
    user: web.PageUser,
    number: str = NUMBER,
    done: str | None = Query(None, max_length=20),
) -> Response:
    return page(request, user, number, banner=DONE.get(done or ""))


def page(
    request: Request,
    user: auth.Principal,
    number: str,
    *,
    errors: Mapping[str, FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    """The declaration as `user` may see it, with the actions `user` may take now; after a
    refused action, with its errors and what was typed. Other domains' pages (the officers')
    add their own sections through the same template."""
    node = node_of(request)
    with node.transaction() as session:
        decl = service.get(session, user, number)
        found = {
            "declaration": to_read(decl, user),
            "history": audit_read(service.history(session, user, number), user),
            "requests": [
                amendment_read(r, number) for r in service.requests(session, user, number)
            ],
            "allowed": service.actions(user, decl),
            "certificates": _certificates(session, decl.items),
            "acdd": exchange.messages(session, document_type="ACDD", document_id=number)
            if decl.type == "EX"
            else [],
            # Officials only: each document's inclusion in the ledger, its proof checked.
            "proofs": service.document_proofs(session, user, number, head_signer(node))
            if user.role in workflow.OFFICIALS
            else None,
        }
    found |= {"errors": errors or {}, "values": values or {}, "banner": banner}
    return web.render(request, "declarations/declaration.html", found, status=status, user=user)


def _certificates(session: Session, items: Any) -> dict[str, str]:
    """The status of each Form D the items claim, as this node holds it."""
    out = {}
    for item in items:
        ref = item.preference_certificate
        if ref and ref not in out:
            cert = origin.get_certificate(session, ref)
            out[ref] = cert.status if cert is not None else "not received"
    return out


def act(
    request: Request,
    user: auth.Principal,
    number: str,
    form: dict[str, str],
    model: type[BaseModel] | None,
    run: Callable[..., Any],
    done: str,
    *,
    prefix: str = "",
) -> Response:
    """Validate the form as the API's `model`, run the service `run` with it, and show the
    declaration again: with `done` said, or with the errors next to the fields (422).
    With a `prefix`, the form's fields are named `<prefix>.<field>` (several forms on the
    page share field names), and so are its errors."""
    node = node_of(request)
    try:
        document = web.nested(form)
        if prefix:
            document = document.get(prefix) or {}
        args = [web.validated(model, document)] if model is not None else []
        with node.transaction() as session:
            run(session, user, number, *args, context(node))
    except InvalidInput as exc:
        errors = web.errors_by_field(exc)
        if prefix:
            errors = {
                f"{prefix}.{path}": FieldError(f"{prefix}.{path}", e.code, e.message)
                for path, e in errors.items()
            }
        return page(request, user, number, errors=errors, values=form, status=422)
    return web.redirect(f"/declarations/{number}?done={done}")


@router.post("/declarations/{number}/payment")
def pay(request: Request, user: web.PageUser, form: web.Form, number: str = NUMBER) -> Response:
    return act(request, user, number, form, Payment, service.pay, "paid")


@router.post("/declarations/{number}/cancellation")
def cancel(request: Request, user: web.PageUser, form: web.Form, number: str = NUMBER) -> Response:
    return act(request, user, number, form, Cancellation, service.cancel, "cancelled")


@router.get("/declarations/{number}/release-note")
def release_note(request: Request, user: web.PageUser, number: str = NUMBER) -> Response:
    """The release note of released goods: a printable page, downloaded."""
    node = node_of(request)
    with node.transaction() as session:
        decl = service.get(session, user, number)
        if decl.status != workflow.RELEASED:
            message = Text("{number} is not released: no release note", number=number)
            raise invalid("number", "not_released", message)
        read = to_read(decl, user)
    values = {"declaration": read, "country": node.settings.country}
    response = web.render(request, "declarations/release_note.html", values, user=user)
    response.headers["Content-Disposition"] = f'attachment; filename="release-note-{number}.html"'
    # a document on its own, saved and printed: its one inline style, nothing else
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    """The check page's items: what was declared beside what it comes to."""
    return [{"item": item, "plan": p} for item, p in zip(plan.doc.items, plan.items, strict=True)]
