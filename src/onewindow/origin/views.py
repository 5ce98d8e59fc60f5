"""Certificates of origin in the portals: the list, issuing a Form D (in a form that grows item
by item, or the API's JSON uploaded), the certificate page with what the role may do now
(transmit, cancel, replace, ask for verification), and verification requests with their
answers.

Every action calls the use case the API and the CLI call; a bad field comes back next to the
field (422), with nothing issued. What a role may do with a certificate is `issuing.actions`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onewindow import exchange
from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.codes import TRANSPORT_MODES
from onewindow.kit.errors import FieldError, InvalidInput, InvalidTransition, Text
from onewindow.kit.i18n import N_
from onewindow.kit.node import Node
from onewindow.origin import application, issuing, receiving, service
from onewindow.origin.schemas import (
    CertificateCancellation,
    CertificateDetail,
    VerificationAnswer,
    VerificationAsked,
)
from onewindow.origin.settings import OriginSettings

router = APIRouter(include_in_schema=False)
LINKS = [
    web.Link(N_("Certificates"), "/certificates"),
    web.Link(N_("Issue a Form D"), "/certificates/new"),
    web.Link(N_("Verifications"), "/verifications"),
]
PAGE_SIZE = 50
DONE = {
    "issued": N_("The Form D is issued."),
    "replaced": N_("The Form D is issued; the one it replaces is withdrawn."),
    "transmitted": N_("The Form D is sent to the importing country's node."),
    "cancelled": N_("The Form D is cancelled; the importing country is told if it had it."),
    "asked": N_("Your request is sent to the issuing country."),
    "answered": N_("Your answer is sent to the country that asked."),
}
MODES = [(code, f"{code} {name.capitalize()}") for code, name in TRANSPORT_MODES.items()]
# The modes as MODES writes them, marked for `make messages` (translated where shown).
MODE_NAMES = (
    N_("0 Not known"), N_("1 Maritime"), N_("2 Rail"), N_("3 Road"), N_("4 Air"), N_("5 Mail"),
    N_("7 Fixed installation"), N_("8 Inland waterway"), N_("9 Own propulsion"),
)  # fmt: skip
RESULTS = [
    ("confirmed", N_("Confirmed: the goods originate as certified")),
    ("partially_confirmed", N_("Partially confirmed: some items do not")),
    ("not_confirmed", N_("Not confirmed")),
]
# The statuses of certificates and verification requests, as the pages show them.
WORDS = (
    N_("issued"), N_("transmitted"), N_("utilised"), N_("rejected"), N_("received"),
    N_("cancelled"), N_("replaced"), N_("open"), N_("confirmed"), N_("partially confirmed"),
    N_("not confirmed"),
)  # fmt: skip
REFERENCE = Path(max_length=40, pattern=r"^[A-Z0-9/-]+$")
REQUEST_ID = Path(max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
DONE_QUERY = Query(None, max_length=20)


# ---- the list ----


@router.get("/certificates")
def certificates(
    request: Request,
    user: web.PageUser,
    status: str | None = Query(None, max_length=20),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        found = service.search(
            session, user, status=status, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        counts = service.counts(session, user)
    values = {
        "certificates": found[:PAGE_SIZE],
        "more": len(found) > PAGE_SIZE,
        "page": page,
        "status": status,
        "statuses": service.STATUSES,
        "counts": counts,
        "total": sum(counts.values()),
        "may_issue": web.may(user, "GET", "/certificates/new"),
    }
    return web.render(request, "origin/list.html", values, user=user)


# ---- issuing and replacing: one form ----


@router.get("/certificates/new")
def new(request: Request, user: web.PageUser) -> Response:
    country = node_of(request).settings.country
    fields = {
        "exporter.country": country,
        "declaration.producing_country": country,
        "items.0.fob_currency": "USD",
    }
    return _form(request, user, fields)


@router.post("/certificates/new")
def new_posted(request: Request, user: web.PageUser, form: web.Form) -> Response:
    return _posted(request, user, form, None)


@router.get("/certificates/{reference}/replacement")
def replacement(request: Request, user: web.PageUser, reference: str = REFERENCE) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        cert = issuing.issued(session, reference)
        allowed = issuing.actions(user, cert)
        applied = issuing.application_of(cert)
    if "replace" not in allowed:
        raise InvalidTransition(
            Text(
                "certificate {reference} is {status}", reference=reference, status=Text(cert.status)
            )
        )
    return _form(request, user, application.as_fields(applied), replacing=reference)


@router.post("/certificates/{reference}/replacement")
def replacement_posted(
    request: Request, user: web.PageUser, form: web.Form, reference: str = REFERENCE
) -> Response:
    return _posted(request, user, form, reference)


def _form(
    request: Request,
    user: auth.Principal,
    fields: Mapping[str, str],
    *,
    items: int | None = None,
    errors: Mapping[str, FieldError] | None = None,
    replacing: str | None = None,
    status: int = 200,
) -> Response:
    values = {
        "fields": fields,
        "items": items or application.item_count(fields),
        "errors": errors or {},
        "replacing": replacing,
        "modes": MODES,
        "flags": [(f.key, application.FLAG_LABELS.get(f.key, f.key)) for f in application.FLAGS],
        "action": f"/certificates/{replacing}/replacement" if replacing else "/certificates/new",
    }
    return web.render(request, "origin/form.html", values, status=status, user=user)


def _posted(
    request: Request, user: auth.Principal, form: dict[str, str], replacing: str | None
) -> Response:
    """The form's buttons: add or remove an item, or issue."""
    action = form.pop("action", "issue")
    if action in ("add", "remove"):
        items = application.item_count(form)
        if action == "remove" and items > 1:
            form = {k: v for k, v in form.items() if not k.startswith(f"items.{items - 1}.")}
        items = items + 1 if action == "add" else max(items - 1, 1)
        return _form(request, user, form, items=items, replacing=replacing)
    try:
        reference = _issue(node_of(request), user, application.from_fields(form), replacing)
    except InvalidInput as exc:
        return _form(
            request,
            user,
            form,
            errors=application.form_errors(exc),
            replacing=replacing,
            status=422,
        )
    done = "replaced" if replacing else "issued"
    return web.redirect(f"/certificates/{reference}?done={done}")


def _issue(
    node: Node, user: auth.Principal, document: dict[str, Any], replacing: str | None
) -> str:
    issuer, now = issuing.Issuer.of(node.settings), node.clock.now()
    with node.transaction() as session:
        if replacing is None:
            cert = issuing.issue(session, user, document, issuer=issuer, now=now)
        else:
            cert = issuing.replace(session, user, replacing, document, issuer=issuer, now=now)
        return cert.reference


@router.post("/certificates/upload")
async def upload(request: Request, user: web.PageUser, form: web.Form) -> Response:
    """The application as the API takes it, as a JSON file: issued as it is, or its errors
    shown in the form."""
    content = web.uploaded(request, "file")
    try:
        document = json.loads(content) if content else None
    except ValueError as exc:
        error = FieldError("file", "not_json", Text("the file is not JSON: {error}", error=exc))
        return _form(request, user, {}, errors={"file": error}, status=400)
    if not isinstance(document, dict):
        message = Text("choose a JSON file holding one application, as the API takes it")
        return _form(request, user, {}, errors={"file": FieldError("file", "required", message)},
                     status=400)  # fmt: skip
    try:
        reference = await run_in_threadpool(_issue, node_of(request), user, document, None)
    except InvalidInput as exc:
        count = len(exc.errors)
        summary = FieldError(
            "file", "invalid_input", Text("the file has {count} errors", count=count)
        )
        errors = {"file": summary} | application.form_errors(exc)
        return _form(request, user, application.as_fields(document), errors=errors, status=422)
    return web.redirect(f"/certificates/{reference}?done=issued")


# ---- one certificate ----


@router.get("/certificates/{reference}")
def certificate(
    request: Request, user: web.PageUser, reference: str = REFERENCE, done: str | None = DONE_QUERY
) -> Response:
    return _page(request, user, reference, banner=DONE.get(done or ""))


def _page(
    request: Request,
    user: auth.Principal,
    reference: str,
    *,
    errors: Mapping[str, FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    """The certificate as the API shows it to `user`, with what `user` may do now; after a
    refused action, with its errors and what was typed."""
    node = node_of(request)
    official = service.official(user)
    with node.transaction() as session:
        cert = service.read_certificate(session, user, reference)
        found: dict[str, Any] = {
            "certificate": CertificateDetail.model_validate(cert),
            "transmitted_at": cert.transmitted_at,
            "replaces": service.replacing(session, reference),
            "items": [
                {"row": item, "box": _boxes(cert.document).get(item.item_number, {})}
                for item in cert.items
            ],
            "allowed": issuing.actions(user, cert),
            "messages": [],
            "verifications": ([], []),
        }
        if official:  # where it travelled, and whether its origin is doubted: officials only
            found["messages"] = exchange.messages(
                session, document_type="FORM_D", document_id=reference
            )
            found["verifications"] = receiving.verifications(
                session, user, country=node.settings.country, reference=reference
            )
    found |= {
        "errors": errors or {},
        "values": values or {},
        "banner": banner,
        "official": official,
        "flags": application.FLAG_LABELS,
        "modes": dict(MODES),
    }
    return web.render(request, "origin/certificate.html", found, status=status, user=user)


def _boxes(document: Mapping[str, Any] | None) -> dict[int, dict[str, Any]]:
    """Boxes 5 to 10 of each item of the Form D on record, by item number."""
    items = (document or {}).get("items") or []
    return {i["item_number"]: i for i in items if isinstance(i, dict) and "item_number" in i}


def _act(
    request: Request,
    user: auth.Principal,
    reference: str,
    form: dict[str, str],
    run: Callable[[Session, Node], Any],
    done: str,
) -> Response:
    """Run a use case on the certificate and show it again: with `done` said, or with the
    errors next to the fields (422), nothing changed."""
    node = node_of(request)
    try:
        with node.transaction() as session:
            run(session, node)
    except InvalidInput as exc:
        return _page(request, user, reference, errors=web.errors_by_field(exc), values=form,
                     status=422)  # fmt: skip
    return web.redirect(f"/certificates/{reference}?done={done}")


@router.post("/certificates/{reference}/transmission")
def transmit(
    request: Request, user: web.PageUser, form: web.Form, reference: str = REFERENCE
) -> Response:
    def run(session: Session, node: Node) -> None:
        issuing.transmit(session, user, reference, now=node.clock.now())

    return _act(request, user, reference, form, run, "transmitted")


@router.post("/certificates/{reference}/cancellation")
def cancel(
    request: Request, user: web.PageUser, form: web.Form, reference: str = REFERENCE
) -> Response:
    def run(session: Session, node: Node) -> None:
        body = web.validated(CertificateCancellation, web.nested(form))
        issuing.cancel(session, user, reference, body.reason, now=node.clock.now())

    return _act(request, user, reference, form, run, "cancelled")


@router.post("/certificates/{reference}/verification")
def ask(
    request: Request, user: web.PageUser, form: web.Form, reference: str = REFERENCE
) -> Response:
    def run(session: Session, node: Node) -> None:
        body = web.validated(VerificationAsked, web.nested(form))
        receiving.request_verification(
            session, user, reference, body.reason,
            country=node.settings.country, now=node.clock.now(),
        )  # fmt: skip

    return _act(request, user, reference, form, run, "asked")


# ---- verification of origin ----


@router.get("/verifications")
def verifications(request: Request, user: web.PageUser) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        received, sent = receiving.verifications(session, user, country=node.settings.country)
    values = {"received": received, "sent": sent}
    return web.render(request, "origin/verifications.html", values, user=user)


@router.get("/verifications/{request_id}")
def verification(
    request: Request,
    user: web.PageUser,
    request_id: str = REQUEST_ID,
    done: str | None = DONE_QUERY,
) -> Response:
    return _verification(request, user, request_id, banner=DONE.get(done or ""))


def _verification(
    request: Request,
    user: auth.Principal,
    request_id: str,
    *,
    errors: Mapping[str, FieldError] | None = None,
    values: Mapping[str, str] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        found = receiving.verification(session, user, request_id)
        answerable = receiving.answerable(user, found, node.settings.country)
    context = {
        "v": found,
        "answerable": answerable,
        "results": RESULTS,
        "result_names": dict(RESULTS),
        "errors": errors or {},
        "values": values or {},
        "banner": banner,
    }
    return web.render(request, "origin/verification.html", context, status=status, user=user)


@router.post("/verifications/{request_id}/answer")
def answer(
    request: Request, user: web.PageUser, form: web.Form, request_id: str = REQUEST_ID
) -> Response:
    node = node_of(request)
    try:
        body = web.validated(VerificationAnswer, web.nested(form))
        with node.transaction() as session:
            receiving.answer_verification(
                session, user, request_id, body.result, body.note,
                authority=OriginSettings.of(node.settings).issuing_authority,
                now=node.clock.now(),
            )  # fmt: skip
    except InvalidInput as exc:
        return _verification(request, user, request_id, errors=web.errors_by_field(exc),
                             values=form, status=422)  # fmt: skip
    return web.redirect(f"/verifications/{request_id}?done=answered")
