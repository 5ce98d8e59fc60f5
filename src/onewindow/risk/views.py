"""Risk in the portals: the registered models with their evaluation, activating one and
rolling back; the rule profiles, writing one and expiring it.

The registry's and the service's functions, as the API and `onewindow risk` call them; who
may change what is each route's rule (risk/domain.py). A model activated here scores the
next declaration this node lodges, without a restart, as through the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import Conflict, FieldError, InvalidInput
from onewindow.kit.i18n import N_
from onewindow.risk import registry, service
from onewindow.risk.lanes import lanes
from onewindow.risk.models import RegisteredModel
from onewindow.risk.schemas import ProfileCreate

router = APIRouter(include_in_schema=False)
LINKS = [
    web.Link(N_("Risk models"), "/risk/models"),
    web.Link(N_("Risk profiles"), "/risk/profiles"),
]
VERSION = Path(min_length=1, max_length=60)
TOPS = ("1", "2", "5", "10")  # the top-n % that training validates (risk/evaluate.py)
DONE = {
    "activated": N_("The model is active: it scores the declarations lodged from now on."),
    "rolled_back": N_("Rolled back: the model active before is active again."),
    "created": N_("The profile is in force: it applies to the declarations lodged from now on."),
    "expired": N_("The profile is expired: it no longer picks lanes."),
}
# The lanes a profile may pick, as the pages show them (service.LANES).
LANE_NAMES = {"yellow": N_("Yellow"), "red": N_("Red"), "blue": N_("Blue")}
# Words the pages show from data, marked for `make messages`.
SHOWN = (N_("yellow"), N_("red"), N_("blue"))


# ---- models ----


@router.get("/risk/models")
def models(
    request: Request, user: web.PageUser, done: str | None = Query(None, max_length=20)
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        rows = [_model(m) for m in registry.list_models(session)]
    context = {
        "models": rows,
        "tops": TOPS,
        "active": next((m for m in rows if m["active"]), None),
        "may_change": web.may(user, "POST", "/risk/models/{version}/activation"),
        "banner": DONE.get(done or ""),
    }
    return web.render(request, "risk/models.html", context, user=user)


def _model(m: RegisteredModel) -> dict[str, Any]:
    """A model as the page shows it: the registry's row and its internal validation."""
    metrics = m.metrics or {}
    validation = metrics.get("internal_validation") or {}
    return {
        "version": m.version,
        "active": m.active,
        "created_at": m.created_at,
        "registered_at": m.registered_at,
        "registered_by": m.registered_by,
        "data_from": m.data_from,
        "data_to": m.data_to,
        "rows": m.rows,
        "labelled": m.labelled,
        "data_format": m.data_format,
        "activated_at": m.activated_at,
        "activated_by": m.activated_by,
        "previous_version": m.previous_version,
        "illicit_rate": metrics.get("illicit_rate"),
        "auc": validation.get("auc"),
        "objective": validation.get("objective"),
        "top": validation.get("top") or {},
    }


@router.post("/risk/models/{version}/activation")
def activate(
    request: Request, user: web.PageUser, form: web.Form, version: str = VERSION
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        registry.activate(session, version, by=user.name, now=node.clock.now())
    lanes(node).reload()  # this running node scores with it at once, as the API does
    return web.redirect("/risk/models?done=activated")


@router.post("/risk/models/rollback")
def rollback(request: Request, user: web.PageUser, form: web.Form) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        registry.rollback(session, by=user.name, now=node.clock.now())
    lanes(node).reload()
    return web.redirect("/risk/models?done=rolled_back")


# ---- profiles ----


@router.get("/risk/profiles")
def profiles(
    request: Request, user: web.PageUser, done: str | None = Query(None, max_length=20)
) -> Response:
    return _profiles(request, user, banner=DONE.get(done or ""))


def _profiles(
    request: Request,
    user: auth.Principal,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, FieldError] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        found = service.list_profiles(session)
    context = {
        "profiles": found,
        "lanes": [(lane, LANE_NAMES.get(lane, lane.capitalize())) for lane in service.LANES],
        "may_change": web.may(user, "POST", "/risk/profiles"),
        "values": values or {},
        "errors": errors or {},
        "banner": banner,
    }
    return web.render(request, "risk/profiles.html", context, status=status, user=user)


@router.post("/risk/profiles")
def create(request: Request, user: web.PageUser, form: web.Form) -> Response:
    node = node_of(request)
    try:
        body = web.validated(ProfileCreate, web.nested(form))
        with node.transaction() as session:
            values = body.model_dump(exclude_none=True)
            service.add_profile(session, values, by=user.name, now=node.clock.now())
    except InvalidInput as exc:
        errors = web.errors_by_field(exc)
        return _profiles(request, user, values=form, errors=errors, status=422)
    except Conflict as exc:
        errors = {"name": FieldError("name", exc.code, exc.detail)}
        return _profiles(request, user, values=form, errors=errors, status=409)
    return web.redirect("/risk/profiles?done=created")


@router.post("/risk/profiles/{profile_id}/expiry")
def expire(
    request: Request,
    user: web.PageUser,
    form: web.Form,
    profile_id: int = Path(ge=1, le=2**31 - 1),
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        service.expire_profile(session, profile_id, by=user.name, now=node.clock.now())
    return web.redirect("/risk/profiles?done=expired")
