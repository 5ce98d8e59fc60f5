"""FastAPI dependencies shared by every domain's router: the node and who is calling.

`authorize` runs first on every route (the app factory attaches it to each router): it finds
the route's rule in `access`, authenticates the token (one query) and checks the role before
any parameter or body is validated, so a caller without a token gets 401 and a caller of the
wrong role 403, whatever it sent. Handlers get the result through `TokenDep` (FastAPI solves
a dependency once per request) and `principal()` does not ask the database again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from onewindow import access, auth
from onewindow.errors import Forbidden
from onewindow.node import Node

_bearer = HTTPBearer(auto_error=False, description="API token from `onewindow user add`")


@dataclass(frozen=True)
class Caller:
    """The bearer token sent, and its user once `authorize` has checked it."""

    token: str | None
    principal: auth.Principal | None = None


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def authorize(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    token = credentials.credentials if credentials else None
    route = request.scope.get("route")
    path = getattr(route, "path_format", request.url.path)
    rule = access.api_rule(request.method, path)
    if rule is None:  # fails closed; tests/test_roles.py keeps this from happening
        raise Forbidden(f"{request.method} {path} has no access rule")
    if rule.public:
        return Caller(token)
    node = get_node(request)
    with node.transaction() as session:
        actor = auth.authenticate(session, token, node.clock.now())
    access.check_api(actor, request.method, path)
    return Caller(token, actor)


def get_token(caller: Annotated[Caller, Depends(authorize)]) -> Caller:
    return caller


NodeDep = Annotated[Node, Depends(get_node)]
TokenDep = Annotated[Caller, Depends(get_token)]


def principal(session: Session, caller: Caller) -> auth.Principal:
    """Who is calling: checked already by `authorize`, else (a public route) checked here."""
    if caller.principal is not None:
        return caller.principal
    return auth.authenticate(session, caller.token)
