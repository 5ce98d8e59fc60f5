"""REST look-ups of the national reference lists, for any signed-in user (portals' dropdowns
and office filters). Loading a list is a host command (`onewindow reference import`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from onewindow.kit.api_deps import NodeDep, TokenDep, principal
from onewindow.reference import lists, service
from onewindow.reference.schemas import ListEntries, ListRead

router = APIRouter(prefix="/api/v1/reference", tags=["reference"])


@router.get("/lists", response_model=list[ListRead])
def all_lists(node: NodeDep, token: TokenDep, on: date | None = None) -> Any:
    """Every list the node keeps, with the number of entries in force on a date (today by
    default)."""
    with node.transaction() as session:
        principal(session, token)
        return service.summaries(session, on or node.clock.now().date())


@router.get("/lists/{name}", response_model=ListEntries)
def one_list(name: str, node: NodeDep, token: TokenDep, on: date | None = None) -> Any:
    """The entries of a list in force on a date (today by default), by code."""
    with node.transaction() as session:
        principal(session, token)
        day = on or node.clock.now().date()
        found = service.entries(session, name, day)
        kind = lists.code_list(name)
        return ListEntries(
            name=kind.name, title=kind.title, on=day, entries=[service.read(e) for e in found]
        )
