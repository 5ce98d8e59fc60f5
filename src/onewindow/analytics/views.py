"""The analysts' dashboard: each chart with its table and a CSV download; the period and the
office are filters in the URL (`?from=2026-11-01&to=2026-11-30&office=VNHPH`), so a view can
be bookmarked and shared."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from onewindow.analytics import service
from onewindow.analytics.service import CHARTS, Table
from onewindow.declarations.statistics import Period
from onewindow.kit import charts, web
from onewindow.kit.api_deps import node_of
from onewindow.kit.errors import FieldError, InvalidInput, NotFound, Text
from onewindow.kit.i18n import N_

router = APIRouter(include_in_schema=False)
LINKS = [web.Link(N_("Analytics"), "/analytics")]
MAX_DAYS = 366
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
Office = Annotated[str | None, Query(max_length=5, pattern=r"^[A-Z]{2}[A-Z2-9]{3}$")]


def _period(today: date, start: date | None, end: date | None, office: str | None) -> Period:
    end = end or today
    start = start or end - timedelta(days=29)
    errors = []
    if start > end:
        errors.append(FieldError("from", "after_to", Text("the first day is after the last")))
    elif (end - start).days >= MAX_DAYS:
        errors.append(
            FieldError("from", "too_long", Text("at most {days} days at a time", days=MAX_DAYS))
        )
    if errors:
        raise InvalidInput(errors)
    midnight = datetime.combine(start, time(), UTC)
    return Period(midnight, datetime.combine(end + timedelta(days=1), time(), UTC), office)


def _chart(table: Table) -> str:
    if table.over_time:
        return charts.columns(table.title, table.bars)
    return charts.bars(table.title, table.bars)


@router.get("/analytics")
def dashboard(
    request: Request,
    user: web.PageUser,
    start: From = None,
    end: To = None,
    office: Office = None,
) -> Response:
    period = _period(node_of(request).clock.now().date(), start, end, office)
    tables = service.tables(node_of(request), period, list(CHARTS))
    query = f"from={period.start.date()}&to={(period.end - timedelta(days=1)).date()}"
    if office:
        query += f"&office={office}"
    values = {
        "tables": [(t, _chart(t)) for t in tables],
        "start": period.start.date(),
        "end": (period.end - timedelta(days=1)).date(),
        "office": office or "",
        "query": query,
    }
    return web.render(request, "analytics/dashboard.html", values, user=user)


@router.get("/analytics/{chart}.csv")
def download(
    request: Request,
    user: web.PageUser,
    chart: str,
    start: From = None,
    end: To = None,
    office: Office = None,
) -> Response:
    if chart not in CHARTS:
        raise NotFound(
            Text("no chart {chart!r}: one of {charts}", chart=chart, charts=", ".join(CHARTS))
        )
    period = _period(node_of(request).clock.now().date(), start, end, office)
    (table,) = service.tables(node_of(request), period, [chart])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    name = f"{chart}-{period.start.date()}-{(period.end - timedelta(days=1)).date()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
