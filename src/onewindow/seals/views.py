"""E-seals in the portals: the monitoring officers' open alerts (filtered by kind and trip,
newest first), the trips under seal, and a trip's page: its status, seals and limits, its
alerts, and its track on a map drawn on the server (`trackmap.py`).

Reading is the API's `service.alerts`, `service.trips`, `service.trip` and `service.track`;
acknowledging is `service.acknowledge`, as POST /api/v1/seals/trips/{reference}/alerts/
{alert_id}/acknowledgement does it, with the same rule: officials act, analysts read.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict

from onewindow.kit import auth, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import FieldError, InvalidInput, NotFound, Text
from onewindow.kit.i18n import N_, gettext
from onewindow.seals import plans, service, trackmap
from onewindow.seals.schemas import (
    AcknowledgementIn,
    AlertKind,
    AlertRead,
    Track,
    TripRead,
    TripReference,
)

router = APIRouter(include_in_schema=False)
LINKS = [
    web.Link(N_("E-seal alerts"), "/seals/alerts"),
    web.Link(N_("Trips under seal"), "/seals/trips"),
]
ACKNOWLEDGE = "/seals/trips/{reference}/acknowledgement"
# The alerts' kinds (schemas.AlertKind) as the pages name them.
KINDS = {
    "off_route": N_("Off the corridor"),
    "long_stop": N_("Long stop"),
    "door_open": N_("Door opened"),
    "tamper": N_("Tampering"),
    "silence": N_("Silence"),
    "wrong_arrival": N_("Wrong office of arrival"),
}
STATUSES = {"active": N_("active"), "ended": N_("ended")}
DONE = {"acknowledged": N_("The alert is acknowledged, with your note.")}
# What a page may show from the schemas (a trip reference's pattern), marked for `make messages`.
SHOWN = (N_("must be 1 to 40 capital letters, digits, '/' or '-', such as an MRN"),)
SCAN = 1000  # open alerts read for the officers' list, newest first, before filtering by kind
LISTED = 200  # of which the list shows at most


def position(lat: float | None, lon: float | None) -> str:
    return "" if lat is None or lon is None else f"{lat:.5f}, {lon:.5f}"


class AlertFilter(BaseModel):
    """The officers' list's filters, checked with the API's own types."""

    model_config = ConfigDict(extra="forbid")
    kind: AlertKind | None = None
    trip: TripReference | None = None


def _filters(kind: str, trip: str) -> dict[str, FieldError]:
    try:
        web.validated(AlertFilter, web.nested({"kind": kind, "trip": trip}))
    except InvalidInput as exc:
        return web.errors_by_field(exc)
    return {}


# ---- the officers' alerts ----


@router.get("/seals/alerts")
def alerts(
    request: Request,
    user: web.PageUser,
    kind: str = Query("", max_length=20),
    trip: str = Query("", max_length=40),
    done: str | None = Query(None, max_length=20),
) -> Response:
    return _alerts(request, user, kind=kind.strip(), trip=trip.strip().upper(),
                   banner=DONE.get(done or ""))  # fmt: skip


def _alerts(
    request: Request,
    user: auth.Principal,
    *,
    kind: str = "",
    trip: str = "",
    banner: str | None = None,
    failed: int | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, FieldError] | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    filters = _filters(kind, trip)
    found: list[AlertRead] = []
    if not filters:
        try:
            with node.transaction() as session:
                found = service.alerts(session, reference=trip or None, open_only=True, limit=SCAN)
        except NotFound as exc:
            filters["trip"] = FieldError("trip", exc.code, exc.detail)
    if filters:
        status = 404 if "trip" in filters and filters["trip"].code == "not_found" else 422
    rows = [a for a in found if not kind or a.kind == kind][:LISTED]
    context = {
        "alerts": rows,
        "kinds": [(k, gettext(v)) for k, v in KINDS.items()],
        "kind_names": KINDS,
        "kind": kind,
        "trip": trip,
        "position": position,
        "may_acknowledge": web.may(user, "POST", ACKNOWLEDGE),
        "filter_errors": filters,
        "failed": failed,
        "values": values or {},
        "errors": {**filters, **(errors or {})},
        "banner": banner,
        "shown": LISTED,
    }
    return web.render(request, "seals/alerts.html", context, status=status, user=user)


# ---- trips ----


@router.get("/seals/trips")
def trips(
    request: Request, user: web.PageUser, status: str = Query("active", max_length=10)
) -> Response:
    node = node_of(request)
    chosen = status if status in (*STATUSES, "all") else "active"
    with node.transaction() as session:
        found = service.trips(session, status=None if chosen == "all" else chosen, limit=200)
    context = {
        "trips": found,
        "status": chosen,
        "statuses": [("active", N_("Active")), ("ended", N_("Ended")), ("all", N_("All"))],
        "status_names": STATUSES,
    }
    return web.render(request, "seals/trips.html", context, user=user)


@router.get("/seals/trips/{reference}")
def trip(
    request: Request,
    user: web.PageUser,
    reference: TripReference,
    alert: int | None = Query(None, ge=1, le=2**31 - 1),
    done: str | None = Query(None, max_length=20),
) -> Response:
    values = {"alert": str(alert)} if alert else {}
    return _trip(request, user, reference, values=values, banner=DONE.get(done or ""))


def _trip(
    request: Request,
    user: auth.Principal,
    reference: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, FieldError] | None = None,
    banner: str | None = None,
    status: int = 200,
) -> Response:
    node = node_of(request)
    with node.transaction() as session:
        found = service.trip(session, reference)
        plan = plans.trip_plan(session, reference)
        track = service.track(session, reference)
    alerts = list(reversed(found.alerts))  # newest first, numbered as on the map
    numbers = {a.id: len(found.alerts) - n for n, a in enumerate(alerts)}
    context = {
        "trip": found,
        "plan": plan,
        "points": len(track.points),
        "devices": sorted({p.device for p in track.points}),
        "alerts": alerts,
        "numbers": numbers,
        "open_alerts": [
            (str(a.id), f"{numbers[a.id]}. {gettext(KINDS.get(a.kind, a.kind))}, {web.when(a.at)}")
            for a in alerts
            if a.acknowledged_at is None
        ],
        "kind_names": KINDS,
        "status_names": STATUSES,
        "position": position,
        "track_map": partial(_map, found, plan, track, numbers),
        "may_acknowledge": web.may(user, "POST", ACKNOWLEDGE),
        "values": values or {},
        "errors": errors or {},
        "banner": banner,
    }
    return web.render(request, "seals/trip.html", context, status=status, user=user)


def _map(trip: TripRead, plan: plans.TripPlan, track: Track, numbers: dict[int, int]) -> Markup:
    """Drawn while the page is, in the reader's language."""
    tracks: dict[str, list[tuple[float, float]]] = {}
    for point in track.points:
        tracks.setdefault(point.device, []).append((point.lon, point.lat))
    alerts = [
        trackmap.Mark(a.lat, a.lon, _alert_label(a, numbers[a.id]), numbers[a.id])
        for a in trip.alerts
        if a.lat is not None and a.lon is not None
    ]
    stops = [
        trackmap.Mark(s.lat, s.lon, gettext("Authorised stop: %(name)s") % {"name": s.name or "–"})
        for s in plan.stops
    ]
    office = plan.destination
    destination = trackmap.Mark(
        office.lat,
        office.lon,
        gettext("Office of destination %(office)s") % {"office": office.office},
    )
    labels = trackmap.Labels(
        title=gettext("Map of trip %(reference)s") % {"reference": trip.reference},
        description=gettext(
            "The approved corridor (%(width)s m each side of the route), %(points)s positions "
            "reported and %(alerts)s alerts located; the alerts are listed below the map."
        )
        % {"width": f"{plan.corridor_m:,.0f}", "points": len(track.points), "alerts": len(alerts)},
        corridor=gettext("Approved corridor"),
        route=gettext("Approved route"),
        track=gettext("Positions reported by the seals"),
    )
    return trackmap.draw(
        labels,
        route=plan.route,
        half_width_m=plan.corridor_m,
        tracks=list(tracks.values()),
        alerts=alerts,
        places=stops,
        destination=destination,
    )


def _alert_label(alert: AlertRead, number: int) -> str:
    words = {
        "n": number,
        "kind": gettext(KINDS.get(alert.kind, alert.kind)),
        "at": web.when(alert.at),
    }
    return gettext("Alert %(n)s: %(kind)s, %(at)s") % words


# ---- acknowledging ----


def _acknowledgement(form: Mapping[str, str]) -> tuple[int, AcknowledgementIn]:
    """The alert chosen and the note, checked as the API checks its body; every bad field
    named at once."""
    errors: list[FieldError] = []
    chosen = form.get("alert", "").strip()
    if not (chosen.isdigit() and 1 <= int(chosen) <= 2**31 - 1):
        errors.append(FieldError("alert", "no_alert", Text("choose the alert to acknowledge")))
    try:
        body = web.validated(AcknowledgementIn, web.nested({"note": form.get("note", "")}))
    except InvalidInput as exc:
        errors += exc.errors
    if errors:
        raise InvalidInput(errors)
    return int(chosen), body


@router.post(ACKNOWLEDGE)
def acknowledge(
    request: Request, user: web.PageUser, form: web.Form, reference: TripReference
) -> Response:
    """Acknowledge one of the trip's open alerts with a note; from the officers' list
    (`back=alerts`) or the trip's page, and back there."""
    node = node_of(request)
    back = form.get("back") == "alerts"
    try:
        alert_id, body = _acknowledgement(form)
        with node.transaction() as session:
            service.acknowledge(
                session, reference, alert_id, note=body.note, actor=user.name, now=node.clock.now()
            )
    except InvalidInput as exc:
        errors = web.errors_by_field(exc)
        if back:  # the list has a form per alert: the errors are named by the alert's
            failed = int(form["alert"]) if form.get("alert", "").isdigit() else None
            if failed is not None:
                errors = {f"{path}-{failed}": e for path, e in errors.items()}
            return _alerts(request, user, failed=failed, values=form, errors=errors, status=422)
        return _trip(request, user, reference, values=form, errors=errors, status=422)
    if back:
        return web.redirect("/seals/alerts?done=acknowledged")
    return web.redirect(f"/seals/trips/{reference}?done=acknowledged")
