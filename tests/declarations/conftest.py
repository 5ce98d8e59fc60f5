from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest

from onewindow.declarations import service
from onewindow.declarations.context import context
from onewindow.declarations.readmodel import to_read
from onewindow.declarations.schemas import DeclarationRead
from onewindow.kit.auth import SYSTEM, Principal
from onewindow.kit.node import Node
from onewindow.origin import CertificateCreate, record_certificate

DATA = resources.files("onewindow") / "data"
BASE: dict[str, Any] = json.loads((DATA / "sample_declaration.json").read_text())
CERT: dict[str, Any] = json.loads((DATA / "sample_certificate.json").read_text())


@pytest.fixture
def doc() -> Callable[..., dict[str, Any]]:
    """The README's declaration; keyword arguments replace top-level keys."""

    def make(**changes: Any) -> dict[str, Any]:
        data = copy.deepcopy(BASE)
        data.update(changes)
        return data

    return make


@pytest.fixture
def certificate(node: Node) -> str:
    with node.transaction() as s:
        record_certificate(s, CertificateCreate.model_validate(CERT), node.clock.now())
    return str(CERT["reference"])


@pytest.fixture
def lodge(node: Node) -> Callable[..., DeclarationRead]:
    def run(data: dict[str, Any], actor: Principal = SYSTEM) -> DeclarationRead:
        with node.transaction() as s:
            number = service.lodge(s, actor, [data], context(node))[0]
            return to_read(service.get(s, actor, number), SYSTEM)

    return run
