"""Hypothesis-generated requests from `/openapi.json` (schemathesis): the server never 5xxes,
and its answers match the document it publishes."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from kiosk.queue.service import QueueService
from tests.support.server import LiveServer

# pytest-timeout bounds the whole run; no time budget here (a busy machine is slow, not wrong).
EXAMPLES_PER_OPERATION = 10


@pytest.mark.slow
def test_generated_requests_get_no_server_errors(
    live: LiveServer, tokens: dict[str, str], server_service: QueueService
) -> None:
    for _ in range(5):
        server_service.issue("NOI")
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    http = requests.Session()
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    tried: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            if isinstance(case.query, dict) and "wait" in case.query:
                case.query["wait"] = 0  # a long-poll would only spend time
            response = case.call(base_url=live.url, session=http, headers=headers, timeout=30)
            case.validate_response(
                response,
                checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
                headers=headers,
            )

        check()
    assert len(tried) >= 16
