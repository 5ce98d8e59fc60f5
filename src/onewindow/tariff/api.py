"""REST look-ups of the tariff schedule and official exchange rates; publishing them to the
partners, and the versions partners published here."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.tariff import nomenclature, publishing, service
from onewindow.tariff.schemas import (
    PartnerScheduleRead,
    PublicationRead,
    PublishRequest,
    TariffLineRead,
)

router = APIRouter(prefix="/api/v1", tags=["tariff"])


@router.get("/tariff/lines/{code}")
def line(code: str, node: NodeDep, token: TokenDep, on: date | None = None) -> Any:
    """The tariff line in force on a date (today by default), with its HS 2022 hierarchy."""
    with node.transaction() as session:
        principal(session, token)
        found = service.line_in_force(session, code, on or node.clock.now().date())
        return {
            "line": TariffLineRead.model_validate(found),
            "hs": [e.__dict__ for e in nomenclature.hierarchy(code[:6])],
        }


@router.get("/tariff/lines", response_model=list[TariffLineRead])
def lines(
    node: NodeDep,
    token: TokenDep,
    prefix: str = Query("", pattern=r"^\d{0,8}$"),
    limit: int = Query(100, ge=1, le=1000),
) -> Any:
    with node.transaction() as session:
        principal(session, token)
        return service.list_lines(session, prefix, limit)


@router.get("/rates/{currency}")
def rate(currency: str, node: NodeDep, token: TokenDep, on: date | None = None) -> Any:
    """The official rate (national currency per unit) in force on a date."""
    with node.transaction() as session:
        principal(session, token)
        day = on or node.clock.now().date()
        value = service.rate_in_force(session, currency.upper(), day)
        return {
            "currency": currency.upper(),
            "rate": value,
            "on": day,
            "national_currency": node.settings.currency,
        }


@router.post("/tariff/publications", status_code=201, response_model=PublicationRead)
def publish(body: PublishRequest, node: NodeDep, token: TokenDep) -> Any:
    """Publish the schedule and rates in force from `effective` to the partners, as the
    next version (supervisors and administrators)."""
    with node.transaction() as session:
        return publishing.publish(
            session,
            principal(session, token),
            home=publishing.Home.of(node.settings),
            effective=body.effective,
            to=body.to,
            now=node.clock.now(),
        )


@router.get("/tariff/partners", response_model=list[PartnerScheduleRead])
def partners(
    node: NodeDep, token: TokenDep, country: str | None = Query(None, pattern=r"^[A-Z]{2}$")
) -> Any:
    """The versions of their schedules that partners published to this node, by country,
    newest first."""
    with node.transaction() as session:
        return publishing.partner_schedules(session, principal(session, token), country)
