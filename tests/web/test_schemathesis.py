"""Property-based API testing from the OpenAPI schema: no 5xx, and every response matches what the schema says.

The full app runs under uvicorn on loopback (the real middleware, database and Redis) and schemathesis calls
every operation with generated inputs, authenticated as a real user with a personal API token. Examples per
operation are bounded so the run stays fast.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from autodevops.web import create_app
from gitlab.fake_gitlab import FakeGitLab
from platform_support import MakeTenant, platform_settings

MAX_EXAMPLES = 12

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    # ST202: what the schema allows, the validators accept (a generated id that does not exist is a 404).
    checks.positive_data_acceptance,
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_url(pg_settings: Any) -> Iterator[str]:
    """The app served by uvicorn in a thread (its own event loop), against the migrated test database."""
    port = _free_port()
    # GitLab is unreachable from tests: a local fake speaking its API stands in (generated tokens are refused
    # there, as gitlab.com would refuse them).
    fake_gitlab = FakeGitLab()
    gitlab_server = fake_gitlab.start()
    # Configured like production: GitHub webhooks have their secret (unsigned calls are a 401, not a 503).
    app = create_app(
        platform_settings(
            github_webhook_secret="schemathesis-webhook-secret",
            gitlab_url=fake_gitlab.base_url,
            allow_insecure_git_urls=True,
            git_private_servers=[fake_gitlab.base_url.removeprefix("http://")],
        )
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    gitlab_server.stop()


def _schema() -> Any:
    # Built from the app's own document (no server needed) so every operation is its own test item.
    return schemathesis.openapi.from_dict(create_app(platform_settings()).openapi())


SCHEMA = _schema()
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in SCHEMA.get_all_operations())}
# Operations with inputs that can be made invalid (parameters or a request body).
WITH_INPUTS = sorted(
    label
    for label, operation in OPERATIONS.items()
    if any(True for _ in operation.iter_parameters()) or operation.get_request_payload_content_types()
)


@pytest.fixture
async def auth_headers(make_tenant: MakeTenant) -> dict[str, str]:
    tenant = await make_tenant()
    return tenant.headers


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_conforms_to_the_schema(label: str, live_url: str, auth_headers: dict[str, str]) -> None:
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=live_url, headers=auth_headers, checks=CHECKS)

    call()


@pytest.mark.parametrize("label", WITH_INPUTS)
def test_operation_rejects_invalid_input_with_a_4xx(label: str, live_url: str, auth_headers: dict[str, str]) -> None:
    """Inputs that violate the schema (wrong types, missing fields, bad formats) get a client error, not a 5xx."""
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=live_url,
            headers=auth_headers,
            checks=[checks.not_a_server_error, checks.negative_data_rejection, checks.content_type_conformance],
        )

    call()


def test_every_api_route_is_in_the_schema() -> None:
    from fastapi.routing import APIRoute

    from autodevops.api import API_PREFIX, ROUTERS

    routes = {
        f"{method} {API_PREFIX}{route.path}"
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method != "HEAD"
    }
    assert len(routes) > 40
    assert sorted(routes - set(OPERATIONS)) == []
    assert "GET /api/v1/pipelines/{pipeline_id}" in OPERATIONS
