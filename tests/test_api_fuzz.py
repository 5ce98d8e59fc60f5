"""Fuzz every operation of the API from its own OpenAPI document (schemathesis), as an
administrator and as a trader: no answer is a server error, and every answer conforms to the
documented schema, 4xx problems included. Bounded: a few examples per operation, a fixed seed
(derandomized), no shrinking, so that it runs in well under a minute and the same way each time.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance as status_conformance

from onewindow.app import create_app
from onewindow.kit import auth
from onewindow.kit.node import Node

EXAMPLES = int(
    os.environ.get("FUZZ_EXAMPLES", "6")
)  # per operation and per role: about 30 operations
# Answered when the node has no exchange configured (no keys, no CA): documented, not a crash.
UNCONFIGURED = {("POST", "/exchange/v1/messages"): 503}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_operation_fails_or_breaks_its_schema(node: Node) -> None:
    with node.transaction() as s:
        tokens = [
            auth.create_user(s, "admin1", auth.Role.ADMINISTRATOR, None),
            auth.create_user(s, "trader1", auth.Role.TRADER, "0101234567"),
        ]
    app = create_app(node)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    with TestClient(app):  # the lifespan runs, as when the node is served
        for operation in operations:
            _fuzz(operation, tokens)


def _fuzz(operation: Any, tokens: list[str]) -> None:
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    strategy = st.one_of(*(operation.as_strategy(generation_mode=m) for m in modes))

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        for token in tokens:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            checks = [
                response_schema_conformance,
                content_type_conformance,
                status_conformance,
            ]
            if UNCONFIGURED.get((case.method.upper(), case.path)) != response.status_code:
                checks.append(not_a_server_error)
            case.validate_response(response, checks=checks)

    run()
