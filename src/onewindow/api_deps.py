"""FastAPI dependencies shared by every domain's router: the node and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from onewindow import auth
from onewindow.node import Node

_bearer = HTTPBearer(auto_error=False, description="API token from `onewindow user add`")


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def get_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    return credentials.credentials if credentials else None


NodeDep = Annotated[Node, Depends(get_node)]
TokenDep = Annotated[str | None, Depends(get_token)]


def principal(session: Session, token: str | None) -> auth.Principal:
    return auth.authenticate(session, token)
